"""The baselines of a prepared series (naive, seasonal naive, linear AR, ETS, Theta) and the conformal interval
calibration of every forecaster, shared by scoring (:mod:`.evaluate`) and the run's bands (:mod:`.run`)."""

from __future__ import annotations

import numpy as np

from rnnlab.baselines import LinearAR, naive_forecast, seasonal_naive_forecast
from rnnlab.intervals import Calibration, calibrate, parse_levels
from rnnlab.metrics import mase_scale
from rnnlab.preprocessing import Windows
from rnnlab.statpeers import PEERS, fit_peers
from rnnlab.tasks.forecast.prepared import Prepared

BASELINES = ("naive", "seasonal_naive", "linear", *PEERS)


def stat_peers(prep: Prepared) -> dict:
    """ETS and Theta fitted on ``prep``'s training span (cached on it); missing ones are in ``prep.peer_notes``."""
    if prep.peers is None:
        prep.peers, prep.peer_notes = fit_peers(prep.y, prep.split.train_end, int(prep.season))
    return prep.peers


def baseline_forecasts(prep: Prepared, linear: LinearAR, windows: Windows) -> dict[str, np.ndarray]:
    """All baselines for ``windows`` in original units: name -> ``(n, horizon)``."""
    h = prep.preprocessor.horizon
    return {
        "naive": naive_forecast(windows.base, h),
        "seasonal_naive": seasonal_naive_forecast(prep.y, windows.anchors, h, prep.season),
        "linear": prep.preprocessor.inverse_targets(linear.predict(windows.X), windows.base),
        **{name: states.forecast(windows.anchors, h) for name, states in stat_peers(prep).items()},
    }



def interval_method(prep: Prepared) -> tuple[str, str]:
    """The conformal method of ``prep``'s settings (auto: adaptive for log-return targets) and why."""
    chosen = prep.config.interval_method
    if chosen != "auto":
        return chosen, f"{chosen} (chosen by the user)"
    if prep.preprocessor.transform_ == "log_return":
        return "adaptive", ("auto: adaptive, as the target is modelled in log-returns (price-like, volatility "
                            "that moves): residuals are scaled by the input window's mean absolute change")
    return "absolute", f"auto: absolute residuals (the target is modelled as {prep.preprocessor.transform_})"


def calibrate_span(prep: Prepared, val_forecasts: dict[str, np.ndarray]) -> Calibration:
    """Conformal half-widths of every forecaster from its validation-span forecasts."""
    method, why = interval_method(prep)
    w = prep.val
    levels = parse_levels(prep.config.interval_levels)
    cal = Calibration(method=method, levels=levels, seq_len=prep.preprocessor.seq_len)
    return calibrate(w.y_true, val_forecasts, cal.scale(prep.y, w.anchors), levels, method, cal.seq_len, why)


def msis_scale(prep: Prepared) -> float:
    """MSIS denominator: in-sample MAE of the seasonal-naive forecast on the training span (M4)."""
    return mase_scale(prep.y[: prep.split.train_end], max(1, int(prep.season)))
