"""Altair builders for the "Inside the network" pages (Hidden states, Errors).

Pure functions from DataFrames (built by :mod:`rnnlab.analysis`) to Altair charts. They
never raise on empty frames (they draw a short message instead), thin large frames, and
share colours and the ``downsample`` helper with :mod:`ui.charts`.

Selections that pages read back (``st.altair_chart(..., on_select="rerun")``) have fixed
names: :data:`UNIT_PICK` (heatmap unit), :data:`WINDOW_PICK` (worst-window rank, in both
:func:`worst_states` and :func:`worst_series`), :data:`TRAJ_PICK` (a window in a trajectory).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import EXTRA_COLORS, SERIES_COLORS, SPAN_COLORS, TIME_LABELS, downsample, lines, to_long
from ui.charts_steps import stepify

# Linked views share one selection parameter across concatenated charts; Altair 6 merges the
# copies (what we want) and warns about it on every render.
warnings.filterwarnings("ignore", message="Automatically deduplicated selection parameter")

UNIT_PICK = "unit_pick"
WINDOW_PICK = "window_pick"
TRAJ_PICK = "traj_pick"
TRAJ_BRUSH = "traj_brush"

MAX_SCATTER = 3000  # points per trajectory panel
PANEL = 340  # px, width and height of a square trajectory panel inside a concat
SPLIT_COLORS = {"train": SPAN_COLORS["train"], "val": SPAN_COLORS["validation"], "test": SPAN_COLORS["test"],
                "future": "#e4572e"}
GATE_COLORS = {"input": "#3b82f6", "forget": "#e4572e", "cell": "#10b981", "output": "#9333ea",
               "reset": "#f59e0b", "update": "#0891b2", "new": "#10b981", "tanh(cell state)": "#6b7280"}

# what the trajectory can be coloured by: column -> (title, Altair type)
COLOR_BY = {
    "time": ("time", "T"),
    "value": ("target at the anchor", "Q"),
    "prediction": ("forecast (step 1)", "Q"),
    "error": ("error (step 1, forecast − actual)", "Q"),
    "abs_error": ("|error| (mean over the horizon)", "Q"),
    "split": ("span", "N"),
}


def selected_value(event: Any, name: str, field: str) -> Any | None:
    """First value of ``field`` in the selection ``name`` of an ``st.altair_chart(on_select=...)``
    result, or None when nothing is selected."""
    try:
        sel = event.selection.get(name) if hasattr(event, "selection") else event["selection"].get(name)
    except (AttributeError, KeyError, TypeError):
        return None
    if isinstance(sel, list) and sel and isinstance(sel[0], dict):
        return sel[0].get(field)
    if isinstance(sel, dict) and sel.get(field) is not None:
        v = sel[field]
        return (v[0] if v else None) if isinstance(v, list) else v
    return None


def _empty(message: str, height: int = 200) -> alt.Chart:
    return (alt.Chart(pd.DataFrame({"text": [message]})).mark_text(color="#6b7280", fontSize=13)
            .encode(text="text:N").properties(height=height, width="container"))


def _thin(df: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    """Every k-th row (keeps the time order; the path stays a path)."""
    if len(df) <= max_rows:
        return df
    return df.iloc[:: int(np.ceil(len(df) / max_rows))]


def _color(color_by: str, data: pd.DataFrame) -> alt.Color:
    """Colour encoding for trajectories. Time is encoded through ``time_ms`` (see
    :func:`_with_time_ms`): Vega-Lite only uses part of a colour scheme on temporal fields."""
    title, kind = COLOR_BY.get(color_by, (color_by, "Q"))
    legend = alt.Legend(orient="top", gradientLength=220)
    if color_by == "split":
        names = [s for s in SPLIT_COLORS if s in set(data["split"])]
        return alt.Color("split:N", title=title, scale=alt.Scale(domain=names, range=[SPLIT_COLORS[s] for s in names]),
                         legend=alt.Legend(orient="top"))
    if color_by == "error":
        lim = float(np.nanmax(np.abs(data["error"]))) if data["error"].notna().any() else 1.0
        return alt.Color("error:Q", title=title, scale=alt.Scale(scheme="redblue", domain=[-lim, lim], reverse=True),
                         legend=legend)
    if kind == "T":
        return alt.Color("time_ms:Q", title=title, scale=alt.Scale(scheme="viridis"),
                         legend=alt.Legend(orient="top", gradientLength=220, labelExpr="timeFormat(datum.value, '%b %Y')"))
    scheme = "orangered" if color_by == "abs_error" else "plasma"
    return alt.Color(f"{color_by}:{kind}", title=title, scale=alt.Scale(scheme=scheme), legend=legend)


def _with_time_ms(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``time_ms`` (milliseconds since the epoch) for colouring by time."""
    out = frame.copy()
    out["time_ms"] = pd.DatetimeIndex(out["time"]).as_unit("ms").asi8.astype("float64")
    return out


