"""A forecasting run and its prediction helpers (batched: never one window at a time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from rnnlab.baselines import LinearAR
from rnnlab.calendar import future_index
from rnnlab.models import RNNForecaster
from rnnlab.preprocessing import Preprocessor, Windows
from rnnlab.run import Run
from rnnlab.tasks.forecast.prepared import Prepared, prepare

if TYPE_CHECKING:  # pragma: no cover
    from rnnlab.tasks.forecast.evolution import Evolution


@torch.no_grad()
def predict_scaled(model: RNNForecaster, X: np.ndarray | torch.Tensor, chunk: int = 2048) -> np.ndarray:
    """Model outputs in model space for all windows, in batched chunks: ``(n, horizon)``."""
    model.eval()
    Xt = torch.as_tensor(X, dtype=torch.float32)
    outs = [model(Xt[i : i + chunk])[0] for i in range(0, len(Xt), chunk)]
    if not outs:
        return np.empty((0, model.shape.output_size))
    return torch.cat(outs).numpy().astype(np.float64)


@torch.no_grad()
def hidden_states(model: RNNForecaster, X: np.ndarray | torch.Tensor, chunk: int = 2048) -> np.ndarray:
    """Top-layer hidden state at every step of every window: ``(n, seq_len, H * directions)``."""
    model.eval()
    Xt = torch.as_tensor(X, dtype=torch.float32)
    outs = [model(Xt[i : i + chunk])[1] for i in range(0, len(Xt), chunk)]
    return torch.cat(outs).numpy() if outs else np.empty((0, Xt.shape[1], model.state_width))


@torch.no_grad()
def anchor_states(model: RNNForecaster, X: np.ndarray | torch.Tensor, chunk: int = 1024) -> np.ndarray:
    """State at the anchor of every window (what the head reads, :meth:`RNNForecaster.summary`), in
    batched chunks without keeping every step: ``(n, H * directions)`` float32."""
    model.eval()
    Xt = torch.as_tensor(X, dtype=torch.float32)
    outs = [model.summary(model.encode(Xt[i : i + chunk])[0]) for i in range(0, len(Xt), chunk)]
    return torch.cat(outs).numpy() if outs else np.empty((0, model.state_width), dtype=np.float32)


def predict_original(model: RNNForecaster, pre: Preprocessor, windows: Windows) -> np.ndarray:
    """Forecasts in original units for ``windows``: ``(n, horizon)``."""
    return pre.inverse_targets(predict_scaled(model, windows.X), windows.base)


@dataclass(kw_only=True)
class ForecastRun(Run):
    """A trained forecaster with everything needed to evaluate, inspect, save and reuse it."""

    model: RNNForecaster
    preprocessor: Preprocessor  # fitted on the training span
    linear: LinearAR  # the linear-AR baseline, fitted on the same training windows
    predictions: pd.DataFrame | None = None  # test-span predictions, long format
    evolution: Evolution | None = None  # test-span states at a few epochs, when recorded during training
    _prepared: Prepared | None = field(default=None, repr=False)

    def prepared(self) -> Prepared:
        """The windows of the run's data, rebuilt with the run's fitted preprocessor (cached)."""
        if self._prepared is None:
            self._prepared = prepare(self.dataset, self.config, self.preprocessor)
        return self._prepared

    def predict_windows(self, windows: Windows) -> np.ndarray:
        return predict_original(self.model, self.preprocessor, windows)

    def forecast(self) -> pd.DataFrame:
        """Forecast beyond the end of the data from the last window: time, step, forecast."""
        prep = self.prepared()
        pred = self.predict_windows(prep.last_window())[0]
        times = future_index(prep.index, self.config.horizon)
        return pd.DataFrame({"time": times, "step": np.arange(1, len(pred) + 1), "forecast": pred})
