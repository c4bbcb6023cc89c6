"""Prediction-interval bands (Altair): shaded lower..upper areas under the lines of a chart."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from ui.charts_steps import stepify

BAND_OPACITY = {0: 0.28, 1: 0.14, 2: 0.08}  # innermost band darkest
BAND_COLOR = "#4c78a8"


def band_columns(frame: pd.DataFrame) -> list[str]:
    """The interval labels a frame carries (``lower_80`` + ``upper_80`` -> ``"80"``), narrowest first."""
    labels = [c[len("lower_"):] for c in frame.columns if c.startswith("lower_") and f"upper_{c[6:]}" in frame.columns]
    return sorted(labels, key=float)


def with_bands(chart: alt.TopLevelMixin, frame: pd.DataFrame, *, x: str = "time", labels: Sequence[str] | None = None,
               coverage: dict[str, float] | None = None, height: int = 340) -> alt.LayerChart:
    """``chart`` over shaded bands ``lower_<label>..upper_<label>`` of ``frame`` (widest drawn first).
    ``coverage``: label -> measured coverage, shown in the tooltip next to the nominal level."""
    labels = list(labels if labels is not None else band_columns(frame))
    layers = []
    for i, label in enumerate(sorted(labels, key=float, reverse=True)):
        cov = (coverage or {}).get(label)
        words = f"{label} % interval" + (f" (test coverage {cov:.0%})" if cov is not None and cov == cov else "")
        data = frame[[x, f"lower_{label}", f"upper_{label}"]].rename(
            columns={x: "time", f"lower_{label}": "lower", f"upper_{label}": "upper"}).assign(band=words)
        data = data[pd.notna(data["lower"]) & pd.notna(data["upper"])]
        opacity = BAND_OPACITY.get(len(labels) - 1 - i, 0.08)
        layers.append(alt.Chart(data).mark_area(color=BAND_COLOR, opacity=opacity).encode(
            x=alt.X("time:T", title=None), y="lower:Q", y2="upper:Q",
            tooltip=[alt.Tooltip("band:N", title="band"), alt.Tooltip("time:T"),
                     alt.Tooltip("lower:Q", format=",.4g"), alt.Tooltip("upper:Q", format=",.4g")]))
    return stepify(alt.layer(*layers, chart).properties(height=height, width="container"))


def origins_chart(series: pd.DataFrame, origins: pd.DataFrame, *, y_title: str = "", height: int = 300) -> alt.LayerChart:
    """The series (``time``, ``value``) with a rule at each backtest origin (``time``, ``origin``)."""
    line = alt.Chart(series).mark_line(color="#333333", strokeWidth=1).encode(
        x=alt.X("time:T", title=None), y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)))
    rules = alt.Chart(origins).mark_rule(color="#e4572e", strokeDash=[4, 3]).encode(
        x="time:T", tooltip=[alt.Tooltip("origin:Q"), alt.Tooltip("time:T")])
    return stepify(alt.layer(line, rules).properties(height=height, width="container"))


def error_by_origin_chart(table: pd.DataFrame, *, metric: str = "RMSE", height: int = 300) -> alt.Chart:
    """Error by origin: long ``table`` with ``origin``, ``series``, ``value``; the model drawn solid."""
    return alt.Chart(table).mark_line(point=True).encode(
        x=alt.X("origin:O", title="origin"), y=alt.Y("value:Q", title=f"test {metric}"),
        color=alt.Color("series:N", title=None),
        strokeDash=alt.condition(alt.datum.series == "model", alt.value([1, 0]), alt.value([4, 3])),
        tooltip=["origin:O", "series:N", alt.Tooltip("value:Q", format=",.4g")],
    ).properties(height=height, width="container")
