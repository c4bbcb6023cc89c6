"""Altair chart builders of the text views (no Streamlit here: pages and views draw them).

* :func:`text_grid`: the text laid out as it reads (column x line), each character on a cell
  coloured by a value: a unit's activation, the model's surprise, the probability it gave
  (Karpathy's colourings); the tooltip shows the model's top-5 guesses.
* :func:`baseline_bars`: the model's test score beside the unigram and n-gram baselines.
* :func:`pca_path`: the hidden-state trajectory over the excerpt, coloured by character class.
* :func:`saturation_bars`: share of left/right-saturated gate values per gate.
* :func:`feature_bars`: the top units of each feature with their correlation.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

CELL = 14  # px per character cell
MAX_COLS = 90  # wider lines wrap in the grid


def grid_positions(frame: pd.DataFrame, max_cols: int = MAX_COLS) -> pd.DataFrame:
    """Row / column of every token in the grid: lines as in the text, long lines wrapped."""
    rows, cols, r, c = [], [], 0, 0
    for tok in frame["token"]:
        if c >= max_cols:
            r, c = r + 1, 0
        rows.append(r)
        cols.append(c)
        if tok == "\n":
            r, c = r + 1, 0
        else:
            c += max(1, len(tok)) if len(tok) > 1 else 1
    out = frame.copy()
    out["row"], out["colx"] = rows, cols
    return out


def text_grid(frame: pd.DataFrame, value: str, title: str, *, scheme: str = "redblue", domain: Any = None,
              reverse: bool = True, tooltip_extra: tuple[str, ...] = ()) -> alt.LayerChart:
    """Characters on coloured cells (``value``: a column of ``frame``, e.g. activation or surprisal)."""
    g = grid_positions(frame)
    n_rows = int(g["row"].max()) + 1 if len(g) else 1
    scale = alt.Scale(scheme=scheme, reverse=reverse, **({"domain": list(domain)} if domain is not None else {}))
    tips = [alt.Tooltip("pos:Q", title="position"), alt.Tooltip("shown:N", title="token"),
            alt.Tooltip(f"{value}:Q", format=".3f"), *(alt.Tooltip(f"{t}:N") for t in tooltip_extra)]
    base = alt.Chart(g).encode(x=alt.X("colx:O", axis=None), y=alt.Y("row:O", axis=None))
    rect = base.mark_rect().encode(color=alt.Color(f"{value}:Q", scale=scale, title=value), tooltip=tips)
    text = base.mark_text(fontSize=11, font="monospace").encode(text="shown:N", tooltip=tips)
    return (rect + text).properties(title=title, height=max(60, n_rows * CELL + 10),
                                    width=min(MAX_COLS, int(g["colx"].max()) + 1 if len(g) else 1) * 9)


def baseline_bars(metrics: dict[str, Any]) -> alt.Chart:
    """Test bits per token (char or word) of the model, the unigram and the n-gram baselines."""
    test = metrics.get("test", {})
    key = "bits_per_char" if "bits_per_char" in test.get("model", {}) else "bits_per_word"
    names = {"model": "model", "unigram": "unigram", "ngram": f"{metrics.get('ngram_order', '')}-gram"}
    rows = [{"who": names.get(w, w), key: r.get(key), "is_model": w == "model"} for w, r in test.items() if key in r]
    df = pd.DataFrame(rows)
    base = alt.Chart(df).encode(
        x=alt.X(f"{key}:Q", title=key.replace("_", " ") + " (lower is better)"),
        y=alt.Y("who:N", sort=None, title=None, axis=alt.Axis(labelLimit=120)),
        tooltip=["who", alt.Tooltip(f"{key}:Q", format=".3f")])
    bars = base.mark_bar().encode(color=alt.Color("is_model:N", legend=None, scale=alt.Scale(
        domain=[True, False], range=["#e45756", "#9ecae9"])))
    values = base.mark_text(align="left", dx=4, fontSize=11, color="#374151").encode(
        text=alt.Text(f"{key}:Q", format=".3f"))
    # a fixed height per bar: every name stays written, however many baselines there are
    return alt.layer(bars, values).properties(height=alt.Step(26), width="container")


def pca_path(frame: pd.DataFrame, ratio: Any) -> alt.LayerChart:
    """PC1 x PC2 of the hidden state at each token, joined in reading order, coloured by character class."""
    r = list(ratio) + [0.0, 0.0]
    base = alt.Chart(frame).encode(x=alt.X("PC1:Q", title=f"PC1 ({r[0]:.0%})"), y=alt.Y("PC2:Q", title=f"PC2 ({r[1]:.0%})"))
    line = base.mark_line(color="#bbbbbb", strokeWidth=0.6).encode(order="pos:Q")
    pts = base.mark_circle(size=28).encode(color=alt.Color("class:N", title="character"),
                                           tooltip=["pos", "shown", "class"])
    return (line + pts).properties(height=360)


def saturation_bars(sat: pd.DataFrame) -> alt.Chart:
    """Left- and right-saturated shares per layer and gate (stacked)."""
    long = sat.melt(id_vars=["layer", "gate"], value_vars=["frac_low", "frac_high"], var_name="side", value_name="share")
    long["side"] = long["side"].map({"frac_low": "left (≈0 / ≈-1)", "frac_high": "right (≈1)"})
    long["gate"] = "layer " + long["layer"].astype(str) + " · " + long["gate"]
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share of values saturated"),
        y=alt.Y("gate:N", sort=None, title=None), color=alt.Color("side:N", title="saturated"),
        tooltip=["gate", "side", alt.Tooltip("share:Q", format=".1%")]).properties(height=max(80, 18 * len(sat)))


def feature_bars(units: pd.DataFrame) -> alt.Chart:
    """The correlation of each feature's top units (one row per feature and unit)."""
    df = units.assign(label=units["feature"] + " · unit " + units["unit"].astype(str))
    return alt.Chart(df).mark_bar().encode(
        x=alt.X("corr:Q", scale=alt.Scale(domain=[-1, 1]), title="correlation with the feature"),
        y=alt.Y("label:N", sort=None, title=None),
        color=alt.Color("feature:N", legend=None),
        tooltip=["feature", "unit", alt.Tooltip("corr:Q", format=".3f")]).properties(height=max(80, 14 * len(df)))
