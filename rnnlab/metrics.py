"""Forecast metrics, computed on the same windows for the model and every baseline
(:mod:`rnnlab.baselines`). All functions take arrays in original units shaped ``(n_windows, horizon)``."""

from __future__ import annotations

import math

import numpy as np

METRIC_NAMES = ("mae", "rmse", "mape", "smape", "mase", "directional_accuracy", "r2")




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




