"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

from rnnlab.models import ModelShape, RNNForecaster
from rnnlab.settings import RunConfig


def make_forecaster(cell: str = "lstm", input_size: int = 1, hidden_size: int = 64, num_layers: int = 2,
                    horizon: int = 1, **settings) -> RNNForecaster:
    """A forecaster built from settings, as the pipeline builds it."""
    cfg = RunConfig(cell=cell, hidden_size=hidden_size, num_layers=num_layers, **settings).validate()
    return RNNForecaster(cfg, ModelShape("forecast", input_size=input_size, output_size=horizon))
