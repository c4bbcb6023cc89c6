"""Altair builders for sequence classification: classes, lengths, frames, padding and masks,
confusion matrices, pooled states, trajectories, class probabilities over steps, saliency."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

CORRECT_COLORS = alt.Scale(domain=["right", "wrong"], range=["#10b981", "#e4572e"])
MAX_WRITTEN_CLASSES = 15  # a confusion matrix writes its counts in up to this many classes


def _empty(message: str, height: int) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"t": [message]})).mark_text(color="#6b7280").encode(text="t:N").properties(
        height=height, width="container")


def class_counts(counts: dict[str, int], *, height: int = 220) -> alt.Chart:
    """Sequences per class (bars)."""
    frame = pd.DataFrame({"class": list(counts), "sequences": list(counts.values())})
    return alt.Chart(frame).mark_bar(color="#3b82f6").encode(
        x=alt.X("class:N", sort=list(counts), axis=alt.Axis(labelAngle=0)), y="sequences:Q",
        tooltip=["class:N", "sequences:Q"]).properties(height=height, width="container")


def length_histogram(lengths: np.ndarray, labels: Sequence[str], *, height: int = 220) -> alt.Chart:
    """Steps per sequence, stacked by class."""
    frame = pd.DataFrame({"length": np.asarray(lengths), "class": list(labels)})
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("length:Q", bin=alt.Bin(maxbins=30), title="steps per sequence"),
        y=alt.Y("count():Q", title="sequences"), color=alt.Color("class:N", legend=alt.Legend(columns=2)),
        tooltip=["class:N", alt.Tooltip("count():Q", title="sequences")]).properties(height=height, width="container")


def frames_heatmap(frame: pd.DataFrame, *, height: int = 200) -> alt.Chart:
    """One sequence's frames: step x feature, coloured by value."""
    if frame is None or frame.empty:
        return _empty("no frames", height)
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("step:O", axis=alt.Axis(labelAngle=0, labelOverlap="parity")),
        y=alt.Y("feature:N", sort=list(dict.fromkeys(frame["feature"]))),
        color=alt.Color("value:Q", scale=alt.Scale(scheme="redblue", domainMid=0)),
        tooltip=["step:O", "feature:N", alt.Tooltip("value:Q", format=".3f")]).properties(height=height,
                                                                                           width="container")


def padding_view(frame: pd.DataFrame, *, height: int = 220) -> alt.LayerChart | alt.Chart:
    """A padded batch: rows = sequences, columns = steps; valid steps coloured by the first
    feature (or show their character), padding grey with a dot."""
    if frame is None or frame.empty:
        return _empty("no batch", height)
    base = alt.Chart(frame).encode(x=alt.X("step:O", axis=alt.Axis(labelAngle=0, labelOverlap="parity")),
                                   y=alt.Y("row:N", title=None, sort=list(dict.fromkeys(frame["row"]))))
    valid = base.transform_filter("datum.valid").mark_rect().encode(
        color=alt.Color("value:Q", title="value (scaled)", scale=alt.Scale(scheme="blues")),
        tooltip=["row:N", "step:O", "valid:N", alt.Tooltip("value:Q", format=".3f"), "token:N"])
    pad = base.transform_filter("!datum.valid").mark_rect(color="#e5e7eb").encode(
        tooltip=["row:N", "step:O", "valid:N"])
    text = base.mark_text(fontSize=11).encode(text="token:N")
    return alt.layer(valid, pad, text).properties(height=height, width="container")


def confusion_chart(matrix: Sequence[Sequence[int]], classes: Sequence[str], *, height: int = 300) -> alt.LayerChart:
    """Counts: true class (rows) x predicted class (columns), with the counts written in (smaller
    with more classes; beyond :data:`MAX_WRITTEN_CLASSES` the tooltip alone tells them). The colour
    legend sits below, so the cells get the column's whole width."""
    m = np.asarray(matrix)
    n = len(classes)
    frame = pd.DataFrame([{"true": classes[i], "predicted": classes[j], "count": int(m[i, j]),
                           "share": m[i, j] / max(1, m[i].sum())} for i in range(n) for j in range(n)])
    base = alt.Chart(frame).encode(x=alt.X("predicted:N", sort=list(classes), axis=alt.Axis(labelAngle=0)),
                                   y=alt.Y("true:N", sort=list(classes)))
    legend = alt.Legend(orient="bottom", direction="horizontal", gradientLength=160, titleOrient="left")
    rect = base.mark_rect().encode(color=alt.Color("share:Q", title="share of the row", legend=legend, scale=alt.Scale(
        scheme="greens", domain=[0, 1])), tooltip=["true:N", "predicted:N", "count:Q",
                                                   alt.Tooltip("share:Q", format=".0%")])
    if n > MAX_WRITTEN_CLASSES:
        return alt.layer(rect).properties(height=height, width="container")
    size = 12 if n <= 4 else 11 if n <= 6 else 9
    text = base.mark_text(fontSize=size).encode(text="count:Q", color=alt.condition(
        "datum.share > 0.5", alt.value("white"), alt.value("#111827")))
    return alt.layer(rect, text).properties(height=height, width="container")