def _traj_tooltip(data: pd.DataFrame) -> list:
    tips = [alt.Tooltip("time:T", title="anchor", format="%Y-%m-%d %H:%M"), alt.Tooltip("value:Q", format=",.4g"),
            alt.Tooltip("prediction:Q", title="forecast (step 1)", format=",.4g"),
            alt.Tooltip("actual:Q", title="actual (step 1)", format=",.4g"),
            alt.Tooltip("error:Q", title="error (step 1)", format=",.3g"), alt.Tooltip("split:N"),
            alt.Tooltip("window:Q")]
    if "rank" in data.columns:
        tips.append(alt.Tooltip("rank:Q", title="worst rank"))
    return [t for t in tips if t.shorthand.split(":")[0] in data.columns]


def _domain(values: pd.Series, pad: float = 0.05) -> list[float]:
    v = values.to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return [-1.0, 1.0]
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo or 1.0
    return [lo - pad * span, hi + pad * span]


def _row_px(n_rows: int, *, total: int = 560, lo: int = 8, hi: int = 18) -> int:
    """Height of each row of a chart with one row per unit or gate: ``total`` px shared by the
    rows, at least ``lo`` px (many rows make a taller chart) and at most ``hi`` px."""
    return int(max(lo, min(hi, total / max(1, n_rows))))


def _row_axis(px: int, title: str | None = None, **kw: Any) -> alt.Axis:
    """Row labels: smaller on short rows; Vega drops overlapping ones."""
    small = px < 12
    return alt.Axis(title=title, labelFontSize=9 if small else 11, labelOverlap="parity" if small else False, **kw)


# ----------------------------------------------------------------------------- trajectories
def trajectory(frame: pd.DataFrame, color_by: str = "time", *, x: str = "PC1", y: str = "PC2",
               evr: Sequence[float] | None = None, height: int = 480, path: bool = True) -> alt.LayerChart | alt.Chart:
    """One PCA plane: points coloured by ``color_by``, a thin line joining consecutive windows,
    hover for the date, value, forecast and error. Click a point to pick its window
    (selection :data:`TRAJ_PICK`, field ``window``)."""
    if frame is None or len(frame) == 0:
        return _empty("no states to show", height)
    data = _with_time_ms(_thin(frame, MAX_SCATTER))
    pick = alt.selection_point(name=TRAJ_PICK, fields=["window"], on="click", clear="dblclick", empty=False)
    ax = _axis_titles(evr)
    base = alt.Chart(data).encode(x=alt.X(f"{x}:Q", title=ax.get(x, x), scale=alt.Scale(zero=False)),
                                  y=alt.Y(f"{y}:Q", title=ax.get(y, y), scale=alt.Scale(zero=False)))
    layers = []
    if path:
        layers.append(base.mark_line(color="#9ca3af", strokeWidth=0.6, opacity=0.5).encode(order="time:T"))
    layers.append(base.mark_circle(size=36, opacity=0.85).encode(
        color=_color(color_by, data), tooltip=_traj_tooltip(data),
        stroke=alt.condition(pick, alt.value("black"), alt.value(None)),
        strokeWidth=alt.condition(pick, alt.value(2), alt.value(0)),
    ).add_params(pick))
    return stepify(alt.layer(*layers).properties(height=height, width="container"))


def _axis_titles(evr: Sequence[float] | None) -> dict[str, str]:
    if evr is None:
        return {}
    return {f"PC{i + 1}": f"PC{i + 1} ({100 * float(v):.1f}% of variance)" for i, v in enumerate(evr)}


def trajectory_3d(frame: pd.DataFrame, color_by: str = "time", *, evr: Sequence[float] | None = None,
                  size: int = PANEL) -> alt.HConcatChart | alt.Chart:
    """Three principal components as two linked views sharing the PC2 axis: PC1-PC2 (front)
    and PC3-PC2 (side). Drag a box in either view to highlight the same windows in both."""
    if frame is None or len(frame) == 0:
        return _empty("no states to show", size)
    data = _with_time_ms(_thin(frame, MAX_SCATTER))
    brush = alt.selection_interval(name=TRAJ_BRUSH, resolve="global", empty=True)
    ax = _axis_titles(evr)
    color = _color(color_by, data)
    tips = _traj_tooltip(data)

    def view(xf: str) -> alt.LayerChart:
        base = alt.Chart(data).encode(x=alt.X(f"{xf}:Q", title=ax.get(xf, xf), scale=alt.Scale(zero=False)),
                                      y=alt.Y("PC2:Q", title=ax.get("PC2", "PC2"), scale=alt.Scale(zero=False)))
        line = base.mark_line(color="#9ca3af", strokeWidth=0.5, opacity=0.4).encode(order="time:T")
        pts = base.mark_circle(size=30).encode(
            color=alt.condition(brush, color, alt.value("#e5e7eb")),
            opacity=alt.condition(brush, alt.value(0.9), alt.value(0.35)), tooltip=tips).add_params(brush)
        return alt.layer(line, pts).properties(width=size, height=size)

    return stepify(alt.hconcat(view("PC1"), view("PC3")).resolve_scale(color="shared"))


