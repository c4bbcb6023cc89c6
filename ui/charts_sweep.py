"""Altair charts of a sweep, from :func:`rnnlab.sweep.report.trials_frame`: optimisation history
(best so far, pruned trials marked), parallel coordinates, slice plots, hyperparameter importances."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

STATE_COLORS = {"complete": "#1f77b4", "pruned": "#ff7f0e", "failed": "#d62728", "running": "#2ca02c",
                "waiting": "#7f7f7f", "surplus": "#c7c7c7"}
_STATE_SCALE = alt.Scale(domain=list(STATE_COLORS), range=list(STATE_COLORS.values()))


def params_of(frame: pd.DataFrame) -> list[str]:
    return [c[len("param "):] for c in frame.columns if str(c).startswith("param ")]


def _finished(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame[frame["state"].isin(["complete", "pruned"]) & frame["value"].notna()]


def history(frame: pd.DataFrame, objective: str = "validation score", height: int = 300) -> alt.Chart:
    """Each finished trial's value by trial number (pruned ones marked) and the best so far."""
    done = _finished(frame)[["number", "state", "value", "best_so_far", "epochs"]].copy()
    base = alt.Chart(done)
    points = base.mark_point(filled=True, size=60).encode(
        x=alt.X("number:Q", title="trial"),
        y=alt.Y("value:Q", title=objective, scale=alt.Scale(zero=False)),
        color=alt.Color("state:N", scale=_STATE_SCALE, title="trial"),
        shape=alt.Shape("state:N", scale=alt.Scale(domain=["complete", "pruned"], range=["circle", "triangle-down"])),
        tooltip=["number", "state", alt.Tooltip("value:Q", format=".4g"), "epochs"],
    )
    best = base.transform_filter(alt.datum.state == "complete").mark_line(interpolate="step-after", color="#333").encode(
        x="number:Q", y="best_so_far:Q")
    return (points + best).properties(height=height, title="Optimisation history (line: best so far)")


def _normalised(frame: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """Long form: one row per trial and setting, the setting scaled to [0, 1] (choices by position,
    log-looking ranges on a log scale)."""
    done = _finished(frame)
    rows = []
    for p in params:
        col = done[f"param {p}"]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        if numeric and col.nunique() > 1:
            vals = col.astype(float)
            positive = bool((vals > 0).all())
            use_log = positive and vals.max() / vals.min() > 20
            v = vals.map(math.log) if use_log else vals
            lo, hi = float(v.min()), float(v.max())
            scaled = (v - lo) / (hi - lo) if hi > lo else v * 0 + 0.5
        else:
            cats = sorted(col.astype(str).unique())
            pos = {c: i for i, c in enumerate(cats)}
            scaled = col.astype(str).map(lambda c: pos[c] / max(1, len(cats) - 1))
        for (_, r), s in zip(done.iterrows(), scaled):
            rows.append({"number": r["number"], "setting": p, "position": float(s), "value": r["value"],
                         "shown": str(r[f"param {p}"]), "state": r["state"]})
    return pd.DataFrame(rows)


def parallel(frame: pd.DataFrame, objective: str = "validation score", height: int = 320) -> alt.Chart:
    """One line per finished trial across the searched settings (each scaled to its range), coloured
    by its value (darker: better)."""
    params = params_of(frame)
    long = _normalised(frame, params)
    if long.empty:
        long = pd.DataFrame(columns=["number", "setting", "position", "value", "shown", "state"])
    return alt.Chart(long).mark_line(opacity=0.7).encode(
        x=alt.X("setting:N", sort=params, title=None),
        y=alt.Y("position:Q", title="position in its range", scale=alt.Scale(domain=[0, 1])),
        detail="number:N",
        color=alt.Color("value:Q", title=objective, scale=alt.Scale(scheme="viridis", reverse=True)),
        strokeDash=alt.StrokeDash("state:N", scale=alt.Scale(domain=["complete", "pruned"], range=[[1, 0], [4, 3]]),
                                  title="trial"),
        tooltip=["number", "setting", "shown", alt.Tooltip("value:Q", format=".4g")],
    ).properties(height=height, title="Parallel coordinates (dashed: pruned)")


def slices(frame: pd.DataFrame, objective: str = "validation score", columns: int = 4) -> alt.ConcatChart:
    """The value of every finished trial against each searched setting (one small chart each)."""
    done = _finished(frame)
    charts = []
    for p in params_of(frame):
        col = done[f"param {p}"]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and col.nunique() > 5
        data = pd.DataFrame({"x": col if numeric else col.astype(str), "value": done["value"], "state": done["state"],
                             "number": done["number"]})
        positive = numeric and bool((col > 0).all()) and col.max() / max(col.min(), 1e-300) > 20
        x = alt.X("x:Q", title=p, scale=alt.Scale(type="log" if positive else "linear", zero=False)) if numeric \
            else alt.X("x:N", title=p)
        charts.append(alt.Chart(data).mark_point(filled=True, size=40).encode(
            x=x, y=alt.Y("value:Q", title=objective, scale=alt.Scale(zero=False)),
            color=alt.Color("state:N", scale=_STATE_SCALE, legend=None),
            tooltip=["number", alt.Tooltip("x", title=p), alt.Tooltip("value:Q", format=".4g")],
        ).properties(width=180, height=150))
    if not charts:
        charts = [alt.Chart(pd.DataFrame({"x": [], "value": []})).mark_point()]
    return alt.concat(*charts, columns=columns).properties(title="Slices: the value against each setting")


def importances(values: dict[str, float], height: int = 220) -> alt.Chart:
    """Hyperparameter importances (``optuna.importance``), largest first."""
    data = pd.DataFrame({"setting": list(values), "importance": list(values.values())})
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("importance:Q", title="importance (share of the variation explained)"),
        y=alt.Y("setting:N", sort="-x", title=None),
        tooltip=["setting", alt.Tooltip("importance:Q", format=".2f")],
    ).properties(height=height, title="Hyperparameter importances")


def trials_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The trials as the page shows them (newest first; settings by name)."""
    if frame.empty:
        return frame
    cols = ["number", "state", "value", "best_so_far", "epochs", "pruned_at", *[c for c in frame.columns
                                                                              if str(c).startswith("param ")],
            "seconds", "worker", "run_id", "retry_of"]
    out = frame[[c for c in cols if c in frame.columns]].sort_values("number", ascending=False)
    return out.rename(columns={c: c[len("param "):] for c in out.columns if str(c).startswith("param ")})
