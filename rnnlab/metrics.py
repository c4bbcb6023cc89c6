"""Forecast metrics and baselines, computed on the same windows as the model.

All functions take arrays in original units shaped ``(n_windows, horizon)``. Baselines:

* ``naive``: persistence, every step predicts the window's last value ``y[t]``;
* ``seasonal_naive``: ``y[t + k - m * ceil(k / m)]``, the value one season before the target;
* ``linear``: a ridge-regularised linear autoregression on the *same* scaled input window
  predicting the *same* transformed targets, fitted on the training windows only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

METRIC_NAMES = ("mae", "rmse", "mape", "smape", "mase", "directional_accuracy", "r2")
FREQ_SEASON = {"h": 24, "H": 24, "D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4}


def infer_season(freq: str | None) -> int:
    """Season length from a pandas frequency alias: hourly 24, daily 7, business-daily 5,
    weekly 52, monthly 12, quarterly 4; 1 (no season) when unknown or irregular.

    Trading-day series (stocks: business days that also skip holidays) have no regular pandas
    frequency; :func:`rnnlab.pipeline.calendar_freq` resolves them to ``"B"``, so their season
    is 5, a trading week (the seasonal naive repeats the value five trading days earlier, the same
    weekday unless a holiday intervened), and forecasts beyond the data fall on business days."""
    if not freq:
        return 1
    base = freq.split("-")[0].lstrip("0123456789")
    return FREQ_SEASON.get(base, FREQ_SEASON.get(base.upper(), 1))


def mase_scale(y_train: np.ndarray, m: int = 1) -> float:
    """In-sample MAE of the (seasonal) naive forecast on the training span (MASE denominator)."""
    y = np.asarray(y_train, dtype=np.float64)
    if len(y) <= m:
        m = 1
    if len(y) < 2:
        return float("nan")
    scale = float(np.mean(np.abs(y[m:] - y[:-m])))
    return scale if scale > 0 else float("nan")


def forecast_metrics(y_true: np.ndarray, y_pred: np.ndarray, base: np.ndarray, scale: float) -> dict[str, float]:
    """Metrics over all windows and steps.

    * ``mape`` ignores targets with ``|y| < 1e-8 * max|y|`` (and is NaN if none remain);
    * ``smape`` in percent, 0/0 terms count as 0;
    * ``mase`` divides MAE by ``scale`` (training-span naive MAE);
    * ``directional_accuracy``: share of steps where the predicted change from ``y[t]`` has the
      sign of the true change (steps with no true change are skipped);
    * ``r2``: 1 - SSE / SST over all points.
    """
    yt = np.asarray(y_true, dtype=np.float64)
    yp = np.asarray(y_pred, dtype=np.float64)
    base = np.asarray(base, dtype=np.float64).reshape(-1, 1)
    mask = np.isfinite(yt) & np.isfinite(yp)
    if not mask.any():
        return {k: float("nan") for k in METRIC_NAMES}
    err = (yp - yt)[mask]
    t, p = yt[mask], yp[mask]
    mae = float(np.mean(np.abs(err)))
    rmse = float(math.sqrt(np.mean(err**2)))
    tol = 1e-8 * max(1.0, float(np.max(np.abs(t))))
    nz = np.abs(t) > tol
    mape = float(np.mean(np.abs(err[nz] / t[nz])) * 100) if nz.any() else float("nan")
    denom = np.abs(t) + np.abs(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        sm = np.where(denom > 0, 2 * np.abs(err) / denom, 0.0)
    smape = float(np.mean(sm) * 100)
    mase = mae / scale if scale and math.isfinite(scale) and scale > 0 else float("nan")
    b = np.broadcast_to(base, yt.shape)[mask]
    true_dir, pred_dir = np.sign(t - b), np.sign(p - b)
    moving = true_dir != 0
    da = float(np.mean(true_dir[moving] == pred_dir[moving])) if moving.any() else float("nan")
    sst = float(np.sum((t - t.mean()) ** 2))
    r2 = 1 - float(np.sum(err**2)) / sst if sst > 0 else float("nan")
    return {"mae": mae, "rmse": rmse, "mape": mape, "smape": smape, "mase": mase, "directional_accuracy": da, "r2": r2}


def per_step_errors(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, list[float]]:
    """MAE and RMSE for each horizon step (index 0 = one step ahead)."""
    err = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        mae = np.nanmean(np.abs(err), axis=0)
        rmse = np.sqrt(np.nanmean(err**2, axis=0))
    return {"mae": [float(v) for v in mae], "rmse": [float(v) for v in rmse]}


def skill_score(model_rmse: float, reference_rmse: float) -> float:
    """``1 - RMSE_model / RMSE_reference``: > 0 beats the reference, 0 ties, < 0 is worse."""
    if not reference_rmse or not math.isfinite(reference_rmse):
        return float("nan")
    return 1.0 - model_rmse / reference_rmse


# ----------------------------------------------------------------------------- baselines
def naive_forecast(base: np.ndarray, horizon: int) -> np.ndarray:
    """Persistence: ``(n, horizon)`` copies of each window's last value."""
    return np.repeat(np.asarray(base, dtype=np.float64)[:, None], horizon, axis=1)


def seasonal_naive_forecast(y: np.ndarray, anchors: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """``y[t + k - m * ceil(k / m)]`` for k = 1..horizon; falls back to ``y[t]`` where the
    season reaches before the start of the series (or when ``season <= 1``)."""
    y = np.asarray(y, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.int64)
    k = np.arange(1, horizon + 1)
    if season <= 1:
        return naive_forecast(y[anchors], horizon)
    lag_back = season * np.ceil(k / season).astype(np.int64)  # (h,)
    idx = anchors[:, None] + k[None, :] - lag_back[None, :]  # (n, h)
    fallback = np.broadcast_to(anchors[:, None], idx.shape)
    idx = np.where(idx >= 0, idx, fallback)
    return y[idx]


@dataclass
class LinearAR:
    """Ridge regression from a flattened input window to the transformed targets.

    Fitted on training windows only. ``coef_`` is ``(L*F + 1, horizon)`` with the bias last.
    """

    alpha: float = 1e-3  # ridge penalty relative to the mean diagonal of X'X
    coef_: np.ndarray | None = None

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "LinearAR":
        A = np.hstack([X.reshape(len(X), -1).astype(np.float64), np.ones((len(X), 1))])
        Yd = Y.astype(np.float64)
        gram = A.T @ A
        reg = self.alpha * float(np.trace(gram)) / gram.shape[0] * np.eye(gram.shape[0])
        reg[-1, -1] = 0.0  # do not shrink the bias
        self.coef_ = np.linalg.solve(gram + reg, A.T @ Yd)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.coef_ is None:
            raise RuntimeError("LinearAR is not fitted")
        A = np.hstack([X.reshape(len(X), -1).astype(np.float64), np.ones((len(X), 1))])
        return A @ self.coef_

    def to_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "coef_": None if self.coef_ is None else self.coef_.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LinearAR":
        obj = cls(alpha=float(d.get("alpha", 1e-3)))
        if d.get("coef_") is not None:
            obj.coef_ = np.asarray(d["coef_"], dtype=np.float64)
        return obj