def evolution(frame: pd.DataFrame, epoch: int, *, evr: Sequence[float] | None = None, final_epoch: int = -1,
              color_by: str = "time", height: int = 440) -> alt.LayerChart | alt.Chart:
    """States at ``epoch`` on the final basis (fixed axes across epochs), final states in light grey."""
    if frame is None or len(frame) == 0:
        return _empty("no snapshots recorded", height)
    xd, yd = _domain(frame["PC1"]), _domain(frame["PC2"])
    ax = _axis_titles(evr)
    final = _thin(frame[frame["epoch"] == final_epoch], MAX_SCATTER)
    now = _with_time_ms(_thin(frame[frame["epoch"] == epoch], MAX_SCATTER))
    enc = {"x": alt.X("PC1:Q", title=ax.get("PC1", "PC1") + " · final basis", scale=alt.Scale(domain=xd)),
               "y": alt.Y("PC2:Q", title=ax.get("PC2", "PC2"), scale=alt.Scale(domain=yd))}
    ghost = alt.Chart(final).mark_circle(size=22, color="#d1d5db", opacity=0.6).encode(**enc)
    path = alt.Chart(now).mark_line(color="#9ca3af", strokeWidth=0.6, opacity=0.5).encode(order="time:T", **enc)
    color = _color(color_by if color_by in now.columns else "time", now)
    pts = alt.Chart(now).mark_circle(size=34, opacity=0.9).encode(
        color=color, tooltip=[alt.Tooltip("time:T", title="anchor", format="%Y-%m-%d %H:%M"),
                              alt.Tooltip("value:Q", format=",.4g"), alt.Tooltip("epoch:Q")], **enc)
    return stepify(alt.layer(ghost, path, pts).properties(height=height, width="container"))


# ----------------------------------------------------------------------------- units
def _with_time_end(long: pd.DataFrame) -> pd.DataFrame:
    """Add ``time_end`` = the next distinct time (the last one gets the median step), so each
    heatmap cell spans until the next window (time axes are continuous; rects need x and x2)."""
    times = pd.DatetimeIndex(sorted(pd.unique(long["time"])))
    if len(times) > 1:
        step = pd.Series(times).diff().median()
        ends = times[1:].append(pd.DatetimeIndex([times[-1] + step]))
    else:
        ends = times + pd.Timedelta(days=1)
    out = long.copy()
    out["time_end"] = pd.Series(ends, index=times).reindex(pd.DatetimeIndex(out["time"])).to_numpy()
    return out


def unit_heatmap(long: pd.DataFrame, *, value_title: str = "activation",
                 domain: tuple[float, float] | None = None, pickable: bool = True) -> alt.Chart:
    """Units (rows, in ``rank`` order) x time heatmap of ``activation``; the height grows with the
    number of units. Click a row to pick a unit (selection :data:`UNIT_PICK`, field ``unit``)."""
    if long is None or len(long) == 0:
        return _empty("no units to show", 200)
    data = _with_time_end(long)
    data["label"] = "u" + data["unit"].astype(str)
    order = list(dict.fromkeys(data.sort_values("rank")["label"]))
    if domain is None:
        lim = float(np.nanmax(np.abs(data["activation"]))) or 1.0
        domain = (-lim, lim)
    scheme = "blueorange" if domain[0] < 0 else "viridis"
    px = _row_px(len(order))
    chart = alt.Chart(data).mark_rect().encode(
        x=alt.X("time:T", title=None, axis=alt.Axis(labelOverlap=True, labelExpr=TIME_LABELS)), x2="time_end:T",
        y=alt.Y("label:N", sort=order, axis=_row_axis(px, "unit")),
        color=alt.Color("activation:Q", title=value_title, scale=alt.Scale(scheme=scheme, domain=list(domain)),
                        legend=alt.Legend(orient="top", gradientLength=220)),
        tooltip=[alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"), alt.Tooltip("label:N", title="unit"),
                 alt.Tooltip("activation:Q", title=value_title, format=".3f")],
    )
    if pickable:
        pick = alt.selection_point(name=UNIT_PICK, fields=["unit"], on="click", empty=False)
        chart = chart.add_params(pick).encode(opacity=alt.condition(pick, alt.value(1.0), alt.value(0.85)))
    return stepify(chart.properties(height=px * len(order) + 100, width="container"))  # + legend and time axis


