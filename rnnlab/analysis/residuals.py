"""Forecast errors: over time, distribution, autocorrelation, by step / calendar / regime, worst windows.

Convention everywhere: ``error = forecast - actual`` in original units (positive = over-forecast).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnlab.baselines import naive_forecast
from rnnlab.errors import ConfigError
from rnnlab.preprocessing import Windows
from rnnlab.stationarity import acf as stationarity_acf
from rnnlab.tasks.forecast import ForecastRun, predict_original

from ._common import run_parts, times_of, window_inputs_original
from .states import _row_nanmean, probe_properties


def forecast_table(run: ForecastRun, span: str = "test") -> pd.DataFrame:
    """One row per window and step: window, anchor, anchor_time, target_time, step, actual,
    forecast, naive, error, naive_error (rows whose target lies beyond the data are dropped)."""
    prep, model = run_parts(run)
    w = prep.windows_of(span)
    pred = predict_original(model, prep.preprocessor, w)  # (n, h)
    n, h = pred.shape
    naive = naive_forecast(w.base, h)  # (n, h)
    target_rows = w.anchors[:, None] + np.arange(1, h + 1)[None, :]  # (n, h)
    frame = pd.DataFrame({
        "window": np.repeat(np.arange(n), h),
        "anchor": np.repeat(w.anchors, h),
        "anchor_time": np.repeat(prep.index[w.anchors].to_numpy(), h),
        "target_time": times_of(prep, target_rows.ravel()).to_numpy() if n else np.array([], dtype="datetime64[ns]"),
        "step": np.tile(np.arange(1, h + 1), n),
        "actual": w.y_true.ravel(),
        "forecast": pred.ravel(),
        "naive": naive.ravel(),
    })
    frame["error"] = frame["forecast"] - frame["actual"]
    frame["naive_error"] = frame["naive"] - frame["actual"]
    return frame[np.isfinite(frame["actual"].to_numpy())].reset_index(drop=True)


def _summary(err: np.ndarray, naive_err: np.ndarray | None = None) -> dict[str, float]:
    err = err[np.isfinite(err)]
    out = {"n": len(err),
           "mae": float(np.mean(np.abs(err))) if len(err) else float("nan"),
           "rmse": float(np.sqrt(np.mean(err**2))) if len(err) else float("nan"),
           "bias": float(np.mean(err)) if len(err) else float("nan")}
    if naive_err is not None:
        ne = naive_err[np.isfinite(naive_err)]
        out["naive_mae"] = float(np.mean(np.abs(ne))) if len(ne) else float("nan")
        out["naive_rmse"] = float(np.sqrt(np.mean(ne**2))) if len(ne) else float("nan")
        usable = out["naive_rmse"] and math.isfinite(out["naive_rmse"])
        out["skill_vs_naive"] = 1 - out["rmse"] / out["naive_rmse"] if usable else float("nan")
    return out


def errors_over_time(table: pd.DataFrame, step: int = 1) -> pd.DataFrame:
    """The ``step``-ahead errors in time order: target_time, actual, forecast, error, naive_error."""
    sel = table[table["step"] == step]
    return sel[["window", "anchor", "target_time", "actual", "forecast", "error", "naive_error"]].reset_index(drop=True)


def error_histogram(errors: np.ndarray, bins: int = 30) -> tuple[pd.DataFrame, float, float]:
    """Histogram of errors with the fitted normal: ``(frame, mean, std)``. Frame columns:
    bin_start, bin_end, center, count, density, normal_density (both integrate to 1)."""
    e = np.asarray(errors, dtype=np.float64)
    e = e[np.isfinite(e)]
    if len(e) == 0:
        return pd.DataFrame(columns=["bin_start", "bin_end", "center", "count", "density", "normal_density"]), float("nan"), float("nan")
    mu, sd = float(e.mean()), float(e.std(ddof=1)) if len(e) > 1 else 0.0
    lo, hi = float(e.min()), float(e.max())
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(e, bins=bins, range=(lo, hi))
    width = edges[1] - edges[0]
    centers = (edges[:-1] + edges[1:]) / 2
    if sd > 0:
        normal = np.exp(-0.5 * ((centers - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
    else:
        normal = np.zeros_like(centers)
    return pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "center": centers, "count": counts,
                         "density": counts / (len(e) * width), "normal_density": normal}), mu, sd


def normal_curve(mu: float, sd: float, lo: float, hi: float, points: int = 200) -> pd.DataFrame:
    """A smooth normal density on ``[lo, hi]``: x, density."""
    x = np.linspace(lo, hi, points)
    d = np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi)) if sd > 0 else np.zeros(points)
    return pd.DataFrame({"x": x, "density": d})


def acf(x: np.ndarray, max_lag: int = 40) -> pd.DataFrame:
    """Sample autocorrelation (statsmodels) ``r_k = sum (x_t - m)(x_{t+k} - m) / sum (x_t - m)^2`` for
    ``k = 1 .. max_lag`` with the white-noise band ``±1.96 / sqrt(n)``: lag, acf, band, outside."""
    v = np.asarray(x, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = len(v)
    max_lag = int(min(max_lag, n - 1))
    if n < 3 or max_lag < 1:
        return pd.DataFrame(columns=["lag", "acf", "band", "outside"])
    if float(np.ptp(v)) == 0:
        r = np.zeros(max_lag)
    else:
        r = stationarity_acf(v, max_lag)
    band = 1.96 / math.sqrt(n)
    return pd.DataFrame({"lag": np.arange(1, max_lag + 1), "acf": r, "band": band, "outside": np.abs(r) > band})


def error_by_step(table: pd.DataFrame) -> pd.DataFrame:
    """Per horizon step: step, n, mae, rmse, bias, naive_mae, naive_rmse, skill_vs_naive."""
    rows = []
    for step, g in table.groupby("step", sort=True):
        rows.append({"step": int(step), **_summary(g["error"].to_numpy(), g["naive_error"].to_numpy())})
    return pd.DataFrame(rows)


def _median_step(index: pd.DatetimeIndex) -> pd.Timedelta | None:
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3:
        return None
    step = pd.Series(index).diff().median()
    return None if pd.isna(step) else step


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def calendar_groupings(index: pd.DatetimeIndex) -> list[str]:
    """Which calendar breakdowns make sense for this index: hour (sub-daily steps), weekday
    (steps of at most a day), month (steps of at most a month and more than a year of data)."""
    step = _median_step(index)
    if step is None:
        return []
    out = []
    if step < pd.Timedelta(days=1):
        out.append("hour")
    if step <= pd.Timedelta(days=1, hours=12):
        out.append("weekday")
    if step <= pd.Timedelta(days=31) and index[-1] - index[0] >= pd.Timedelta(days=365):
        out.append("month")
    return out


def error_by_calendar(table: pd.DataFrame, index: pd.DatetimeIndex, by: str, step: int | None = 1) -> pd.DataFrame:
    """Errors grouped by the target's ``hour`` / ``weekday`` / ``month`` (``step=None``: all steps).
    Columns: group (int), label, n, mae, rmse, bias, naive_mae, naive_rmse, skill_vs_naive."""
    if by not in ("hour", "weekday", "month"):
        raise ConfigError(f"by={by!r}: choose hour, weekday or month")
    sel = table if step is None else table[table["step"] == step]
    t = pd.DatetimeIndex(sel["target_time"])
    key = {"hour": t.hour, "weekday": t.day_of_week, "month": t.month}[by].to_numpy()
    rows = []
    for g in np.unique(key):
        m = key == g
        label = f"{g:02d}h" if by == "hour" else _WEEKDAYS[g] if by == "weekday" else _MONTHS[g - 1]
        rows.append({"group": int(g), "label": label,
                     **_summary(sel["error"].to_numpy()[m], sel["naive_error"].to_numpy()[m])})
    return pd.DataFrame(rows)


REGIMES = ("volatility", "trend")


def error_by_regime(run: ForecastRun, span: str = "test", kind: str = "volatility", step: int | None = None) -> pd.DataFrame:
    """Errors by terciles of a property of the input window (computed from the past only):
    ``volatility`` (std of changes over the window) -> low / mid / high, ``trend`` (slope over
    the window) -> falling / flat / rising. Columns: regime, lo, hi (tercile bounds of the
    property), n, mae, rmse, bias, naive_mae, naive_rmse, skill_vs_naive."""
    if kind not in REGIMES:
        raise ConfigError(f"regime {kind!r}: choose {' or '.join(REGIMES)}")
    prep, _ = run_parts(run)
    w = prep.windows_of(span)
    props = probe_properties(prep.y, w.anchors, prep.preprocessor.seq_len)
    value = props[kind].to_numpy()
    table = forecast_table(run, span)
    if step is not None:
        table = table[table["step"] == step]
    names = ("low", "mid", "high") if kind == "volatility" else ("falling", "flat", "rising")
    finite = value[np.isfinite(value)]
    if len(finite) < 3:
        return pd.DataFrame(columns=["regime", "lo", "hi", "n", "mae", "rmse", "bias"])
    q = np.quantile(finite, [0, 1 / 3, 2 / 3, 1])
    label = np.digitize(value, q[1:3])  # 0, 1, 2 per window
    per_row = label[table["window"].to_numpy()]
    rows = []
    for i, name in enumerate(names):
        m = per_row == i
        rows.append({"regime": name, "lo": float(q[i]), "hi": float(q[i + 1]),
                     **_summary(table["error"].to_numpy()[m], table["naive_error"].to_numpy()[m])})
    return pd.DataFrame(rows)


@dataclass
class WorstWindows:
    table: pd.DataFrame  # rank, window, anchor, anchor_time, mae, max_abs_error
    series: pd.DataFrame  # rank, window, time, offset (steps from the anchor), kind (input | actual | forecast), value


def worst_windows(run: ForecastRun, n: int = 5, span: str = "test", distinct: bool = True) -> WorstWindows:
    """The ``n`` windows of ``span`` with the largest mean absolute error over the horizon,
    with their inputs (original units), forecasts and truth for plotting.

    With ``distinct``, a window is skipped when its forecast period overlaps one already
    chosen (anchors less than ``horizon`` rows apart), so one bad event is listed once.
    """
    prep, model = run_parts(run)
    w = prep.windows_of(span)
    pred = predict_original(model, prep.preprocessor, w)  # (n, h)
    mae = _row_nanmean(np.abs(pred - w.y_true))  # (n,)
    mae = np.where(np.isfinite(mae), mae, -np.inf)
    ranked = np.argsort(-mae, kind="stable")
    ranked = ranked[np.isfinite(mae[ranked])]
    if distinct:
        h = prep.preprocessor.horizon
        chosen: list[int] = []
        for i in ranked:
            if len(chosen) >= n:
                break
            if all(abs(int(w.anchors[i]) - int(w.anchors[j])) >= h for j in chosen):
                chosen.append(int(i))
        order = np.asarray(chosen, dtype=np.int64)
    else:
        order = ranked[: max(0, int(n))]
    rows = []
    for rank, i in enumerate(order, start=1):
        a = int(w.anchors[i])
        rows.append({"rank": rank, "window": int(i), "anchor": a, "anchor_time": prep.index[a],
                     "mae": float(mae[i]), "max_abs_error": float(np.nanmax(np.abs(pred[i] - w.y_true[i])))})
    series = window_detail(run, order, span, pred=pred[order])
    rank_of = {int(i): r for r, i in enumerate(order, start=1)}
    series.insert(0, "rank", series["window"].map(rank_of).astype("int64"))
    return WorstWindows(table=pd.DataFrame(rows, columns=["rank", "window", "anchor", "anchor_time", "mae", "max_abs_error"]),
                        series=series)


def window_detail(run: ForecastRun, windows: Sequence[int] | np.ndarray, span: str = "test",
                  pred: np.ndarray | None = None) -> pd.DataFrame:
    """Input (original units), truth and forecast of the given windows of ``span`` (positions),
    long format: window, time, offset (steps from the anchor), kind (input | actual | forecast), value.
    The truth and forecast lines start at the anchor value so they join the input line."""
    prep, model = run_parts(run)
    w = prep.windows_of(span)
    idx = np.asarray(windows, dtype=np.int64)
    cols = ["window", "time", "offset", "kind", "value"]
    if len(idx) == 0:
        return pd.DataFrame(columns=cols)
    if pred is None:
        sub = Windows(X=w.X[idx], Y=w.Y[idx], base=w.base[idx], y_true=w.y_true[idx], anchors=w.anchors[idx])
        pred = predict_original(model, prep.preprocessor, sub)  # (k, h)
    L, h = prep.preprocessor.seq_len, prep.preprocessor.horizon
    inputs = window_inputs_original(prep, w.anchors[idx])  # (k, L)
    parts = []
    for j, i in enumerate(idx):
        a = int(w.anchors[i])
        t_out = pd.DatetimeIndex([prep.index[a]]).append(times_of(prep, np.arange(a + 1, a + h + 1)))
        parts.append(pd.DataFrame({"window": int(i), "time": prep.index[a - L + 1 : a + 1],
                                   "offset": np.arange(-L + 1, 1), "kind": "input", "value": inputs[j]}))
        for kind, vals in (("actual", w.y_true[i]), ("forecast", pred[j])):
            parts.append(pd.DataFrame({"window": int(i), "time": t_out, "offset": np.arange(0, h + 1), "kind": kind,
                                       "value": np.concatenate([[prep.y[a]], vals])}))
    return pd.concat(parts, ignore_index=True)
