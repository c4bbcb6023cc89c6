"""Hidden states: what the recurrent state encodes.

PCA trajectories of the state at each window's anchor (2-D and linked 3-D views), a unit x
time heatmap with a unit picker, LSTM/GRU gates and cell state with saturation, probing of
units against level / trend / volatility / direction / season, and the evolution of the
trajectory during training. Every number comes from :mod:`rnnlab.analysis`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from rnnlab.data.builtin import value_title
from ui import charts
from ui import charts_architecture as cha
from ui import charts_internals as ci
from ui.analysis_cache import cached, peek
from ui.common import ensure_entry_script, fmt, fmt_time, guard, need_run
from ui.views import view
from ui.widgets import run_selector

P = "hs."  # widget key prefix
SPANS = {"test": "test span", "all": "whole series"}
MAX_GATE_WINDOWS = 400  # windows traced through the explicit cell loop (evenly thinned)


def rkey(run: Any, name: str) -> str:
    """Widget key for widgets whose range or options depend on the run (units, layers, windows,
    epochs): one key per run, so switching runs never leaves a value outside the new range."""
    return f"{P}{name}.{run.id}"


def _states(run: Any, span: str) -> A.StateAnalysis:
    if span == "test":
        return cached(run, ("states", "test"), lambda: A.state_analysis(run, "test"))
    basis = _states(run, "test").pca  # one basis for both views, so they compare
    return cached(run, ("states", span), lambda: A.state_analysis(run, span, basis=basis))


def _trace(run: Any) -> tuple[A.CellTrace, np.ndarray]:
    def compute() -> tuple[A.CellTrace, np.ndarray]:
        prep = run.prepared()
        n = len(prep.test)
        rows = np.arange(0, n, max(1, int(np.ceil(n / MAX_GATE_WINDOWS))))
        return A.trace_cells(run.model, prep.test.X[rows]), rows

    return cached(run, ("trace", MAX_GATE_WINDOWS), compute)


def _header(run: Any, sa: A.StateAnalysis) -> None:
    c = run.config
    evr = sa.pca.explained_variance_ratio
    cols = st.columns(5)
    cols[0].metric("cell", c.cell.upper() + (" (bi)" if c.bidirectional else ""))
    cols[1].metric("layers × units", f"{c.num_layers} × {c.hidden_size}",
                   help=f"The state at the anchor has {sa.states.shape[1]} numbers (top layer"
                        + (", both directions)" if c.bidirectional else ")"))
    for i in range(3):
        cols[2 + i].metric(f"PC{i + 1} explains", f"{100 * evr[i]:.1f}%" if i < len(evr) else "–",
                           help="Share of the variance of the test-span states along this axis. The whole-series "
                                "view is drawn on the same axes, so the two views compare.")


# ----------------------------------------------------------------------------- tabs
def trajectory_tab(run: Any, sa: A.StateAnalysis, color_by: str) -> None:
    c1, c2 = st.columns([2, 1])
    mode = c1.radio("View", ["2-D (PC1 · PC2)", "3-D (PC1 · PC2 and PC3 · PC2, linked)"], horizontal=True,
                    key=P + "mode")
    n_layers = run.config.num_layers
    layer = n_layers
    if n_layers > 1:
        layer = c2.selectbox("Layer", list(range(1, n_layers + 1)), index=n_layers - 1, key=rkey(run, "traj_layer"),
                             help="The top layer's state is what the forecast head reads; lower layers are "
                                  "recomputed with the explicit cell loop and get their own principal components.")
    evr = _states(run, "test").pca.explained_variance_ratio
    if layer != n_layers:
        span = sa.span
        test = cached(run, ("states", "test", layer), lambda: A.state_analysis(run, "test", layer=layer - 1))
        sa = test if span == "test" else cached(
            run, ("states", span, layer), lambda: A.state_analysis(run, span, layer=layer - 1, basis=test.pca))
        evr = test.pca.explained_variance_ratio
        st.caption(f"Layer {layer}: PC1–PC3 explain " + ", ".join(f"{100 * v:.1f}%" for v in evr) + " of its variance.")
    if mode.startswith("2-D"):
        event = st.altair_chart(ci.trajectory(sa.frame, color_by, evr=evr), width="stretch", on_select="rerun",
                                selection_mode=[ci.TRAJ_PICK], key=rkey(run, "traj2d"))
        st.caption("Each dot is the hidden state at one window's last input step, projected on the first two "
                   "principal components; the grey line joins consecutive windows. Hover for the date, value, "
                   "forecast and error; click a dot to see that window below (double-click clears).")
        window = ci.selected_value(event, ci.TRAJ_PICK, "window")
        if window is not None:
            _window_detail(run, sa, int(window))
    else:
        st.altair_chart(ci.trajectory_3d(sa.frame, color_by, evr=evr), width="content", key=P + "traj3d")
        st.caption("Front view (PC1 · PC2) and side view (PC3 · PC2) of the same states, sharing the PC2 axis. "
                   "Drag a box in either view to highlight the same windows in both; click outside to clear.")


def _window_detail(run: Any, sa: A.StateAnalysis, window: int) -> None:
    row = sa.frame[sa.frame["window"] == window]
    if row.empty:
        return
    r = row.iloc[0]
    span = sa.span
    detail = A.window_detail(run, [window], span)
    st.markdown(f"**Window ending {fmt_time(r['time'], stamp='%Y-%m-%d %H:%M')}** · value {fmt(r['value'])} · "
                f"forecast (step 1) {fmt(r['prediction'])} · actual {fmt(r['actual'])} · error {fmt(r['error'])}")
    data = detail.rename(columns={"kind": "series"})[["time", "series", "value"]]
    st.altair_chart(charts.lines(data, order=["input", "actual", "forecast"], dashed=["forecast"],
                             y_title=value_title(run.dataset.name, run.config.target), height=240, labels={"input": "input window"}),
                    width="stretch")


def units_tab(run: Any, sa: A.StateAnalysis) -> None:
    H = sa.states.shape[1]
    c1, c2 = st.columns([1, 2])
    by = c1.radio("Order units by", ["variance", "correlation"], horizontal=True, key=P + "order",
                  format_func=lambda s: "variance" if s == "variance" else "|correlation| with the target")
    n_units = c2.slider("Units shown", 1, H, min(H, 32), key=rkey(run, "n_units")) if H > 1 else 1
    target = sa.frame["actual"].to_numpy()
    long = A.unit_heatmap_frame(sa.states, sa.frame["time"], target, by=by, max_units=n_units, max_times=600)
    event = st.altair_chart(ci.unit_heatmap(long), width="stretch",
                            on_select="rerun", selection_mode=[ci.UNIT_PICK], key=rkey(run, "heat"))
    unit = ci.selected_value(event, ci.UNIT_PICK, "unit")
    if unit is None:
        unit = int(long.loc[long["rank"] == 0, "unit"].iloc[0])
        st.caption("Click a row of the heatmap to pick a unit; showing the first one in the order.")
    unit = int(unit)
    table = A.unit_table(sa.states, target)
    row = table[table["unit"] == unit].iloc[0]
    st.markdown(f"**Unit {unit}** · variance {fmt(row['variance'], 3)} · correlation with the target "
                f"{fmt(row['corr_target'], 3)}")
    frame = pd.DataFrame({"time": sa.frame["time"], "activation": sa.states[:, unit], "value": sa.frame["value"]})
    st.altair_chart(ci.unit_vs_input(frame, f"u{unit}", run.config.target or "target"), width="stretch")


def gates_tab(run: Any) -> None:
    if run.config.cell == "rnn":
        st.info("A vanilla RNN cell has no gates: its state is simply tanh (or relu) of the input and the previous "
                "state. Train an LSTM or GRU to see input/forget/output gates or reset/update gates.")
        return
    trace, rows = _trace(run)
    prep = run.prepared()
    sat = A.saturation_stats(trace)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Saturation** per layer and gate")
        st.altair_chart(ci.saturation_bars(sat), width="stretch")
        st.caption("Sigmoid gates count as saturated below 0.05 or above 0.95, tanh ones (cell candidate, "
                   "GRU new gate, cell state) beyond ±0.95. A forget/update gate stuck near 1 keeps memory; "
                   "one near 0 forgets at every step.")
    layers = list(range(1, len(trace.layers) + 1))
    layer = c2.selectbox("Layer", layers, index=len(layers) - 1, key=rkey(run, "layer")) if len(layers) > 1 else 1
    with c2:
        st.markdown(f"**Gate values** in layer {layer} (all traced windows, steps and units)")
        st.altair_chart(ci.gate_distributions(A.gate_histogram(trace, layer - 1), height=300), width="stretch")
    with st.expander("Saturation table"):
        st.dataframe(sat.style.format({"frac_low": "{:.1%}", "frac_high": "{:.1%}", "frac_saturated": "{:.1%}",
                                       "mean": "{:.3f}", "std": "{:.3f}"}), hide_index=True, width="stretch")
    gate_names = list(trace.gate_names) + (["cell state"] if trace.cell == "lstm" else [])
    g1, g2 = st.columns([1, 2])
    gate = g1.selectbox("Gate over time (value at each window's last step)", gate_names, key=P + "gate")
    lt = trace.layers[layer - 1]
    values = lt.c[:, -1, :] if gate == "cell state" else lt.gates[gate][:, -1, :]  # (m, H*D)
    times = prep.index[prep.test.anchors[rows]]
    long = A.unit_heatmap_frame(values, times, prep.test.y_true[rows, 0], by="variance", max_times=600)
    domain = (0.0, 1.0) if gate in A.SIGMOID_GATES else None
    st.altair_chart(ci.unit_heatmap(long, value_title=gate, domain=domain, pickable=False), width="stretch")
    with g2:
        st.caption("Rows: units (highest variance first); columns: test windows. Colours are the gate value at "
                   "the window's last input step.")
    st.markdown("**Inside one window**: every gate and state at every input step")
    n = len(rows)
    pos = st.slider("Test window", 0, max(0, n - 1), n - 1, key=rkey(run, "gate_window"),
                    help="Position among the traced test windows (the last one is the most recent)") if n > 1 else 0
    st.caption(f"Window ending {fmt_time(times[pos], stamp='%Y-%m-%d %H:%M')}")
    frame = A.gate_window_frame(trace, pos, layer - 1)
    quantities = list(dict.fromkeys(frame["quantity"]))
    for i in range(0, len(quantities), 3):
        cols = st.columns(3)
        for col, q in zip(cols, quantities[i : i + 3]):
            col.altair_chart(ci.window_heatmap(frame, q), width="stretch")


def probing_tab(run: Any, span: str) -> None:
    probing = cached(run, ("probe", span), lambda: A.probe_run(run, span))
    st.markdown("**Which units track what?** Correlation of each unit's state (at the anchor) with properties of "
                "the series computed from the past only.")
    best = probing.best.copy()
    st.dataframe(best, hide_index=True, width="stretch", column_config={
        "property": "property",
        "best_unit": st.column_config.NumberColumn("best unit", format="%d"),
        "corr": st.column_config.NumberColumn("its correlation", format="%.2f"),
        "probe_r2": st.column_config.NumberColumn("linear probe R² (all units, held-out blocks)", format="%.2f"),
    })
    st.altair_chart(ci.probing_heatmap(probing.corr, height=130 + 32 * probing.corr.shape[1]), width="stretch")
    cols = set(probing.properties.columns)
    notes = ["level = value at the anchor", "trend = least-squares slope over the input window",
             "volatility = std of the changes over the window", "change_sign = sign of the last change"]
    if "season_sin" in cols:
        notes.append(f"season_sin/cos = position in the season ({run.prepared().season} steps) on the unit circle")
    if "year_sin" in cols:
        notes.append("year_sin/cos = day of the year on the unit circle")
    st.caption("; ".join(notes) + ". The probe R² fits a ridge regression on all units using alternate blocks of "
               "windows and scores it on the others (1 = the property can be read off the state linearly).")
    with st.expander("Top units per property"):
        st.dataframe(probing.top, hide_index=True, width="stretch")


def evolution_tab(run: Any, color_by: str) -> None:
    evo = getattr(run, "evolution", None) or peek(run, ("evolution",))
    if evo is None:  # trained without recording it (e.g. saved by an older version): replay on request
        n_epochs = len(run.history) or run.config.epochs
        secs = float(run.train_info.get("seconds", 0.0) or 0.0)
        epochs = A.default_epochs(n_epochs)
        st.markdown("**How the trajectory formed during training.** This run carries no snapshots of its training "
                    "(runs trained here record them; this one was not, e.g. it was saved by an older version). "
                    f"Its training can be replayed (same settings and seed, {n_epochs} epochs, about {secs:.0f} s) "
                    f"while the test-span states are recorded at epochs {', '.join(map(str, epochs))}.")
        if st.button("Record the evolution", key=P + "evolve", icon=":material/play_arrow:"):
            with guard("replaying the training"), st.spinner("Replaying the training…"):
                cached(run, ("evolution",), lambda: A.record_evolution(run, epochs))
                st.rerun()  # draw the slider without the button
        return
    recorded = evo.source == "recorded"
    shown = ", ".join(str(e) for e in evo.epochs if e != A.FINAL_EPOCH)
    st.markdown("**How the trajectory formed during training.** The test-span states at epochs "
                f"{shown} and at the end, " + ("recorded during this run's training" if recorded else
                                               "recorded by replaying this run's training") +
                ". Every snapshot is drawn on the PCA basis of the final states, so the slider compares like "
                "with like.")
    labels = {e: ("initial weights" if e == 0 else "final (kept weights)" if e == A.FINAL_EPOCH else f"epoch {e}")
              for e in evo.epochs}
    epoch = st.select_slider("Snapshot", options=evo.epochs, value=evo.epochs[-1], format_func=labels.get,
                             key=rkey(run, "evo_epoch"))
    loss = evo.val_losses.get(epoch)
    if recorded:
        origin = " · recorded during the training"
    elif evo.replay_gap > 1e-6:
        origin = f" · replayed: differs from the run by at most {evo.replay_gap:.2g} in any unit"
    else:
        origin = " · replayed: reproduces the run exactly"
    st.caption(f"{labels[epoch]}" + (f" · validation loss {fmt(loss, 3)}" if loss is not None else "") +
               " · grey: final states" + origin)
    frame = cached(run, ("evolution_frame", evo.source), lambda: evo.frame(run.prepared()))
    cb = color_by if color_by in ("time", "value", "split") else "time"
    st.altair_chart(ci.evolution(frame, epoch, evr=evo.explained_variance_ratio, color_by=cb), width="stretch")


# ----------------------------------------------------------------------------- page
def architecture_tab(run: Any) -> None:
    """Attention weights next to saliency, the convolution filters and activations, the highway's share."""
    prep = run.prepared()
    n = len(prep.test)
    window = st.slider("Test window", 0, n - 1, n - 1, key=rkey(run, "arch_window"),
                       help="The window shown in detail (its anchor date is in the captions)")
    anchor = prep.index[prep.test.anchors[window]]
    h = run.config.horizon
    if run.config.attention != "none":
        st.markdown(f"##### Attention ({run.config.attention})")
        step = st.select_slider("Forecast step", list(range(1, h + 1)), key=rkey(run, "arch_step")) if h > 1 else 1
        c1, c2 = st.columns(2)
        with c1:
            st.caption(f"Weights of step {step} over the input steps, every test window (rows by anchor time)")
            frame = cached(run, ("attention", step), lambda: A.attention_frame(run, "test", step))
            st.altair_chart(cha.attention_heatmap(frame), width="stretch")
        with c2:
            (cmp, corr) = cached(run, ("att_vs_sal", window, step), lambda: A.attention_vs_saliency(run, window, step))
            verdict = ("they agree" if corr >= 0.5 else "they partly agree" if corr >= 0.2 else "they disagree") \
                if corr == corr else "one of them is flat"
            st.caption(f"Window ending {fmt_time(anchor, stamp='%Y-%m-%d %H:%M')}: attention vs gradient saliency (correlation "
                       f"{fmt(corr, 2)}: {verdict}). Attention says where the head reads; saliency, where a change "
                       "of the input would move the forecast.")
            st.altair_chart(cha.attention_vs_saliency(cmp), width="stretch")
    if run.config.conv_layers:
        st.markdown(f"##### Convolutional front end ({run.config.conv_layers} layer"
                    f"{'s' if run.config.conv_layers > 1 else ''}, receptive field {run.model.conv.receptive_field} steps)")
        layer = st.selectbox("Layer", list(range(run.config.conv_layers)), key=rkey(run, "arch_layer"),
                             format_func=lambda i: f"layer {i + 1} (dilation {run.config.conv_dilation ** i})")
        c1, c2 = st.columns(2)
        with c1:
            st.caption("Filters: each row a filter's weights over its inputs and kernel taps (causal: the taps "
                       "reach back in time only)")
            st.altair_chart(cha.conv_filters_heatmap(cached(run, ("conv_filters",), lambda: A.conv_filters(run)), layer),
                            width="stretch")
        with c2:
            st.caption(f"Activations over the window ending {fmt_time(anchor, stamp='%Y-%m-%d %H:%M')}")
            acts = cached(run, ("conv_acts", window), lambda: A.conv_activations(run, window))
            st.altair_chart(cha.conv_activations_heatmap(acts, layer), width="stretch")
    if run.config.highway:
        st.markdown(f"##### Autoregressive highway ({run.config.highway} lags)")
        c1, c2 = st.columns(2)
        with c1:
            share = cached(run, ("highway_share",), lambda: A.highway_share(run))
            st.caption(f"Share of the forecast that comes from the linear highway (mean over the test windows; "
                       f"overall {share['highway_share'].mean():.0%}); the rest is the recurrent network's")
            st.altair_chart(cha.highway_share_chart(share), width="stretch")
        with c2:
            st.caption(f"The window ending {fmt_time(anchor, stamp='%Y-%m-%d %H:%M')}: the forecast, and what each part alone gives")
            title = value_title(run.dataset.name, run.config.target)
            st.altair_chart(cha.highway_window_chart(A.highway_forecasts(run, window), y_title=title), width="stretch")