def unit_vs_input(frame: pd.DataFrame, unit_label: str, y_title: str, *, height: int = 170) -> alt.VConcatChart | alt.Chart:
    """A unit's activation (top) above the target series (bottom), sharing the time axis.
    ``frame``: time, activation, value."""
    if frame is None or len(frame) == 0:
        return _empty("pick a unit in the heatmap", height)
    data = downsample(frame, 2000, x="time")
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    top = alt.Chart(data).mark_line(color="#9333ea", strokeWidth=1.4).encode(
        x=alt.X("time:T", title=None, axis=alt.Axis(labelExpr=TIME_LABELS)),
        y=alt.Y("activation:Q", title=f"{unit_label} activation", scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"), alt.Tooltip("activation:Q", format=".3f")],
    ).add_params(zoom).properties(height=height, width="container")
    bottom = alt.Chart(data).mark_line(color=SERIES_COLORS["actual"], strokeWidth=1.2).encode(
        x=alt.X("time:T", title=None, axis=alt.Axis(labelExpr=TIME_LABELS)), y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"), alt.Tooltip("value:Q", format=",.4g")],
    ).properties(height=height, width="container")
    return stepify(alt.vconcat(top, bottom).resolve_scale(x="shared"))


# ----------------------------------------------------------------------------- gates
def saturation_bars(sat: pd.DataFrame) -> alt.Chart:
    """Stacked share of values saturated low / high per layer and gate (one bar per row; the
    height grows with the number of rows)."""
    if sat is None or len(sat) == 0:
        return _empty("no gates (a vanilla RNN cell has none)", 200)
    data = sat.assign(name=lambda d: "L" + d["layer"].astype(str) + " · " + d["gate"])
    long = data.melt(id_vars=["name", "layer", "gate", "range"], value_vars=["frac_low", "frac_high"],
                     var_name="side", value_name="share")
    long["side"] = long["side"].map({"frac_low": "saturated low", "frac_high": "saturated high"})
    px = _row_px(len(data), total=400, lo=14, hi=26)
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("name:N", sort=list(data["name"]), axis=_row_axis(px, None, labelLimit=200)),
        # at least a 1 % wide axis: when nothing saturates it reads 0 % .. 1 %, not one "0.000000%" tick
        x=alt.X("share:Q", title="share of values", axis=alt.Axis(format=".1%", tickCount=4), stack="zero",
                scale=alt.Scale(domain=[0, max(0.01, float(data[["frac_low", "frac_high"]].sum(axis=1).max()))])),
        color=alt.Color("side:N", title=None, scale=alt.Scale(domain=["saturated low", "saturated high"],
                                                              range=["#3b82f6", "#e4572e"]),
                        legend=alt.Legend(orient="top")),
        tooltip=["name:N", "range:N", "side:N", alt.Tooltip("share:Q", format=".1%")],
    ).properties(height=px * len(data) + 80, width="container")  # + legend and axis


def gate_distributions(hist: pd.DataFrame, *, height: int = 260) -> alt.LayerChart | alt.Chart:
    """Distribution of each gate (share per bin) with the saturation thresholds marked."""
    if hist is None or len(hist) == 0:
        return _empty("no gates (a vanilla RNN cell has none)", height)
    data = hist.assign(center=(hist["bin_start"] + hist["bin_end"]) / 2)
    names = list(dict.fromkeys(data["gate"]))
    lines_ = alt.Chart(data).mark_line(interpolate="step", strokeWidth=1.6).encode(
        x=alt.X("center:Q", title="gate value", scale=alt.Scale(domain=[-1, 1])),
        y=alt.Y("share:Q", title="share of values", axis=alt.Axis(format="%")),
        color=alt.Color("gate:N", title=None, scale=alt.Scale(domain=names, range=[GATE_COLORS.get(n, "#999") for n in names]),
                        legend=alt.Legend(orient="top")),
        tooltip=["gate:N", alt.Tooltip("bin_start:Q", format=".2f"), alt.Tooltip("bin_end:Q", format=".2f"),
                 alt.Tooltip("share:Q", format=".1%")],
    )
    marks = pd.DataFrame({"x": [-0.95, 0.05, 0.95], "label": ["tanh low", "sigmoid low", "high"]})
    rules = alt.Chart(marks).mark_rule(strokeDash=[3, 3], color="#9ca3af").encode(x="x:Q", tooltip=["label:N", "x:Q"])
    return alt.layer(rules, lines_).properties(height=height, width="container")


