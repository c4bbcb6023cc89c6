"""Errors: where, when and why the model is wrong.

Errors over time, their distribution against a normal, their autocorrelation, error by
horizon step / calendar / regime, the worst windows linked to the hidden-state trajectory,
gradient saliency, a what-if editor for one input window, and recursive vs direct
multi-step forecasts. Every number comes from :mod:`rnnlab.analysis`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from rnnlab.data.builtin import value_title
from ui import charts_internals as ci
from ui.analysis_cache import cached
from ui.common import ensure_entry_script, fmt, fmt_time, guard, need_run
from ui.views import view
from ui.widgets import run_selector

P = "err."  # widget key prefix
LAST = -1  # what-if window choice: the last window of the data
NONE = -2  # saliency: no single window


def rkey(run: Any, name: str) -> str:
    """Widget key for widgets whose range or options depend on the run (horizon, seq_len, scale
    of the series, worst windows): one key per run, so a stored value always fits the options."""
    return f"{P}{name}.{run.id}"


def _table(run: Any) -> pd.DataFrame:
    return cached(run, ("forecast_table", "test"), lambda: A.forecast_table(run, "test"))


def _states(run: Any) -> A.StateAnalysis:
    return cached(run, ("states", "test"), lambda: A.state_analysis(run, "test"))


def _worst(run: Any, n: int) -> A.WorstWindows:
    return cached(run, ("worst", n), lambda: A.worst_windows(run, n))


# ----------------------------------------------------------------------------- sections
def residuals_section(run: Any, table: pd.DataFrame, step: int, y_title: str) -> None:
    over = A.errors_over_time(table, step)
    st.markdown(f"**Errors over time** ({step} step{'s' if step > 1 else ''} ahead, forecast − actual)")
    st.altair_chart(ci.errors_over_time(over, y_title=f"error ({y_title})"), width="stretch")
    e = over["error"].to_numpy()
    hist, mu, sd = A.error_histogram(e, bins=min(40, max(10, len(e) // 8)))
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Distribution** vs the fitted normal")
        lo, hi = (float(hist["bin_start"].min()), float(hist["bin_end"].max())) if len(hist) else (0.0, 1.0)
        curve = A.normal_curve(mu, sd, lo, hi) if np.isfinite(sd) else pd.DataFrame(columns=["x", "density"])
        st.altair_chart(ci.error_histogram(hist, curve, x_title=f"error ({y_title})"), width="stretch")
        skew = float(pd.Series(e).skew()) if len(e) > 2 else float("nan")
        kurt = float(pd.Series(e).kurt()) if len(e) > 3 else float("nan")
        st.caption(f"mean (bias) {fmt(mu)} · std {fmt(sd)} · skewness {fmt(skew, 3)} · excess kurtosis {fmt(kurt, 3)}. "
                   "A mean away from 0 is a systematic bias; heavy tails mean occasional large misses.")
    with c2:
        st.markdown("**Autocorrelation** of the errors")
        table_acf = A.acf(e, max_lag=min(40, max(1, len(e) // 4)))
        st.altair_chart(ci.acf_chart(table_acf), width="stretch")
        outside = int(table_acf["outside"].sum()) if len(table_acf) else 0
        note = ("" if step == 1 else f" For {step}-step errors of consecutive windows, correlation up to lag "
                f"{step - 1} is expected: their forecast periods overlap.")
        st.caption(f"Shaded: ±1.96/√n, where white noise falls 95% of the time; {outside} of {len(table_acf)} lags "
                   f"fall outside. Correlated errors mean the model leaves predictable structure unused.{note}")


def breakdown_section(run: Any, table: pd.DataFrame, step: int) -> None:
    metric = st.radio("Metric", ["mae", "rmse"], horizontal=True, key=P + "metric", format_func=str.upper)
    by_step = A.error_by_step(table)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**By horizon step** (all test windows)")
        st.altair_chart(ci.model_vs_naive(by_step, "step", metric=metric, x_title="horizon step"), width="stretch")
    prep = run.prepared()
    with c2:
        kind = st.radio("Regime", list(A.REGIMES), horizontal=True, key=P + "regime",
                        format_func=lambda k: "volatility terciles" if k == "volatility" else "trend terciles")
        reg = cached(run, ("regime", kind), lambda: A.error_by_regime(run, kind=kind))
        st.markdown(f"**By {kind} regime** of the input window (all steps)")
        st.altair_chart(ci.model_vs_naive(reg, "regime", metric=metric, x_title=f"{kind} of the input window",
                                          sort=list(reg["regime"])), width="stretch")
    groupings = A.calendar_groupings(prep.index)
    if not groupings:
        st.caption("No calendar breakdown: the time index is irregular or too coarse.")
        return
    cols = st.columns(len(groupings))
    for col, by in zip(cols, groupings):
        g = A.error_by_calendar(table, prep.index, by, step=step)
        with col:
            st.markdown(f"**By {by}** of the target ({step} step{'s' if step > 1 else ''} ahead)")
            st.altair_chart(ci.model_vs_naive(g, "label", metric=metric, x_title=by, sort=list(g["label"])),
                            width="stretch")


def worst_section(run: Any, y_title: str) -> int | None:
    """Worst windows: hidden states and input / truth / forecast side by side, a click in either
    picks the window in both; returns the picked rank's window (or None)."""
    n = st.slider("Worst windows", 1, 10, 5, key=P + "n_worst")
    worst = _worst(run, n)
    sa = _states(run)
    traj = sa.frame.merge(worst.table[["window", "rank"]], on="window", how="left")
    pick_key = rkey(run, "worst_pick")
    rank = st.session_state.get(pick_key)
    if rank not in set(worst.table["rank"].astype(int)):
        rank = None

    def picker(chart_key: str):
        def on_select() -> None:
            value = ci.selected_value(st.session_state.get(chart_key), ci.WINDOW_PICK, "rank")
            st.session_state[pick_key] = None if value is None else int(value)
        return on_select

    c1, c2 = st.columns([1, 1.3])
    with c1:
        st.markdown("**Hidden states** (test span)")
        key = rkey(run, "worst_states")
        st.altair_chart(ci.worst_states(traj, evr=sa.pca.explained_variance_ratio, picked=rank), width="stretch",
                        on_select=picker(key), selection_mode=[ci.WINDOW_PICK], key=key)
    with c2:
        st.markdown("**Input, truth and forecast**")
        key = rkey(run, "worst_series")
        st.altair_chart(ci.worst_series(worst.series, y_title=y_title, picked=rank), width="stretch",
                        on_select=picker(key), selection_mode=[ci.WINDOW_PICK], key=key)
    st.caption("Windows whose forecast periods overlap a worse one are skipped, so each bad event is listed once. "
               "Left: hidden states of all test windows (grey), the worst ones ringed and numbered. Right: their input "
               "(solid), truth (solid) and forecast (dashed). Click a ring or a line to pick that window in both "
               "views; double-click clears. Are the worst windows in one region of the state space?")
    show = worst.table.assign(anchor_time=lambda d: pd.to_datetime(d["anchor_time"]))
    st.dataframe(show, hide_index=True, width="stretch", column_config={
        "rank": "worst #", "window": "test window", "anchor": "anchor row",
        "anchor_time": st.column_config.DatetimeColumn("last input", format="YYYY-MM-DD HH:mm"),
        "mae": st.column_config.NumberColumn("MAE over the horizon", format="%.4g"),
        "max_abs_error": st.column_config.NumberColumn("largest |error|", format="%.4g")})
    if rank is None:
        return None
    row = worst.table[worst.table["rank"] == int(rank)]
    return None if row.empty else int(row["window"].iloc[0])