ensure_entry_script()
st.title("Hidden states")
st.caption("What the recurrent state encodes: its trajectory through time, single units, gates, and how it "
           "formed during training.")

run = run_selector()
if run is None:
    need_run()
    st.stop()
if (task_view := view(run.task)) is not None:  # another task draws its own page
    task_view.hidden_states_page(run)
    st.stop()

from rnnlab import analysis as A

with guard("computing the hidden states"):
    c1, c2 = st.columns(2)
    span = c1.radio("Windows", list(SPANS), format_func=SPANS.get, horizontal=True, key=P + "span",
                    help="Test span: the windows the model was scored on. Whole series: every window from the "
                         "first to the last row (train, validation, test and the final window).")
    color_by = c2.selectbox("Colour by", list(ci.COLOR_BY), format_func=lambda k: ci.COLOR_BY[k][0],
                            key=P + "color")
    sa = _states(run, span)
    _header(run, _states(run, "test"))
    has_parts = run.config.attention != "none" or run.config.conv_layers or run.config.highway
    tabs = st.tabs(["Trajectory", "Units", "Gates & cell state", "Probing", "Evolution during training",
                    *(["Attention · convolutions · highway"] if has_parts else [])])
    with tabs[0], guard("drawing the trajectory"):
        trajectory_tab(run, sa, color_by)
    with tabs[1], guard("drawing the units"):
        units_tab(run, sa)
    with tabs[2], guard("tracing the gates"):
        gates_tab(run)
    with tabs[3], guard("probing the units"):
        probing_tab(run, span)
    with tabs[4], guard("recording the evolution"):
        evolution_tab(run, color_by)
    if has_parts:
        with tabs[5], guard("looking into the attention, convolutions and highway"):
            architecture_tab(run)