def window_heatmap(frame: pd.DataFrame, quantity: str, *, max_units: int = 64) -> alt.Chart:
    """One quantity (a gate, cell state or hidden) inside one window: unit x step (lag 0 = anchor);
    the height grows with the number of units."""
    data = frame[(frame["quantity"] == quantity) & (frame["unit"] < max_units)] if frame is not None else None
    if data is None or len(data) == 0:
        return _empty(f"no {quantity}", 200)
    sigmoid = quantity in ("input", "forget", "output", "reset", "update")
    if sigmoid:
        scale = alt.Scale(scheme="viridis", domain=[0, 1])
    else:
        lim = float(np.nanmax(np.abs(data["value"]))) or 1.0
        lim = 1.0 if quantity in ("cell", "new", "hidden") else lim
        scale = alt.Scale(scheme="blueorange", domain=[-lim, lim])
    n_units = data["unit"].nunique()
    px = _row_px(n_units, total=300, lo=5, hi=14)
    return alt.Chart(data).mark_rect().encode(
        x=alt.X("lag:O", title="steps before the anchor", sort="descending",
                axis=alt.Axis(labelAngle=0, labelOverlap="parity")),
        y=alt.Y("unit:O", axis=_row_axis(px, "unit", labels=px >= 8)),
        color=alt.Color("value:Q", title=quantity, scale=scale, legend=alt.Legend(orient="right", gradientLength=120)),
        tooltip=["unit:O", "lag:O", alt.Tooltip("value:Q", format=".3f")],
    ).properties(height=px * n_units + 75, width="container", title=quantity)  # + title and axis


def probing_heatmap(corr: pd.DataFrame, *, height: int = 240, max_units: int = 128) -> alt.Chart:
    """Correlation of each unit (x) with each property (y), -1..1."""
    if corr is None or corr.size == 0:
        return _empty("no probing data", height)
    c = corr.iloc[:max_units]
    long = c.reset_index().melt(id_vars="unit", var_name="property", value_name="corr")
    return alt.Chart(long).mark_rect().encode(
        x=alt.X("unit:O", title="unit", axis=alt.Axis(labels=len(c) <= 64)),
        y=alt.Y("property:N", title=None, sort=list(c.columns), axis=alt.Axis(labelOverlap=False)),
        color=alt.Color("corr:Q", title="correlation", scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True),
                        legend=alt.Legend(orient="top", gradientLength=220)),
        tooltip=["unit:O", "property:N", alt.Tooltip("corr:Q", format=".2f")],
    ).properties(height=height, width="container")


# ----------------------------------------------------------------------------- errors
def errors_over_time(frame: pd.DataFrame, *, height: int = 280, y_title: str = "error") -> alt.LayerChart | alt.Chart:
    """Model and naive errors over the target time (``target_time``, ``error``, ``naive_error``), zero line."""
    if frame is None or len(frame) == 0:
        return _empty("no errors", height)
    data = to_long(frame.rename(columns={"target_time": "time", "error": "model", "naive_error": "naive"}),
                   "time", ["model", "naive"])
    chart = lines(data, order=["model", "naive"], dashed=["naive"], y_title=y_title, height=height,
                  labels={"model": "model error", "naive": "naive error"})
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#111827", strokeWidth=0.8).encode(y="y:Q")
    return stepify(alt.layer(zero, chart).properties(height=height, width="container"))


def error_histogram(hist: pd.DataFrame, curve: pd.DataFrame, *, height: int = 280, x_title: str = "error") -> alt.LayerChart | alt.Chart:
    """Density histogram of errors with the fitted normal curve (``curve``: x, density)."""
    if hist is None or len(hist) == 0:
        return _empty("no errors", height)
    bars = alt.Chart(hist).mark_bar(color="#e4572e", opacity=0.55).encode(
        x=alt.X("bin_start:Q", title=x_title, bin="binned"), x2="bin_end:Q",
        y=alt.Y("density:Q", title="density"),
        tooltip=[alt.Tooltip("bin_start:Q", format=",.3g"), alt.Tooltip("bin_end:Q", format=",.3g"), "count:Q",
                 alt.Tooltip("density:Q", format=".3g")])
    line = alt.Chart(curve).mark_line(color="#111827", strokeWidth=1.6).encode(x="x:Q", y="density:Q")
    return alt.layer(bars, line).properties(height=height, width="container")


