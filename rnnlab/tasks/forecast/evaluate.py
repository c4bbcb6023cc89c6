"""Scoring a forecaster: the model and every baseline on the same windows, in original units."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from rnnlab.baselines import LinearAR
from rnnlab.calendar import future_index
from rnnlab.intervals import level_keys, level_label, score_intervals
from rnnlab.metrics import forecast_metrics, per_step_errors, skill_score
from rnnlab.models import RNNForecaster
from rnnlab.preprocessing import Windows
from rnnlab.tasks.forecast.peers import BASELINES, baseline_forecasts, calibrate_span, msis_scale
from rnnlab.tasks.forecast.prepared import Prepared
from rnnlab.tasks.forecast.run import ForecastRun, predict_original

__all__ = ["BASELINES", "baseline_forecasts", "evaluate", "score_span"]


def score_span(prep: Prepared, model: RNNForecaster, linear: LinearAR,
               span: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Metrics of the model and baselines on one span; also returns the forecasts."""
    w = prep.span(span)
    forecasts = {"model": predict_original(model, prep.preprocessor, w), **baseline_forecasts(prep, linear, w)}
    table = {name: forecast_metrics(w.y_true, f, w.base, prep.mase_scale) for name, f in forecasts.items()}
    return table, forecasts


def evaluate(run: ForecastRun) -> ForecastRun:
    """Fill ``run.metrics`` and ``run.predictions`` from the test span (and validation span).

    ``metrics = {"test": {"model": {...}, "naive": {...}, "seasonal_naive": {...}, "linear": {...}},
    "val": {...same...}, "per_step": {"model": {"mae": [...], "rmse": [...]}, ...},
    "skill_vs_naive": float, "skill_vs_seasonal_naive": float, "skill_vs_linear": float,
    "n_test_windows": int, "season": int, "transform": str, "transform_reason": str}``.
    """
    prep = run.prepared()
    test_table, forecasts = score_span(prep, run.model, run.linear, "test")
    val_table, val_forecasts = score_span(prep, run.model, run.linear, "val")
    run.calibration = calibrate_span(prep, val_forecasts)
    w = prep.test
    scale = run.calibration.scale(prep.y, w.anchors)
    metrics: dict[str, Any] = {
        "test": test_table,
        "val": val_table,
        "per_step": {name: per_step_errors(w.y_true, f) for name, f in forecasts.items()},
        "n_test_windows": len(w),
        "season": int(prep.season),
        "transform": prep.preprocessor.transform_,
        "transform_reason": prep.preprocessor.transform_reason_,
        "intervals": score_intervals(run.calibration, w.y_true, forecasts, scale, msis_scale(prep)),
    }
    metrics["peer_notes"] = list(prep.peer_notes)
    metrics["peers"] = {name: st.words for name, st in (prep.peers or {}).items()}
    for b in (b for b in BASELINES if b in test_table):
        metrics[f"skill_vs_{b}"] = skill_score(test_table["model"]["rmse"], test_table[b]["rmse"])
    run.metrics = metrics
    run.predictions = predictions_frame(prep, w, forecasts, run.calibration.bands("model", forecasts["model"], scale))
    return run


def predictions_frame(prep: Prepared, w: Windows, forecasts: dict[str, np.ndarray],
                      bands: dict[float, tuple[np.ndarray, np.ndarray]] | None = None) -> pd.DataFrame:
    """Long table: one row per window and step with actual, model and baseline values, and the
    model's interval bounds ``lower_80``, ``upper_80``, ... when ``bands`` are given."""
    n, h = w.y_true.shape
    idx = prep.index
    target_rows = w.anchors[:, None] + np.arange(1, h + 1)[None, :]
    extended = idx.append(future_index(idx, h)) if len(idx) else idx
    frame = pd.DataFrame({
        "anchor_time": np.repeat(idx[w.anchors].to_numpy(), h),
        "target_time": extended[target_rows.ravel()].to_numpy(),
        "step": np.tile(np.arange(1, h + 1), n),
        "actual": w.y_true.ravel(),
    })
    for name, f in forecasts.items():
        frame[name] = f.ravel()
    for level, (lo, hi) in (bands or {}).items():
        frame[f"lower_{level_label(level)}"] = lo.ravel()
        frame[f"upper_{level_label(level)}"] = hi.ravel()
    return frame


def metrics_table(run: ForecastRun, span: str = "test") -> pd.DataFrame:
    """Model vs baselines as a DataFrame (rows: model, naive, seasonal_naive, linear) with a
    skill-vs-naive column."""
    table = pd.DataFrame(run.metrics[span]).T
    naive_rmse = table.loc["naive", "rmse"]
    table["skill_vs_naive"] = [skill_score(r, naive_rmse) for r in table["rmse"]]
    intervals = run.metrics.get("intervals") if span == "test" else None
    if isinstance(intervals, dict):  # coverage_80, coverage_95, ... and msis of each row
        for key in level_keys(intervals):
            table[f"coverage_{level_label(float(key))}"] = [intervals[key].get(w, {}).get("coverage", math.nan)
                                                            for w in table.index]
        table["msis"] = [intervals.get("msis", {}).get(w, math.nan) for w in table.index]
    return table


def is_close_to_naive(run: ForecastRun, tolerance: float = 0.02) -> bool:
    """True when the model is barely distinguishable from persistence (|skill| < tolerance)."""
    s = run.metrics.get("skill_vs_naive", float("nan"))
    return bool(math.isfinite(s) and abs(s) < tolerance)
