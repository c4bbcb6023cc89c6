"""Altair builders for the parts beyond the plain RNN: attention, convolutions, highway."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui.charts import SERIES_COLORS, lines
from ui.charts_steps import stepify


def _empty(message: str, height: int) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"t": [message]})).mark_text(color="#6b7280").encode(text="t:N").properties(
        height=height, width="container")


def attention_heatmap(frame: pd.DataFrame, *, height: int = 320) -> alt.Chart:
    """Windows (rows, by anchor time) x input steps (lag, oldest left): the attention weight."""
    if frame is None or len(frame) == 0:
        return _empty("no attention weights", height)
    lags = sorted(frame["lag"].unique(), reverse=True)
    return stepify(alt.Chart(frame).mark_rect().encode(
        x=alt.X("lag:O", title="steps before the anchor (0 = last input step)", sort=lags,
                axis=alt.Axis(labelAngle=0, labelOverlap="parity")),
        y=alt.Y("time:O", title="window (anchor)", axis=alt.Axis(labels=False, ticks=False)),
        color=alt.Color("weight:Q", title="attention", scale=alt.Scale(scheme="orangered")),
        tooltip=[alt.Tooltip("time:T", title="anchor"), "lag:O", alt.Tooltip("weight:Q", format=".3f")],
    ).properties(height=height, width="container"))


def attention_vs_saliency(frame: pd.DataFrame, *, height: int = 260) -> alt.LayerChart | alt.Chart:
    """One window: attention weight and saliency share per input step, side by side."""
    if frame is None or len(frame) == 0:
        return _empty("no window", height)
    long = frame.melt(id_vars="lag", value_vars=["attention", "saliency"], var_name="measure", value_name="share")
    lags = sorted(frame["lag"].unique(), reverse=True)
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("lag:O", title="steps before the anchor", sort=lags, axis=alt.Axis(labelAngle=0, labelOverlap="parity")),
        xOffset="measure:N",
        y=alt.Y("share:Q", title="share of the window", axis=alt.Axis(format="%")),
        color=alt.Color("measure:N", title=None, scale=alt.Scale(domain=["attention", "saliency"],
                                                                 range=[SERIES_COLORS["model"], "#1f77b4"]),
                        legend=alt.Legend(orient="top")),
        tooltip=["measure:N", "lag:O", alt.Tooltip("share:Q", format=".1%")],
    ).properties(height=height, width="container")


def conv_filters_heatmap(frame: pd.DataFrame, layer: int = 0, *, height: int = 260) -> alt.Chart:
    """One convolution layer's weights: channel (rows) x input and tap (columns)."""
    data = frame[frame["layer"] == layer]
    if len(data) == 0:
        return _empty("no filters", height)
    data = data.assign(column=data["input"].astype(str) + " · t" + data["tap"].astype(str))
    lim = float(data["weight"].abs().max()) or 1.0
    return alt.Chart(data).mark_rect().encode(
        x=alt.X("column:N", title="input · kernel tap (t0 = oldest)", sort=list(dict.fromkeys(data["column"])),
                axis=alt.Axis(labelAngle=-45, labelOverlap="parity")),
        y=alt.Y("channel:O", title="filter"),
        color=alt.Color("weight:Q", scale=alt.Scale(scheme="redblue", domain=[-lim, lim], reverse=True)),
        tooltip=["channel:O", "input:N", "tap:O", alt.Tooltip("weight:Q", format=".3f")],
    ).properties(height=height, width="container")


def conv_activations_heatmap(frame: pd.DataFrame, layer: int, *, height: int = 260) -> alt.Chart:
    """One window: a convolution layer's activation per channel (rows) and input step (columns)."""
    data = frame[frame["layer"] == layer]
    if len(data) == 0:
        return _empty("no activations", height)
    lags = sorted(data["lag"].unique(), reverse=True)
    return alt.Chart(data).mark_rect().encode(
        x=alt.X("lag:O", title="steps before the anchor", sort=lags, axis=alt.Axis(labelAngle=0, labelOverlap="parity")),
        y=alt.Y("channel:O", title="filter"),
        color=alt.Color("activation:Q", scale=alt.Scale(scheme="viridis")),
        tooltip=["channel:O", "lag:O", alt.Tooltip("activation:Q", format=".3f")],
    ).properties(height=height, width="container")


def highway_share_chart(share: pd.DataFrame, *, height: int = 240) -> alt.Chart:
    """Per forecast step, the highway's share of the forecast (model space)."""
    if share is None or len(share) == 0:
        return _empty("no highway", height)
    return alt.Chart(share).mark_bar(color="#2a9d8f").encode(
        x=alt.X("step:O", title="horizon step", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("highway_share:Q", title="share from the highway", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        tooltip=["step:O", alt.Tooltip("highway_share:Q", format=".1%"),
                 alt.Tooltip("mean_abs_network:Q", format=".3g"), alt.Tooltip("mean_abs_highway:Q", format=".3g")],
    ).properties(height=height, width="container")


def highway_window_chart(frame: pd.DataFrame, *, y_title: str = "", height: int = 260) -> alt.LayerChart | alt.Chart:
    """One window's forecast with and without the highway, and the actual values."""
    long = frame.melt(id_vars=["time"], value_vars=["actual", "full", "network_only", "highway_only"],
                      var_name="series", value_name="value").dropna()
    long["series"] = long["series"].map({"actual": "actual", "full": "model (network + highway)",
                                         "network_only": "network only", "highway_only": "highway only"})
    return lines(long, order=["actual", "model (network + highway)", "network only", "highway only"],
                 dashed=["network only", "highway only"], y_title=y_title, height=height, zoom=False, points=True)