def acf_chart(table: pd.DataFrame, *, height: int = 280) -> alt.LayerChart | alt.Chart:
    """Autocorrelation stems with the ±1.96/√n white-noise band."""
    if table is None or len(table) == 0:
        return _empty("too few errors for an autocorrelation", height)
    band = float(table["band"].iloc[0])
    area = alt.Chart(pd.DataFrame({"lo": [-band], "hi": [band]})).mark_rect(color="#3b82f6", opacity=0.12).encode(
        y="lo:Q", y2="hi:Q")
    data = table.assign(zero=0.0, where=np.where(table["outside"], "outside the band", "inside"))
    scale = alt.Scale(domain=["inside", "outside the band"], range=["#6b7280", "#e4572e"])
    stems = alt.Chart(data).mark_rule(strokeWidth=2).encode(
        x=alt.X("lag:Q", title="lag (steps)"), y=alt.Y("zero:Q", title="autocorrelation"), y2="acf:Q",
        color=alt.Color("where:N", title=None, scale=scale, legend=alt.Legend(orient="top")))
    dots = alt.Chart(data).mark_circle(size=40).encode(
        x="lag:Q", y="acf:Q", color=alt.Color("where:N", scale=scale, legend=None),
        tooltip=["lag:Q", alt.Tooltip("acf:Q", format=".3f"), alt.Tooltip("band:Q", format=".3f")])
    return alt.layer(area, stems, dots).properties(height=height, width="container")


def model_vs_naive(table: pd.DataFrame, x: str, *, metric: str = "mae", x_title: str = "", height: int = 300,
                   sort: Sequence[str] | None = None) -> alt.Chart:
    """Grouped bars of the model's and the naive forecast's ``metric`` per group ``x``."""
    if table is None or len(table) == 0:
        return _empty("no groups", height)
    cols = {metric: "model", f"naive_{metric}": "naive"}
    long = table[[x, "n", *cols]].rename(columns=cols).melt(id_vars=[x, "n"], var_name="series", value_name="value")
    order = list(sort) if sort is not None else list(dict.fromkeys(table[x].astype(str)))
    long[x] = long[x].astype(str)
    return alt.Chart(long).mark_bar().encode(
        x=alt.X(f"{x}:N", title=x_title or x, sort=order, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("series:N", sort=["model", "naive"]),
        y=alt.Y("value:Q", title=metric.upper()),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=["model", "naive"],
                                                                range=[SERIES_COLORS["model"], SERIES_COLORS["naive"]]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip(f"{x}:N", title=x_title or x), "series:N", alt.Tooltip("value:Q", format=",.4g"), "n:Q"],
    ).properties(height=height, width="container")


_RANK_COLORS = ["#e4572e", "#9333ea", "#0891b2", "#f59e0b", "#65a30d", "#db2777", "#3b82f6", "#ea580c", "#0d9488",
                "#be123c"]


def _rank_scale(ranks: Sequence[int]) -> alt.Scale:
    ranks = sorted(int(r) for r in ranks)
    return alt.Scale(domain=ranks, range=(_RANK_COLORS * 5)[: len(ranks)])


def _picked(picked: int | None, on: float, off: float) -> Any:
    """Full ``on`` for the picked worst window (every one when none is picked), ``off`` for the others."""
    if picked is None:
        return alt.value(on)
    return alt.condition(alt.datum.rank == int(picked), alt.value(on), alt.value(off))


def _window_click() -> alt.Parameter:
    """Click selection :data:`WINDOW_PICK` (field ``rank``) for ``st.altair_chart(on_select=...)``;
    the charts highlight the window the page passes as ``picked``, so both views agree."""
    return alt.selection_point(name=WINDOW_PICK, fields=["rank"], on="click", clear="dblclick")


def worst_states(traj: pd.DataFrame, *, evr: Sequence[float] | None = None, picked: int | None = None,
                 height: int = PANEL) -> alt.LayerChart | alt.Chart:
    """Worst windows in the hidden-state trajectory: all test windows grey, the worst ones
    ringed and numbered (``traj`` has ``rank`` for those). ``picked``: the rank to highlight.
    Clicking a ring selects :data:`WINDOW_PICK`."""
    worst = traj[traj["rank"].notna()].copy() if traj is not None and "rank" in traj else None
    if worst is None or len(worst) == 0:
        return _empty("no worst windows", height)
    ax = _axis_titles(evr)
    bg = _thin(traj, MAX_SCATTER)
    enc = {"x": alt.X("PC1:Q", title=ax.get("PC1", "PC1"), scale=alt.Scale(zero=False)),
           "y": alt.Y("PC2:Q", title=ax.get("PC2", "PC2"), scale=alt.Scale(zero=False))}
    base_pts = alt.Chart(bg).mark_circle(size=20, color="#cbd5e1", opacity=0.7).encode(
        tooltip=_traj_tooltip(bg), **enc)
    worst["rank"] = worst["rank"].astype(int)
    worst["label"] = "#" + worst["rank"].astype(str)
    scale = _rank_scale(worst["rank"].unique())
    rings = alt.Chart(worst).mark_point(size=160, strokeWidth=2.5, filled=False).encode(
        color=alt.Color("rank:O", title="worst #", scale=scale, legend=alt.Legend(orient="top")),
        opacity=_picked(picked, 1.0, 0.2), tooltip=_traj_tooltip(worst), **enc,
    ).add_params(_window_click())
    labels = alt.Chart(worst).mark_text(dx=11, dy=-9, fontSize=11, fontWeight="bold").encode(
        text="label:N", color=alt.Color("rank:O", scale=scale, legend=None), opacity=_picked(picked, 1.0, 0.2), **enc)
    return alt.layer(base_pts, rings, labels).properties(height=height, width="container")


