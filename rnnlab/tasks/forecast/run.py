"""A forecasting run and its prediction helpers (batched: never one window at a time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from rnnlab.baselines import LinearAR
from rnnlab.calendar import future_index
from rnnlab.intervals import Calibration, level_label
from rnnlab.models import RNNForecaster
from rnnlab.preprocessing import Preprocessor, Windows
from rnnlab.run import Run
from rnnlab.tasks.forecast.peers import baseline_forecasts, calibrate_span
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
    calibration: Calibration | None = None  # conformal interval half-widths from the validation span
    _prepared: Prepared | None = field(default=None, repr=False)

    def prepared(self) -> Prepared:
        """The windows of the run's data, rebuilt with the run's fitted preprocessor (cached)."""
        if self._prepared is None:
            self._prepared = prepare(self.dataset, self.config, self.preprocessor)
        return self._prepared

    def predict_windows(self, windows: Windows) -> np.ndarray:
        return predict_original(self.model, self.preprocessor, windows)

    def interval_calibration(self) -> Calibration:
        """The run's interval calibration; computed from the validation span when the run has none
        (runs saved before intervals existed, or not scored yet)."""
        if self.calibration is None:
            prep = self.prepared()
            w = prep.val
            val_forecasts = {"model": self.predict_windows(w), **baseline_forecasts(prep, self.linear, w)}
            self.calibration = calibrate_span(prep, val_forecasts)
        return self.calibration

    def predict_intervals(self, y: np.ndarray, windows: Windows,
                          point: np.ndarray | None = None) -> dict[float, tuple[np.ndarray, np.ndarray]]:
        """The model's bands ``level -> (lower, upper)``, each ``(n, horizon)``, for ``windows`` of the series ``y``."""
        cal = self.interval_calibration()
        point = self.predict_windows(windows) if point is None else point
        return cal.bands("model", point, cal.scale(y, windows.anchors))

    def forecast(self) -> pd.DataFrame:
        """Forecast beyond the end of the data from the last window: time, step, forecast and the
        conformal bounds ``lower_80``, ``upper_80``, ... of every interval level."""
        prep = self.prepared()
        w = prep.last_window()
        pred = self.predict_windows(w)
        times = future_index(prep.index, self.config.horizon)
        frame = pd.DataFrame({"time": times, "step": np.arange(1, pred.shape[1] + 1), "forecast": pred[0]})
        for level, (lo, hi) in self.predict_intervals(prep.y, w, pred).items():
            frame[f"lower_{level_label(level)}"] = lo[0]
            frame[f"upper_{level_label(level)}"] = hi[0]
        return frame