def pooled_scatter(frame: pd.DataFrame, color: str = "true", *, height: int = 360) -> alt.Chart:
    """The pooled state of every test sequence in the PCA plane, coloured by class or correctness."""
    if frame is None or frame.empty:
        return _empty("no test sequences", height)
    enc = (alt.Color("correct:N", scale=CORRECT_COLORS, title="prediction") if color == "correct"
           else alt.Color(f"{color}:N", title=f"{color} class", legend=alt.Legend(columns=2)))
    return alt.Chart(frame).mark_point(filled=True, size=45, opacity=0.8).encode(
        x="PC1:Q", y="PC2:Q", color=enc,
        shape=alt.Shape("correct:N", scale=alt.Scale(domain=["right", "wrong"], range=["circle", "cross"])),
        tooltip=["id:N", "true:N", "predicted:N", alt.Tooltip("confidence:Q", format=".2f"), "length:Q"],
    ).properties(height=height, width="container")


def trajectory_chart(traj: pd.DataFrame, background: pd.DataFrame | None = None, *,
                     height: int = 360) -> alt.LayerChart:
    """One sequence's state step by step in the PCA plane (numbered), over the test sequences' pooled states."""
    layers = []
    if background is not None and not background.empty:
        layers.append(alt.Chart(background).mark_point(size=20, opacity=0.25, filled=True).encode(
            x="PC1:Q", y="PC2:Q", color=alt.Color("true:N", title="true class", legend=alt.Legend(columns=2))))
    path = alt.Chart(traj).encode(x="PC1:Q", y="PC2:Q", order="step:Q")
    layers.append(path.mark_line(color="#111827", strokeWidth=1.5))
    layers.append(path.mark_point(filled=True, color="#111827", size=50).encode(
        tooltip=["step:Q", "predicted:N", alt.Tooltip("PC1:Q", format=".2f"), alt.Tooltip("PC2:Q", format=".2f")]))
    layers.append(path.mark_text(dy=-9, fontSize=10).encode(text="step:Q"))
    return alt.layer(*layers).properties(height=height, width="container")


def probabilities_over_steps(long: pd.DataFrame, *, height: int = 260) -> alt.Chart:
    """Class probabilities after reading the first ``step`` steps."""
    return alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("step:Q", title="steps read", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1])), color=alt.Color("class:N", legend=alt.Legend(
            columns=2)), tooltip=["step:Q", "class:N", alt.Tooltip("probability:Q", format=".3f")],
    ).properties(height=height, width="container")


def step_bars(frame: pd.DataFrame, field: str, title: str, *, height: int = 200) -> alt.Chart:
    """One value per step (pooling weight, saliency), with the character as the label for texts."""
    if frame is None or frame.empty or frame[field].isna().all():
        return _empty(f"no {title}", height)
    x = alt.X("step:O", axis=alt.Axis(labelAngle=0, labelOverlap="parity"))
    tooltip = ["step:O", alt.Tooltip(f"{field}:Q", format=".3f")] + (["token:N"] if "token" in frame else [])
    bars = alt.Chart(frame).mark_bar(color="#9467bd").encode(x=x, y=alt.Y(f"{field}:Q", title=title), tooltip=tooltip)
    if "token" in frame:
        return alt.layer(bars, alt.Chart(frame).mark_text(dy=-6).encode(x=x, y=f"{field}:Q", text="token:N")
                         ).properties(height=height, width="container")
    return bars.properties(height=height, width="container")


def accuracy_by_length(frame: pd.DataFrame, *, height: int = 240) -> alt.Chart:
    """Test accuracy of the model and the logistic baseline per length bin."""
    if frame is None or frame.empty:
        return _empty("no test sequences", height)
    long = frame.melt(id_vars=["lengths", "n"], value_vars=["model", "logistic"], var_name="who",
                      value_name="accuracy")
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("lengths:N", title="steps (length bin)", sort=list(frame["lengths"]), axis=alt.Axis(labelAngle=0)),
        xOffset="who:N", y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.Color("who:N", title=None, scale=alt.Scale(domain=["model", "logistic"],
                                                             range=["#e4572e", "#6b7280"])),
        tooltip=["lengths:N", "n:Q", "who:N", alt.Tooltip("accuracy:Q", format=".1%")],
    ).properties(height=height, width="container")


def probability_bars(proba: np.ndarray, classes: Sequence[str], *, height: int = 180) -> alt.Chart:
    frame = pd.DataFrame({"class": list(classes), "probability": np.asarray(proba, dtype=float)})
    return alt.Chart(frame).mark_bar(color="#3b82f6").encode(
        x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        y=alt.Y("class:N", sort="-x"), tooltip=["class:N", alt.Tooltip("probability:Q", format=".1%")],
    ).properties(height=height, width="container")


def accuracy_curve(history: dict[int, float], *, height: int = 240) -> alt.Chart:
    """Validation accuracy per epoch (live)."""
    frame = pd.DataFrame({"epoch": list(history), "accuracy": list(history.values())}).sort_values("epoch")
    return alt.Chart(frame).mark_line(point=True, color="#f59e0b").encode(
        x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("accuracy:Q", title="validation accuracy", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        tooltip=["epoch:Q", alt.Tooltip("accuracy:Q", format=".1%")]).properties(height=height, width="container")