def _keep_valid(key: str, options: dict) -> None:
    """Forget a stored choice that is no longer offered (e.g. fewer worst windows)."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


def _window_options(run: Any, n: int) -> dict[int, str]:
    prep = run.prepared()
    worst = _worst(run, n)
    opts = {LAST: f"last window (ends {fmt_time(prep.index[-1], stamp='%Y-%m-%d %H:%M')}, forecast beyond the data)"}
    for _, r in worst.table.iterrows():
        opts[int(r["window"])] = f"worst #{int(r['rank'])} (ends {fmt_time(r['anchor_time'], stamp='%Y-%m-%d %H:%M')})"
    return opts


def saliency_section(run: Any, options: dict[int, str]) -> None:
    h = run.config.horizon
    c1, c2 = st.columns(2)
    step = c1.selectbox("Forecast step", [0, *range(1, h + 1)], key=rkey(run, "sal_step"),
                        format_func=lambda k: "all steps (mean)" if k == 0 else f"step {k}")
    win_opts = {NONE: "none", **{k: v for k, v in options.items() if k != LAST}}
    _keep_valid(rkey(run, "sal_window"), win_opts)
    window = c2.selectbox("Also show one window", list(win_opts), format_func=win_opts.get, key=rkey(run, "sal_window"))
    sal = cached(run, ("saliency", step), lambda: A.saliency_frame(run, step=step or None))
    one = cached(run, ("saliency", step, window), lambda: A.saliency_frame(run, step=step or None, window=window)) \
        if window != NONE else None
    seq_len = run.config.seq_len
    st.altair_chart(ci.saliency_chart(sal, seq_len, window=one), width="stretch")
    recent = sal[sal["lag"] < max(1, seq_len // 4)]["share"].sum()
    st.caption(f"Mean absolute gradient of the forecast with respect to each input step (per unit of scaled input), "
               f"over the test windows. The most recent quarter of the window carries {100 * recent:.0f}% of it. "
               "The model sees nothing before the dashed line: if the bars are still high there, a longer seq_len "
               "may help; if they vanish long before it, a shorter window would do.")


def what_if_section(run: Any, options: dict[int, str], y_title: str) -> None:
    prep = run.prepared()
    L = prep.preprocessor.seq_len
    c0, c1, c2, c3, c4 = st.columns([2, 1, 1, 1, 1])
    _keep_valid(rkey(run, "wi_window"), options)
    choice = c0.selectbox("Window", list(options), format_func=options.get, key=rkey(run, "wi_window"))
    anchor = None if choice == LAST else int(prep.test.anchors[choice])
    sd = float(np.nanstd(prep.y)) or 1.0  # slider ranges from the whole series: fixed per run
    step = float(f"{sd / 20:.1g}")
    scale = c1.slider("Scale (around the window mean)", 0.0, 3.0, 1.0, 0.05, key=P + "wi_scale")
    shift = c2.slider(f"Shift ({y_title})", -round(3 * sd, 6), round(3 * sd, 6), 0.0, step, key=rkey(run, "wi_shift"))
    spike_lag = c3.slider("Spike: steps before the anchor", 0, L - 1, 0, key=rkey(run, "wi_lag"))
    spike = c4.slider(f"Spike size ({y_title})", -round(5 * sd, 6), round(5 * sd, 6), 0.0, step, key=rkey(run, "wi_spike"))
    basis = _states(run).pca
    key = ("what_if", anchor, round(scale, 6), round(shift, 9), spike_lag, round(spike, 9))
    res = cached(run, key, lambda: A.what_if(run, scale=scale, shift=shift, spike_lag=spike_lag, spike_size=spike,
                                             anchor=anchor, basis=basis))
    g1, g2 = st.columns([3, 2])
    with g1:
        st.markdown(f"**Input and forecast** · {res.note}")
        st.altair_chart(ci.what_if_series(res.inputs, res.forecast, y_title=y_title), width="stretch")
    with g2:
        st.markdown("**Hidden trajectory** through the window (PC1 · PC2)")
        st.altair_chart(ci.what_if_trajectory(_states(run).frame, res.trajectory,
                                              evr=basis.explained_variance_ratio), width="stretch")
    change = res.forecast.assign(change=res.forecast["edited"] - res.forecast["original"])
    beyond = not change["actual"].notna().any()
    if beyond:  # the last window: its forecast lies beyond the data, there is nothing to compare with
        change = change.drop(columns="actual")
    st.dataframe(change, hide_index=True, width="stretch", column_config={
        "time": st.column_config.DatetimeColumn("time", format="YYYY-MM-DD HH:mm"),
        "original": st.column_config.NumberColumn("forecast (original)", format="%.4g"),
        "edited": st.column_config.NumberColumn("forecast (edited)", format="%.4g"),
        "actual": st.column_config.NumberColumn("actual", format="%.4g"),
        "change": st.column_config.NumberColumn("change", format="%+.4g")})
    st.caption(("No actual values: this window's forecast lies beyond the data. " if beyond else "")
               + f"The edited window goes through the run's fitted preprocessor ({prep.preprocessor.transform_} "
               "transform, training-span scaling), exactly like real data"
               + ("; the extra input columns are left unchanged" if prep.preprocessor.n_features > 1 else "") + ".")


def recursive_section(run: Any) -> None:
    cmp = cached(run, ("recursive",), lambda: A.recursive_vs_direct(run))
    if not cmp.available:
        st.info(cmp.reason)
        return
    metric = st.radio("Metric ", ["mae", "rmse"], horizontal=True, key=P + "rec_metric", format_func=str.upper)
    c1, c2 = st.columns([3, 2])
    with c1:
        st.altair_chart(ci.recursive_chart(cmp.per_step, metric=metric), width="stretch")
    with c2:
        cols = ["step", f"direct_{metric}", f"recursive_{metric}"] + (["naive_mae"] if metric == "mae" else [])
        st.dataframe(cmp.per_step[cols], hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(c.replace("_", " "), format="%.4g")
                                    for c in cols if c != "step"})
    st.caption("Direct: the model's head predicts every step at once (how it was trained). Recursive: "
               f"{cmp.reason.rstrip('. ')}. Recursive errors compound from step to step; direct ones do not, but each step "
               "has its own output to learn.")


# ----------------------------------------------------------------------------- page
ensure_entry_script()
st.title("Errors")
st.caption("Where, when and why the model is wrong, on the test span (error = forecast − actual).")

run = run_selector()
if run is None:
    need_run()
    st.stop()
if (task_view := view(run.task)) is not None:  # another task draws its own page
    task_view.errors_page(run)
    st.stop()

from rnnlab import analysis as A

y_title = value_title(run.dataset.name, run.config.target) or "value"
with guard("analysing the errors"):
    table = _table(run)
    h = run.config.horizon
    step = st.selectbox("Horizon step for the time, distribution, autocorrelation and calendar views",
                        list(range(1, h + 1)), key=rkey(run, "step"), format_func=lambda k: f"{k} step{'s' if k > 1 else ''} ahead")
    tabs = st.tabs(["Residuals", "By step · regime · calendar", "Worst windows", "Saliency", "What-if",
                    "Recursive vs direct"])
    with tabs[0], guard("drawing the residuals"):
        residuals_section(run, table, step, y_title)
    with tabs[1], guard("breaking the errors down"):
        breakdown_section(run, table, step)
    with tabs[2], guard("finding the worst windows"):
        worst_section(run, y_title)
    options = _window_options(run, int(st.session_state.get(P + "n_worst", 5)))
    with tabs[3], guard("computing the saliency"):
        saliency_section(run, options)
    with tabs[4], guard("running the what-if"):
        what_if_section(run, options, y_title)
    with tabs[5], guard("comparing recursive and direct forecasts"):
        recursive_section(run)