def worst_series(series: pd.DataFrame, *, y_title: str = "", picked: int | None = None,
                 height: int = PANEL) -> alt.LayerChart | alt.Chart:
    """Input, truth and forecast of the worst windows (``rank``, ``kind``, ``offset``, ``time``,
    ``value``), coloured as in :func:`worst_states`. ``picked``: the rank to highlight.
    Clicking a line selects :data:`WINDOW_PICK`."""
    if series is None or len(series) == 0:
        return _empty("no worst windows", height)
    s = series.copy()
    s["rank"] = s["rank"].astype(int)
    s["line"] = s["rank"].astype(str) + "·" + s["kind"]
    right = alt.Chart(s).mark_line(strokeWidth=1.8).encode(
        x=alt.X("offset:Q", title="steps from the anchor (0 = last input)"),
        y=alt.Y("value:Q", title=y_title or "value", scale=alt.Scale(zero=False)),
        color=alt.Color("rank:O", scale=_rank_scale(s["rank"].unique()), legend=None),
        strokeDash=alt.StrokeDash("kind:N", title=None, scale=alt.Scale(domain=["input", "actual", "forecast"],
                                                                     range=[[1, 0], [1, 0], [5, 3]]),
                                  legend=alt.Legend(orient="top", symbolType="stroke", symbolStrokeWidth=2,
                                                    symbolStrokeColor="#374151")),
        strokeWidth=_picked(picked, 2.2, 0.8) if picked is not None else alt.value(1.8),
        opacity=_picked(picked, 1.0, 0.15),
        detail="line:N",
        tooltip=[alt.Tooltip("rank:O", title="worst #"), "kind:N", alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("value:Q", format=",.4g")],
    ).add_params(_window_click())
    anchor = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#9ca3af", strokeDash=[2, 2]).encode(x="x:Q")
    return stepify(alt.layer(anchor, right).properties(height=height, width="container"))


def saliency_chart(sal: pd.DataFrame, seq_len: int, *, height: int = 320, window: pd.DataFrame | None = None) -> alt.LayerChart | alt.Chart:
    """Mean |d forecast / d input| per input step (bars, by column), oldest step left, the
    anchor (lag 0) right and the window start (``seq_len`` steps back) marked. ``window``:
    the same for one window, drawn as a line."""
    if sal is None or len(sal) == 0:
        return _empty("no saliency", height)
    feats = list(dict.fromkeys(sal["feature"]))
    colors = [SERIES_COLORS["model"], *EXTRA_COLORS * 4]
    scale = alt.Scale(domain=feats, range=colors[: len(feats)])
    lags = list(range(seq_len - 1, -1, -1))  # oldest input step left, the anchor right
    x = alt.X("lag:O", title="steps before the anchor (0 = last input step)", scale=alt.Scale(domain=lags),
              axis=alt.Axis(labelAngle=0, labelOverlap="parity"))
    bars = alt.Chart(sal).mark_bar(opacity=0.8).encode(
        x=x, y=alt.Y("saliency:Q", title="mean |∂ forecast / ∂ input|", stack="zero"),
        color=alt.Color("feature:N", title="input column", scale=scale, legend=alt.Legend(orient="top")),
        tooltip=["feature:N", "lag:O", alt.Tooltip("saliency:Q", format=".3g"), alt.Tooltip("share:Q", format=".1%")])
    start = pd.DataFrame({"lag": [seq_len - 1], "label": [f"window start (seq_len = {seq_len})"]})
    edge = alt.X("lag:O", scale=alt.Scale(domain=lags), bandPosition=0)  # the oldest step's left edge
    rule = alt.Chart(start).mark_rule(color="#111827", strokeDash=[4, 3]).encode(x=edge, tooltip=["label:N"])
    text = alt.Chart(start).mark_text(align="left", dx=4, dy=-6, color="#111827", fontSize=11).encode(
        x=edge, y=alt.value(10), text="label:N")
    layers = [bars, rule, text]
    if window is not None and len(window):
        w = window.groupby("lag", as_index=False)["saliency"].sum()
        layers.append(alt.Chart(w).mark_line(color="#111827", point=True, strokeWidth=1.4).encode(
            x=x, y="saliency:Q", tooltip=["lag:O", alt.Tooltip("saliency:Q", title="this window", format=".3g")]))
    return alt.layer(*layers).properties(height=height, width="container")


