"""Every Altair chart of the dashboard: pure functions from DataFrames to ``alt.Chart``.

Pages build a tidy DataFrame and call one builder; no page touches Altair directly.
Builders never raise on empty frames (they draw an empty chart) and downsample long
series (Altair/Vega-Lite slow down badly past a few thousand points per mark).

Conventions shared with ``ui/charts_internals.py``:

* colours of named series come from :data:`SERIES_COLORS` (``actual`` grey, ``model`` red,
  baselines muted) so a series looks the same on every page;
* time axes are called ``time``; long frames use ``series`` + ``value`` columns;
* every builder takes ``height`` and returns a chart sized to its container width.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ui.charts_steps import stepify, stepify_spec

# Downsampling keeps charts light; the Vega-Lite row limit must never break a page.
alt.data_transformers.disable_max_rows()

MAX_POINTS = 2000  # per series, after downsampling

SERIES_COLORS: dict[str, str] = {
    "actual": "#4b5563",
    "model": "#e4572e",
    "forecast": "#e4572e",
    "naive": "#9ca3af",
    "seasonal_naive": "#b08d57",
    "linear": "#2a9d8f",
    "train": "#3b82f6",
    "val": "#f59e0b",
    "validation": "#f59e0b",
    "test": "#10b981",
    "per batch": "#93c5fd",
}
SERIES_LABELS: dict[str, str] = {
    "actual": "actual",
    "model": "model",
    "naive": "naive (last value)",
    "seasonal_naive": "seasonal naive",
    "linear": "linear AR",
    "forecast": "forecast",
}
SPAN_COLORS = {"train": "#3b82f6", "validation": "#f59e0b", "test": "#10b981"}
# series without a fixed colour (compared runs, extra features): d3's category10 order without its
# orange and red (the model's colour), so the first few differ as much as colours can
EXTRA_COLORS = ["#1f77b4", "#2ca02c", "#9467bd", "#e377c2", "#17becf", "#bcbd22", "#8c564b", "#7f7f7f"]


def color_scale(names: Iterable[str]) -> alt.Scale:
    """An ordinal colour scale giving each known series its fixed colour (others cycle)."""
    domain = list(dict.fromkeys(str(n) for n in names))
    return alt.Scale(domain=domain, range=_colors(domain))


def _colors(domain: Sequence[str]) -> list[str]:
    extra = iter(EXTRA_COLORS * 4)
    return [SERIES_COLORS.get(n) or next(extra) for n in domain]


# ----------------------------------------------------------------------------- data helpers
def downsample(df: pd.DataFrame, max_points: int = MAX_POINTS, *, x: str | None = None, y: str | None = None,
               group: str | None = None) -> pd.DataFrame:
    """At most ~``max_points`` rows per ``group`` (all rows when ``group`` is None).

    With ``y`` given, each of ``max_points // 2`` buckets along the row order keeps its
    minimum and maximum ``y`` row, so peaks and troughs survive; otherwise every k-th row
    is kept. ``x`` (optional) sorts the rows first. The first and last rows are always kept.
    """
    if df is None or len(df) == 0:
        return df
    max_points = max(4, int(max_points))
    if group is not None and group in df.columns:
        parts = [downsample(part, max_points, x=x, y=y) for _, part in df.groupby(group, sort=False)]
        return pd.concat(parts, ignore_index=True) if parts else df.iloc[:0]
    if x is not None and x in df.columns:
        df = df.sort_values(x, kind="stable")
    n = len(df)
    if n <= max_points:
        return df.reset_index(drop=True)
    if y is not None and y in df.columns:
        values = pd.to_numeric(df[y], errors="coerce").to_numpy(dtype=float)
        n_buckets = max(1, max_points // 2)
        pos = np.flatnonzero(~np.isnan(values))
        keep = np.array([0, n - 1])
        if len(pos):
            grouped = pd.Series(values[pos], index=pos).groupby(pos * n_buckets // n)
            keep = np.r_[keep, grouped.idxmin().to_numpy(), grouped.idxmax().to_numpy()]
        rows = np.unique(keep.astype(int))
    else:
        rows = np.unique(np.r_[np.linspace(0, n - 1, max_points).astype(int), n - 1])
    return df.iloc[rows].reset_index(drop=True)


def to_long(df: pd.DataFrame, x: str, columns: Sequence[str], *, var: str = "series",
            value: str = "value") -> pd.DataFrame:
    """Wide -> long for the given columns (missing columns are skipped)."""
    cols = [c for c in columns if c in df.columns]
    if not cols:
        return pd.DataFrame({x: pd.Series(dtype=df[x].dtype if x in df else "float"), var: [], value: []})
    n = len(df)  # as DataFrame.melt, several times faster
    return pd.DataFrame({x: np.tile(df[x].to_numpy(), len(cols)), var: np.repeat(np.array(cols, dtype=object), n),
                         value: np.concatenate([df[c].to_numpy() for c in cols])})


# ----------------------------------------------------------------------------- Vega-Lite dicts
# Building an Altair chart and validating its spec costs tens of milliseconds per chart, in
# the Streamlit thread, holding the GIL. Charts redrawn every second while a model trains
# (``spec=True`` builders) are built once per layout as a template whose data are named
# datasets; a redraw deep-copies the template and attaches the new DataFrames. Pass the
# dict to ``st.vega_lite_chart``: it gets what ``st.altair_chart`` would have sent.
_TEMPLATES: dict[tuple, dict] = {}
_MAX_TEMPLATES = 256


def vega_lite_dict(chart: alt.TopLevelMixin, *, validate: bool = True) -> dict:
    """``chart.to_dict()`` as ``st.altair_chart`` makes it: without the default theme's
    fixed view size (Streamlit renders with theme "none" plus its own theme)."""
    spec = chart.to_dict(validate=validate)
    if alt.theme.active == "default":
        view = spec.get("config", {}).get("view", {})
        for k, v in alt.theme.get()().get("config", {}).get("view", {}).items():
            if view.get(k) == v:
                del view[k]
        if "view" in spec.get("config", {}) and not view:
            del spec["config"]["view"]
        if "config" in spec and not spec["config"]:
            del spec["config"]
    return spec


def _render(layout: Callable[..., alt.TopLevelMixin], frames: dict[str, pd.DataFrame | None], spec: bool,
            **options: Any) -> Any:
    """``layout(**frames, **options)``: the Altair chart, or with ``spec`` its Vega-Lite dict from a
    template built (and validated) once per ``options`` and set of present frames, with the
    frames as named datasets. ``options`` must be hashable (tuples, not lists)."""
    if not spec:
        return layout(**frames, **options)
    present = {k: v for k, v in frames.items() if v is not None}
    key = (layout.__module__, layout.__qualname__, tuple(sorted(options.items())), tuple(present))
    template = _TEMPLATES.get(key)
    if template is None:
        named = {k: (None if v is None else alt.NamedData(name=k)) for k, v in frames.items()}
        template = vega_lite_dict(layout(**named, **options))
        if len(_TEMPLATES) >= _MAX_TEMPLATES:
            _TEMPLATES.clear()
        _TEMPLATES[key] = template
    out = copy.deepcopy(template)
    out["datasets"] = {k: v.reset_index(drop=True) for k, v in present.items()}
    return stepify_spec(out)  # a series without a time column: its steps, never the placeholder clock


def _empty_layout(text: Any, *, height: int) -> alt.Chart:
    return (alt.Chart(text).mark_text(color="#6b7280", fontSize=13).encode(text="text:N")
            .properties(height=height, width="container"))


def _empty(message: str, height: int, spec: bool = False) -> Any:
    return _render(_empty_layout, {"text": pd.DataFrame({"text": [message]})}, spec, height=height)


# month ticks carry their year ("Jun 2015"): Vega writes the year only on January ticks, which
# overlapping labels often drop, leaving multi-year axes with months alone
TIME_LABELS = ("date(datum.value) == 1 && hours(datum.value) == 0 && minutes(datum.value) == 0 "
               "? timeFormat(datum.value, '%b %Y') : datum.label")


def _time_x(field: str = "time", title: str | None = None) -> alt.X:
    return alt.X(f"{field}:T", title=title, axis=alt.Axis(labelOverlap=True, labelExpr=TIME_LABELS))


def _hover_rule(data: pd.DataFrame, x_field: str, x_type: str, tooltip: list, height: int) -> alt.LayerChart | None:
    """Invisible nearest-x points + a rule showing a tooltip for the hovered x."""
    nearest = alt.selection_point(nearest=True, on="pointerover", fields=[x_field], empty=False, clear="pointerout")
    base = alt.Chart(data).encode(x=alt.X(f"{x_field}:{x_type}"))
    points = base.mark_point(opacity=0, size=60).add_params(nearest)
    rule = base.mark_rule(color="#9ca3af", strokeWidth=1).encode(
        opacity=alt.condition(nearest, alt.value(0.8), alt.value(0)), tooltip=tooltip
    ).transform_filter(nearest)
    return alt.layer(points, rule)


# ----------------------------------------------------------------------------- series + spans
def series_with_spans(series: pd.DataFrame, spans: pd.DataFrame | None = None, *, y_title: str = "",
                      height: int = 320, max_points: int = MAX_POINTS) -> alt.Chart | alt.LayerChart:
    """Line of ``series`` (columns ``time``, ``value``) over shaded spans.

    ``spans``: rows ``span`` (train/validation/test), ``start``, ``end`` (timestamps).
    Zoom and pan along time with the mouse wheel / drag; double-click resets.
    """
    if series is None or len(series) == 0:
        return _empty("no data", height)
    data = downsample(series[["time", "value"]], max_points, x="time", y="value")
    zoom = alt.selection_interval(bind="scales", encodings=["x"])
    line = (
        alt.Chart(data)
        .mark_line(color=SERIES_COLORS["actual"], strokeWidth=1.2)
        .encode(
            x=_time_x("time", None),
            y=alt.Y("value:Q", title=y_title or None, scale=alt.Scale(zero=False)),
            tooltip=[alt.Tooltip("time:T", title="time"), alt.Tooltip("value:Q", title=y_title or "value", format=",.4g")],
        )
        .add_params(zoom)
    )
    layers: list = []
    if spans is not None and len(spans):
        names = list(spans["span"])
        rects = (
            alt.Chart(spans)
            .mark_rect(opacity=0.12)
            .encode(
                x="start:T",
                x2="end:T",
                color=alt.Color(
                    "span:N",
                    title="span",
                    scale=alt.Scale(domain=names, range=[SPAN_COLORS.get(s, "#999") for s in names]),
                    legend=alt.Legend(orient="top", symbolOpacity=0.5),
                ),
                tooltip=[alt.Tooltip("span:N"), alt.Tooltip("start:T"), alt.Tooltip("end:T"), alt.Tooltip("rows:Q")]
                if "rows" in spans.columns else ["span:N", "start:T", "end:T"],
            )
        )
        layers.append(rects)
    layers.append(line)
    return stepify(alt.layer(*layers).properties(height=height, width="container"))


# ----------------------------------------------------------------------------- multi-series lines
def lines(data: pd.DataFrame, *, x: str = "time", x_type: str = "T", y_title: str = "", height: int = 320,
          order: Sequence[str] | None = None, dashed: Sequence[str] = (), max_points: int = MAX_POINTS,
          zoom: bool = True, labels: dict[str, str] | None = None, x_title: str | None = None,
          log_y: bool = False, points: bool = False, integer_x: bool = False,
          legend_below: bool = False, spec: bool = False, steps: bool = True) -> Any:
    """Several named series on one chart: long ``data`` with ``x``, ``series``, ``value``.

    ``order`` fixes the legend order (and which series exist); ``dashed`` series are drawn
    dashed (forecasts, baselines). Hovering shows every series' value at that x.
    ``spec``: return the Vega-Lite dict (cheap; for charts redrawn while training). ``steps``: show
    a series without a time column by its step numbers (:mod:`ui.charts_steps`); a caller that
    layers this chart with others passes False and converts the whole.
    """
    if data is not None and len(data):
        data = data.dropna(subset=["value"])
        if log_y:
            data = data[data["value"] > 0]
    if data is None or len(data) == 0:
        return _empty("nothing to show yet", height, spec)
    n_series = max(1, data["series"].nunique())
    per_series = max(500, int(max_points * 2 / n_series)) if n_series > 2 else max_points
    data = downsample(data, per_series, x=x, y="value", group="series")
    names = list(order) if order else list(dict.fromkeys(data["series"]))
    codes, present = pd.factorize(data["series"])
    names = [n for n in names if n in set(present)]
    labels = {**SERIES_LABELS, **(labels or {})}
    label_order = tuple(labels.get(n, n) for n in names)
    data = pd.DataFrame({x: data[x].to_numpy(),
                         "series": np.array([labels.get(s, s) for s in present], dtype=object)[codes],
                         "value": data["value"].to_numpy()})
    dashed_labels = {labels.get(n, n) for n in dashed}
    # tooltip: one row per x with every series as a column
    wide = data.groupby([x, "series"])["value"].first().unstack("series").reset_index()
    wide.columns = [str(c) for c in wide.columns]
    chart = _render(_lines_layout, {"data": data, "wide": wide}, spec, x=x, x_type=x_type, x_title=x_title,
                    y_title=y_title, height=height, label_order=label_order, colors=tuple(_colors(names)),
                    dashed=tuple(lbl in dashed_labels for lbl in label_order),
                    tips=tuple(lbl for lbl in label_order if lbl in wide.columns), zoom=zoom, log_y=log_y,
                    points=points, integer_x=integer_x, legend_below=legend_below)
    return chart if spec or not steps else stepify(chart)


def _lines_layout(data: Any, wide: Any, *, x: str, x_type: str, x_title: str | None, y_title: str, height: int,
                  label_order: tuple[str, ...], colors: tuple[str, ...], dashed: tuple[bool, ...],
                  tips: tuple[str, ...], zoom: bool, log_y: bool, points: bool, integer_x: bool,
                  legend_below: bool) -> alt.LayerChart:
    """The layout of :func:`lines` (``data``, ``wide``: DataFrames or named data)."""
    domain = list(label_order)
    dash = alt.StrokeDash("series:N", legend=None, scale=alt.Scale(
        domain=domain, range=[[5, 3] if d else [1, 0] for d in dashed]))
    xenc = alt.X(f"{x}:{x_type}", title=x_title,
                 axis=alt.Axis(tickMinStep=1, format="d") if x_type == "Q" and integer_x else
                 alt.Axis(labelOverlap=True, labelExpr=TIME_LABELS if x_type == "T" else alt.Undefined))
    yscale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    base = alt.Chart(data).encode(
        x=xenc,
        y=alt.Y("value:Q", title=y_title or None, scale=yscale, axis=_log_axis() if log_y else alt.Undefined),
        color=alt.Color("series:N", title=None, scale=alt.Scale(domain=domain, range=list(colors)), sort=domain,
                        legend=_legend(legend_below)),
    )
    mark = base.mark_line(strokeWidth=1.6, point=points).encode(strokeDash=dash)
    if zoom:
        mark = mark.add_params(alt.selection_interval(bind="scales", encodings=["x"]))
    fmt = "%Y-%m-%d %H:%M" if x_type == "T" else None
    tip = [alt.Tooltip(f"{x}:{x_type}", title=x_title or x, **({"format": fmt} if fmt else {}))]
    tip += [alt.Tooltip(f"{_esc(lbl)}:Q", title=lbl, format=",.4g") for lbl in tips]
    hover = _hover_rule(wide, x, x_type, tip, height)
    return alt.layer(mark, hover).properties(height=height, width="container")


def _legend(below: bool = False, **kw: object) -> alt.Legend:
    """Line legends: short names on top; long names (run labels) one per row below."""
    if below:
        return alt.Legend(orient="bottom", direction="vertical", columns=1, labelLimit=0, symbolType="stroke",
                          symbolStrokeWidth=2.5, **kw)
    return alt.Legend(orient="top", symbolType="stroke", symbolStrokeWidth=2.5, **kw)


def _log_axis() -> alt.Axis:
    """Log-scale value axes: a few ticks with short labels (Vega labels every 1-2-5 step otherwise)."""
    return alt.Axis(tickCount=4, format="~g", labelOverlap="greedy")


def _esc(field: str) -> str:
    """Escape characters Vega-Lite treats specially in field names."""
    out = field
    for ch in ("\\", ".", "[", "]", ":"):
        out = out.replace(ch, "\\" + ch)
    return out


# ----------------------------------------------------------------------------- training
LOSS_TITLES = {"forecast": "loss (scaled MSE)", "text": "loss (cross-entropy, nats per token)",
               "classify": "loss (cross-entropy)"}  # what each task's trainer minimises


def loss_curves(history: pd.DataFrame, batches: pd.DataFrame | None = None, *, best_epoch: int | None = None,
                height: int = 300, log_y: bool = True, spec: bool = False, loss_title: str = LOSS_TITLES["forecast"]) -> Any:
    """Per-epoch train/validation loss (lines + points) over thin per-batch losses.

    ``history``: ``epoch``, ``train_loss``, ``val_loss``; ``batches``: ``epoch`` (fractional),
    ``loss``. ``best_epoch`` draws a vertical marker. Log scale by default (MSE spans decades).
    ``spec``: return the Vega-Lite dict (cheap; for charts redrawn while training).
    """
    def part(names: Sequence[str], x: np.ndarray, ys: Sequence[np.ndarray]) -> pd.DataFrame | None:
        x, v = np.tile(np.asarray(x, dtype=float), len(ys)), np.concatenate([np.asarray(y, dtype=float) for y in ys])
        keep = np.isfinite(v) & (v > 0 if log_y else True)
        if not keep.any():
            return None
        series = np.repeat(np.array(names, dtype=object), len(x) // max(1, len(ys)))
        return pd.DataFrame({"epoch": x[keep], "series": series[keep], "value": v[keep]})

    batch = ep = None
    if batches is not None and len(batches):
        b = downsample(pd.DataFrame({"epoch": batches["epoch"].to_numpy(), "value": batches["loss"].to_numpy()}), 600,
                       x="epoch", y="value")
        batch = part(["per batch"], b["epoch"].to_numpy(), [b["value"].to_numpy()])
    if history is not None and len(history):
        cols = [(c, n) for c, n in (("train_loss", "train"), ("val_loss", "validation")) if c in history]
        ep = part([n for _, n in cols], history["epoch"].to_numpy(), [history[c].to_numpy() for c, _ in cols]) \
            if cols else None
    if batch is None and ep is None:
        return _empty("loss curves appear after the first batches", height, spec)
    present = set() if ep is None else set(ep["series"].unique())
    names = tuple(n for n in ("per batch", "train", "validation")
                  if (batch is not None if n == "per batch" else n in present))
    best = pd.DataFrame({"epoch": [best_epoch], "label": [f"best epoch {best_epoch}"]}) if best_epoch else None
    return _render(_loss_layout, {"batch": batch, "epochs": ep, "best": best}, spec, names=names, height=height,
                   log_y=log_y, loss_title=loss_title)


def _loss_layout(batch: Any, epochs: Any, best: Any, *, names: tuple[str, ...], height: int,
                 log_y: bool, loss_title: str) -> alt.LayerChart:
    """The layout of :func:`loss_curves` (frames: DataFrames, named data or None)."""
    y = alt.Y("value:Q", title=loss_title, scale=alt.Scale(type="log") if log_y else alt.Scale(zero=False),
              axis=_log_axis() if log_y else alt.Undefined)
    x = alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1))
    color = alt.Color("series:N", title=None, scale=color_scale(names), sort=list(names), legend=alt.Legend(orient="top"))
    layers = []
    if batch is not None:
        layers.append(alt.Chart(batch).mark_line(strokeWidth=0.8, opacity=0.55).encode(x=x, y=y, color=color))
    if epochs is not None:
        layers.append(
            alt.Chart(epochs).mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=28)).encode(
                x=x, y=y, color=color,
                tooltip=[alt.Tooltip("series:N", title=""), alt.Tooltip("epoch:Q"), alt.Tooltip("value:Q", title="loss", format=".4g")],
            )
        )
    if best is not None:
        layers.append(alt.Chart(best).mark_rule(color="#6b7280", strokeDash=[3, 3]).encode(x="epoch:Q", tooltip=["label:N"]))
    return alt.layer(*layers).properties(height=height, width="container")


def live_preview(preview: pd.DataFrame, *, y_title: str = "", height: int = 300, spec: bool = False) -> Any:
    """Validation span: actual vs the model's one-step-ahead forecast (``time``, ``actual``, ``forecast``).
    ``spec``: return the Vega-Lite dict (cheap; for charts redrawn while training)."""
    if preview is None or len(preview) == 0:
        return _empty("the validation forecast appears after the first batches", height, spec)
    long = to_long(preview, "time", ["actual", "forecast"])
    return lines(long, order=["actual", "forecast"], y_title=y_title, height=height,
                 labels={"forecast": "model (1 step ahead)"}, spec=spec)


def live_training(history: Sequence[dict], batch_losses: Sequence[tuple[float, float]], preview: dict | None, *,
                  best_epoch: int | None = None, y_title: str = "", height: int = 280,
                  task: str = "forecast") -> tuple[dict, dict]:
    """The Train page's two charts, from a training job's snapshot, as Vega-Lite dicts for
    ``st.vega_lite_chart`` (a few ms: they are redrawn every second while the model trains):
    :func:`loss_curves` and :func:`live_preview`. ``history``: dicts with ``epoch``,
    ``train_loss``, ``val_loss``; ``batch_losses``: (fractional epoch, loss) pairs; ``preview``:
    ``time``, ``actual``, ``forecast`` arrays or None."""
    hist = pd.DataFrame(list(history), columns=["epoch", "train_loss", "val_loss"])
    batches = pd.DataFrame(list(batch_losses), columns=["epoch", "loss"])
    loss = loss_curves(hist, batches, best_epoch=best_epoch or None, height=height, spec=True,
                       loss_title=LOSS_TITLES.get(task, "loss"))
    # the preview changes a few times per epoch, the loss at every redraw: reuse an unchanged one
    key = (y_title, height, *(id(preview[k]) for k in ("time", "actual", "forecast"))) if preview is not None else None
    hit = _PREVIEWS.get(key) if key is not None else None
    if hit is None:
        frame = None if preview is None else pd.DataFrame({k: preview[k] for k in ("time", "actual", "forecast")})
        hit = (preview, live_preview(frame, y_title=y_title, height=height, spec=True))  # keeps the arrays (and ids)
        if key is not None:
            if len(_PREVIEWS) >= 16:
                _PREVIEWS.clear()
            _PREVIEWS[key] = hit
    spec = hit[1]
    return loss, {**copy.deepcopy({k: v for k, v in spec.items() if k != "datasets"}), "datasets": dict(spec["datasets"])}


_PREVIEWS: dict[tuple, tuple[dict | None, dict]] = {}  # live_training's last previews, by array identity


# ----------------------------------------------------------------------------- predictions
def predictions_chart(frame: pd.DataFrame, series: Sequence[str], *, y_title: str = "", height: int = 360,
                      x: str = "target_time") -> alt.Chart | alt.LayerChart:
    """Actual vs model (and chosen baselines) from a wide predictions frame (one horizon step)."""
    cols = ["actual", *[s for s in series if s != "actual"]]
    data = to_long(frame.rename(columns={x: "time"}), "time", cols)
    dashed = [s for s in cols if s not in ("actual", "model")]
    return lines(data, order=cols, dashed=dashed, y_title=y_title, height=height)


def per_step_chart(per_step: pd.DataFrame, *, metric: str = "rmse", height: int = 300) -> alt.Chart | alt.LayerChart:
    """Error by horizon step: long ``per_step`` with ``step``, ``series``, ``value``."""
    if per_step is None or len(per_step) == 0:
        return _empty("no per-step errors", height)
    order = [s for s in ("model", "naive", "seasonal_naive", "linear") if s in set(per_step["series"])]
    order += [s for s in dict.fromkeys(per_step["series"]) if s not in order]
    dashed = [s for s in order if s != "model"]
    return lines(per_step, x="step", x_type="Q", x_title="horizon step", y_title=metric.upper(), order=order,
                 dashed=dashed, height=height, zoom=False, points=True, integer_x=True)


def forecast_chart(history: pd.DataFrame, forecast: pd.DataFrame, *, y_title: str = "",
                   height: int = 340) -> alt.Chart | alt.LayerChart:
    """Recent history (``time``, ``value``) continued by the forecast (``time``, ``forecast``).

    The forecast line starts at the last observed value so the two lines join; the
    region beyond the data is shaded.
    """
    if history is None or len(history) == 0:
        return _empty("no history", height)
    hist = history[["time", "value"]].assign(series="actual")
    parts = [hist]
    if forecast is not None and len(forecast):
        last = history.iloc[[-1]][["time", "value"]]
        fc = pd.concat([last, forecast.rename(columns={"forecast": "value"})[["time", "value"]]], ignore_index=True)
        parts.append(fc.assign(series="forecast"))
    data = pd.concat(parts, ignore_index=True)
    chart = lines(data, order=["actual", "forecast"], dashed=["forecast"], y_title=y_title, height=height,
                  points=False, labels={"forecast": "forecast beyond the data"}, steps=False)
    if forecast is None or not len(forecast):
        return stepify(chart)
    band = pd.DataFrame({"start": [history["time"].iloc[-1]], "end": [forecast["time"].iloc[-1]],
                         "label": ["beyond the data"]})
    shade = alt.Chart(band).mark_rect(color="#e4572e", opacity=0.06).encode(x="start:T", x2="end:T",
                                                                             tooltip=["label:N"])
    points = (
        alt.Chart(forecast.assign(series="forecast"))
        .mark_point(color=SERIES_COLORS["forecast"], filled=True, size=36)
        .encode(x="time:T", y="forecast:Q",
                tooltip=[alt.Tooltip("time:T"), alt.Tooltip("step:Q"), alt.Tooltip("forecast:Q", format=",.4g")])
    )
    return stepify(alt.layer(shade, chart, points).properties(height=height, width="container"))


# ----------------------------------------------------------------------------- comparisons
def compare_losses(history: pd.DataFrame, *, height: int = 320, log_y: bool = True) -> alt.Chart | alt.LayerChart:
    """Validation (solid) and train (dashed) loss per epoch of several runs.

    ``history``: ``run`` (label), ``epoch``, ``train_loss``, ``val_loss``.
    """
    if history is None or len(history) == 0:
        return _empty("no loss history", height)
    long = history.melt(id_vars=["run", "epoch"], value_vars=["train_loss", "val_loss"], var_name="kind",
                        value_name="value")
    long["kind"] = long["kind"].map({"train_loss": "train", "val_loss": "validation"})
    long = long[np.isfinite(long["value"].astype(float))]
    if log_y:
        long = long[long["value"] > 0]
    if not len(long):
        return _empty("no loss history", height)
    runs = list(dict.fromkeys(history["run"]))
    scale = alt.Scale(domain=runs, range=(EXTRA_COLORS * 4)[: len(runs)])
    return (
        alt.Chart(long)
        .mark_line(strokeWidth=1.8, point=alt.OverlayMarkDef(size=20))
        .encode(
            x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("value:Q", title="training loss (scaled MSE; cross-entropy for text and classify runs)",
                    scale=alt.Scale(type="log") if log_y else alt.Scale(zero=False), axis=_log_axis() if log_y else alt.Undefined),
            color=alt.Color("run:N", title=None, scale=scale, legend=_legend(True)),
            strokeDash=alt.StrokeDash("kind:N", title=None, legend=None,  # the page says: solid validation, dashed train
                                      scale=alt.Scale(domain=["validation", "train"], range=[[1, 0], [5, 3]])),
            tooltip=["run:N", "kind:N", "epoch:Q", alt.Tooltip("value:Q", format=".4g")],
        )
        .properties(height=height, width="container")
    )


def compare_predictions(data: pd.DataFrame, *, y_title: str = "", height: int = 340) -> alt.Chart | alt.LayerChart:
    """Actual plus several runs' forecasts: long ``data`` with ``time``, ``series``, ``value``."""
    if data is None or len(data) == 0:
        return _empty("no predictions", height)
    order = ["actual", *[s for s in dict.fromkeys(data["series"]) if s != "actual"]]
    return lines(data, order=order, y_title=y_title, height=height, legend_below=True)


