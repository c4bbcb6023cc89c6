"""Shared fixtures: small real series and tiny configs that train in about a second."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab.data import Dataset
from rnnlab.settings import RunConfig


@pytest.fixture(autouse=True)
def run_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own empty run store (RNNLAB_HOME), so nothing is written to ./runs and no
    test sees another's runs; the store mode is the default ("store")."""
    root = tmp_path_factory.mktemp("store")
    monkeypatch.setenv("RNNLAB_HOME", str(root))
    monkeypatch.delenv("RNNLAB_STORE_MODE", raising=False)
    return root


def make_dataset(values: np.ndarray, name: str = "synthetic", freq: str = "D", extra: dict | None = None) -> Dataset:
    index = pd.date_range("2020-01-01", periods=len(values), freq=freq, name="time")
    frame = pd.DataFrame({"y": np.asarray(values, dtype=np.float64)}, index=index)
    for k, v in (extra or {}).items():
        frame[k] = np.asarray(v, dtype=np.float64)
    return Dataset(name=name, frame=frame, target="y", freq=freq, description="synthetic test series")


@pytest.fixture
def sine_dataset() -> Dataset:
    """A learnable, stationary series: two sines plus a little noise (600 daily rows)."""
    rng = np.random.default_rng(0)
    t = np.arange(600)
    y = 10 + 3 * np.sin(2 * np.pi * t / 25) + np.sin(2 * np.pi * t / 7) + 0.1 * rng.standard_normal(600)
    return make_dataset(y, "sine")


@pytest.fixture
def trend_dataset() -> Dataset:
    """A growing random walk with drift whose test span leaves the training range."""
    rng = np.random.default_rng(1)
    y = 100 + np.cumsum(0.5 + rng.standard_normal(800))
    return make_dataset(y, "trend")


@pytest.fixture
def tiny_config() -> RunConfig:
    return RunConfig(dataset="synthetic", seq_len=16, horizon=3, hidden_size=16, num_layers=1, epochs=3,
                     batch_size=32, patience=0, lr=5e-3)