def what_if_series(inputs: pd.DataFrame, forecast: pd.DataFrame, *, y_title: str = "", height: int = 320) -> alt.LayerChart | alt.Chart:
    """Original vs edited input window and their forecasts (and the truth when known)."""
    if inputs is None or len(inputs) == 0:
        return _empty("no window", height)
    last = inputs.iloc[[-1]]
    parts = [inputs[["time", "original"]].rename(columns={"original": "value"}).assign(series="input (original)"),
             inputs[["time", "edited"]].rename(columns={"edited": "value"}).assign(series="input (edited)")]
    for col, name, start in (("original", "forecast (original)", "original"), ("edited", "forecast (edited)", "edited")):
        head = pd.DataFrame({"time": last["time"], "value": last[start]})
        parts.append(pd.concat([head, forecast[["time", col]].rename(columns={col: "value"})]).assign(series=name))
    if forecast["actual"].notna().any():
        head = pd.DataFrame({"time": last["time"], "value": last["original"]})
        parts.append(pd.concat([head, forecast[["time", "actual"]].rename(columns={"actual": "value"})]).assign(series="actual"))
    data = pd.concat(parts, ignore_index=True)
    order = ["input (original)", "input (edited)", "actual", "forecast (original)", "forecast (edited)"]
    colors = {"input (original)": "#9ca3af", "input (edited)": "#3b82f6", "actual": SERIES_COLORS["actual"],
              "forecast (original)": "#f4a582", "forecast (edited)": SERIES_COLORS["model"]}
    order = [o for o in order if o in set(data["series"])]
    return stepify(alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=18), strokeWidth=1.8).encode(
        x=alt.X("time:T", title=None, axis=alt.Axis(labelExpr=TIME_LABELS)),
        y=alt.Y("value:Q", title=y_title or None, scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=order, range=[colors[o] for o in order]),
                        legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("series:N", legend=None, scale=alt.Scale(
            domain=order, range=[[5, 3] if o.startswith("forecast") else [1, 0] for o in order])),
        tooltip=["series:N", alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"), alt.Tooltip("value:Q", format=",.4g")],
    ).properties(height=height, width="container"))


def what_if_trajectory(background: pd.DataFrame, traj: pd.DataFrame, *, evr: Sequence[float] | None = None,
                       height: int = 320) -> alt.LayerChart | alt.Chart:
    """The top-layer state at each input step of the original and edited windows (paths ending
    at the anchor, big dot), over the test-span anchor states in grey."""
    if traj is None or len(traj) == 0:
        return _empty("no trajectory", height)
    ax = _axis_titles(evr)
    enc = {"x": alt.X("PC1:Q", title=ax.get("PC1", "PC1"), scale=alt.Scale(zero=False)),
               "y": alt.Y("PC2:Q", title=ax.get("PC2", "PC2"), scale=alt.Scale(zero=False))}
    scale = alt.Scale(domain=["original", "edited"], range=["#9ca3af", SERIES_COLORS["model"]])
    layers = []
    if background is not None and len(background):
        layers.append(alt.Chart(_thin(background, MAX_SCATTER)).mark_circle(size=14, color="#e5e7eb").encode(**enc))
    layers.append(alt.Chart(traj).mark_line(strokeWidth=1.8, point=alt.OverlayMarkDef(size=16)).encode(
        color=alt.Color("version:N", title=None, scale=scale, legend=alt.Legend(orient="top")), order="step:Q",
        tooltip=["version:N", alt.Tooltip("lag:Q", title="steps before the anchor"),
                 alt.Tooltip("time:T", format="%Y-%m-%d %H:%M")], **enc))
    end = traj[traj["lag"] == 0]
    layers.append(alt.Chart(end).mark_circle(size=140).encode(color=alt.Color("version:N", scale=scale, legend=None),
                                                              tooltip=["version:N"], **enc))
    return stepify(alt.layer(*layers).properties(height=height, width="container"))


def recursive_chart(per_step: pd.DataFrame, *, metric: str = "mae", height: int = 280) -> alt.LayerChart | alt.Chart:
    """Error per horizon step: direct, recursive and naive."""
    if per_step is None or len(per_step) == 0:
        return _empty("no comparison", height)
    cols = {f"direct_{metric}": "direct", f"recursive_{metric}": "recursive"}
    if metric == "mae":
        cols["naive_mae"] = "naive"
    long = per_step.rename(columns=cols)[["step", *cols.values()]].melt(id_vars="step", var_name="series", value_name="value")
    return lines(long, x="step", x_type="Q", integer_x=True, x_title="horizon step", y_title=metric.upper(),
                 order=list(cols.values()), dashed=["naive"], zoom=False, points=True, height=height,
                 labels={"direct": "direct (all steps at once)", "recursive": "recursive (step 1 fed back)",
                         "naive": "naive"})
