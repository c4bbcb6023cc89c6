"""Train: model and training settings (defaults: the task's RunConfig defaults), a background
training job with live progress, loss curves and the task's live preview (forecasting: the
validation forecast), and Stop. Another task's settings, preview and summary come from its view."""

from __future__ import annotations

from typing import Any

import streamlit as st

from rnnlab.data.builtin import value_title
from rnnlab.settings import RunConfig, specs_for
from ui import charts, state
from ui.common import (
    current_dataset,
    ensure_entry_script,
    fmt,
    fmt_seconds,
    guard,
    transform_words,
    warm_up_training,
    window_summary,
)
from ui.settings_widgets import setting_input, start_from_widgets
from ui.views import view

TASK = state.get_task()
TASK_VIEW = view(TASK)  # None for forecasting, drawn here
DEFAULTS = RunConfig.defaults(TASK)
# Widget keys: "train.<name>" (forecast) or "train.<task>.<name>", plus a generation after each Reset
# ("train.g2.<name>"): Reset starts fresh widgets, so values a browser sends for the old ones (an edit
# made while the reset's rerun was still drawing) can never bring old settings back.
BASE_PREFIX = f"train.{TASK}." if TASK != "forecast" else "train."
GENERATION = BASE_PREFIX + "generation"
P = BASE_PREFIX + (f"g{st.session_state[GENERATION]}." if st.session_state.get(GENERATION) else "")
HEARTBEAT_TIMEOUT = 90.0  # s without a redraw from this session -> the job stops itself (hidden tabs
# are throttled to about one timer per minute by browsers, so keep this above 60 s)
LIVE_REFRESH = 1.0  # s between redraws of the live progress line and charts (the charts are Vega-Lite
# dicts filled into templates built once, see ui.charts.live_training; bench.live measures the cost)

# widget-backed settings: every setting of the task outside the "data" group (those come from the Data page)
FIELDS = tuple(s.name for s in specs_for(DEFAULTS.task) if s.group != "data")


def _init_keys(cfg: RunConfig) -> None:
    for f in FIELDS:
        if P + f not in st.session_state:
            st.session_state[P + f] = getattr(cfg, f)


def _reset() -> None:
    """Back to the task's defaults (the data choice stays): new widget keys, seeded from them."""
    base = state.get_config()
    state.set_config(DEFAULTS.replace(**{f: getattr(base, f) for f in ("dataset", "target", "features", "time_col")}))
    st.session_state[GENERATION] = int(st.session_state.get(GENERATION, 0)) + 1


def _status_line(snap: Any) -> str:
    """``epoch 6/60 (early stopping by 16 at the latest) · batch 3/12 · 8 s, at most 14 s left · best ...``"""
    parts = []
    if snap.epoch:
        bound = (f" (early stopping by epoch {snap.expected_epochs} at the latest)"
                 if snap.expected_epochs < snap.epochs else "")
        parts.append(f"epoch {snap.epoch}/{snap.epochs}{bound}")
    if snap.n_batches:
        parts.append(f"batch {snap.batch}/{snap.n_batches}")
    left = f", at most {fmt_seconds(snap.eta)} left" if snap.eta == snap.eta else ""
    parts.append(f"{fmt_seconds(snap.elapsed)}{left}")
    if snap.best_epoch:
        parts.append(f"best validation loss {fmt(snap.best_val_loss, 3)} (epoch {snap.best_epoch})")
    return " · ".join(parts)


def _draw_charts(snap: Any, target: str, *, kept: bool = False) -> None:
    """Loss curves and the task's preview; ``kept``: the preview of the weights the run kept (after
    training), else the latest epoch's (while it trains)."""
    shown = (snap.best_preview or snap.preview) if kept else snap.preview
    forecast_preview = shown if TASK_VIEW is None else None
    loss, preview = charts.live_training(snap.history, snap.batch_losses, forecast_preview,
                                         best_epoch=snap.best_epoch or None, y_title=target, height=280, task=TASK)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Loss** (train per batch and per epoch, validation per epoch)")
        st.vega_lite_chart(loss, width="stretch")
    with c2:
        if TASK_VIEW is not None:
            TASK_VIEW.live_preview(shown)
            return
        title = "**Validation forecast** (one step ahead, original units)"
        if shown is not None and kept:
            title += f" · kept weights (epoch {shown['epoch']})"
        elif shown is not None:
            title += f" · epoch {shown['epoch']}" + (f" (kept so far: epoch {snap.best_epoch})"
                                                     if snap.best_epoch and snap.best_epoch != shown["epoch"] else "")
        st.markdown(title)
        st.vega_lite_chart(preview, width="stretch")


@st.fragment(run_every=LIVE_REFRESH)
def live_panel() -> None:
    """Progress line, loss curves and validation forecast, redrawn every LIVE_REFRESH s (several
    times per epoch for long epochs); also the heartbeat and the end detector."""
    job = state.get_job()
    if job is None:
        return
    job.touch()
    snap = job.snapshot()
    if snap.finished:
        state.collect_job_run()  # the summary below says what happened
        st.rerun()  # the whole page: Train becomes available again, the summary appears
    stopping = job.stop_event.is_set()
    st.progress(min(1.0, max(0.0, snap.progress)),
                text=("Stopping after this batch… · " if stopping else "Training · ") + _status_line(snap))
    _draw_charts(snap, value_title(job.config.dataset, job.config.target))


def final_panel(job: Any) -> None:
    snap = job.snapshot()
    if snap.status == "failed":
        st.error(f"Training failed: {snap.message}")
        return
    run = snap.run
    if run is None:
        return
    diverged = run.diverged
    verb = "diverged" if diverged else ("stopped" if snap.status == "stopped" else "finished")
    # a diverged or unstable run is usable (best epoch kept) but not a success: say so in a warning
    (st.warning if diverged or run.unstable else st.success)(
        f"Training {verb} after {len(run.history)} epoch{'s' if len(run.history) != 1 else ''} "
        f"({run.train_info.get('seconds', snap.elapsed):.1f} s): {snap.message}")
    if run.unstable:
        st.warning(f"**Unstable training.** {run.unstable[:1].upper()}{run.unstable[1:]}.", icon=":material/warning:")
    if TASK_VIEW is not None:
        TASK_VIEW.final_summary(run)
        _saved_note(job, run)
        _draw_charts(snap, "", kept=True)
        return
    test = run.metrics.get("test", {})
    model, naive = test.get("model", {}), test.get("naive", {})
    m = st.columns(4)
    m[0].metric("Test RMSE (model)", fmt(model.get("rmse")),
                delta=None if not naive else f"{fmt(model.get('rmse', 0) - naive.get('rmse', 0))} vs naive",
                delta_color="inverse", help="Root mean squared error on the untouched test span, original units; "
                                            "the delta compares with repeating the last value (naive).")
    m[1].metric("Test MAE (model)", fmt(model.get("mae")),
                delta=None if not naive else f"{fmt(model.get('mae', 0) - naive.get('mae', 0))} vs naive",
                delta_color="inverse")
    skill = run.metrics.get("skill_vs_naive", float("nan"))
    m[2].metric("Skill vs naive", f"{skill:+.1%}" if skill == skill else "–",
                help="1 - RMSE(model) / RMSE(naive): above 0 the model beats repeating the last value")
    m[3].metric("Best epoch", f"{run.train_info.get('best_epoch', '–')} / {len(run.history)}",
                help=f"{run.train_info.get('n_parameters', 0):,} parameters")
    if skill == skill and skill <= 0 and not run.unstable:
        st.warning("The model does not beat the naive forecast on the test span. Look at the **Predictions** page "
                   "for details. " + advice(run))
    _saved_note(job, run)
    if run.id not in state.get_runs():
        st.caption("This run was deleted from the session's runs.")
    else:
        st.page_link("pages/predictions.py", label="See the predictions, baselines and forecast",
                     icon=":material/arrow_forward:")
    _draw_charts(snap, value_title(run.dataset.name, run.config.target), kept=True)


def advice(run: Any) -> str:
    """What to try when a run does not beat naive, without suggesting what it already uses."""
    tips = ["more epochs" if run.train_info.get("stop_reason") == "completed" else "a longer input window (seq_len)"]
    transform = run.metrics.get("transform")
    if transform == "level":
        tips.append("the diff or log-return transform")
    elif transform in ("diff", "log_return"):
        tips.append("extra input columns on the Data page")
    tips.append("a different cell or hidden size")
    if transform in ("diff", "log_return") and run.metrics.get("skill_vs_naive", 0) > -0.02:
        return ("It ties persistence, as expected for a random walk (prices): changes are hard to predict from past "
                "values alone. You can still try " + ", ".join(tips) + ".")
    return "Try " + ", ".join(tips) + "."


def _saved_note(job: Any, run: Any) -> None:
    """Where the run was kept: the run store (its id), or why it could not be written there."""
    if job.save_error:
        st.warning(f"The run could not be written to the run store: {job.save_error}. It is kept in this session; "
                   "download it on **Runs & export** to keep it.")
    elif job.saved_to is not None:
        st.caption(f":material/save: Saved in the run store as `{run.id}` ({job.saved_to.parent}); it stays after "
                   "this tab is closed and is listed on **Runs & export**.")


def forecast_settings(ds: Any, base: RunConfig) -> tuple[RunConfig, bool]:
    """The forecasting settings: model, windows and training columns, the advanced expander, and
    the same check the job runs (windows per span); returns the settings and whether the check passed."""
    target = base.target if base.target in ds.columns else ds.target
    feats = [f for f in base.features if f in ds.columns and f != target]
    st.caption(f"Dataset **{ds.name}** · target **{target}**"
               + (f" · features {', '.join(feats)}" if feats else "")
               + " — change them on the **Data** page.")

    # the automatic choices, for the placeholders (transform choice depends on the training span only)
    auto = None
    with guard("checking the data"):
        auto = window_summary(ds, base.replace(target=target, features=feats, seq_len=None, horizon=None,
                                               transform="auto", season=None))

    col_model, col_data, col_train = st.columns(3, gap="large")
    with col_model:
        st.markdown("##### Model")
        setting_input("cell", P + "cell", segmented=True,
                      help="RNN: the vanilla (Elman) cell; LSTM: input, forget and output gates with a cell state; "
                           "GRU: update and reset gates")
        setting_input("hidden_size", P + "hidden_size")
        setting_input("num_layers", P + "num_layers")
        setting_input("dropout", P + "dropout", slider=True, disabled=st.session_state[P + "num_layers"] <= 1)
        setting_input("bidirectional", P + "bidirectional")
    with col_data:
        st.markdown("##### Windows and preprocessing")
        setting_input("seq_len", P + "seq_len", placeholder=f"auto: {auto['seq_len']}" if auto else None,
                      help="Past steps the model reads. Leave empty for the automatic choice by frequency.")
        setting_input("horizon", P + "horizon", placeholder=f"auto: {auto['horizon']}" if auto else None,
                      help="Future steps predicted at once. Leave empty for the automatic choice.")
        setting_input("scaling", P + "scaling")
        setting_input("transform", P + "transform",
                      format_func=lambda t: f"auto → {auto['transform']}" if t == "auto" and auto else t)
        if auto and st.session_state[P + "transform"] == "auto":
            st.caption(f"Auto: **{transform_words(auto['transform'])}**. {auto['reason']}")
    with col_train:
        st.markdown("##### Training")
        for name in ("batch_size", "lr", "epochs", "patience", "seed"):
            setting_input(name, P + name)

    with st.expander("Advanced settings"):
        a1, a2, a3 = st.columns(3, gap="large")
        setting_input("train_frac", P + "train_frac", a1, slider=True)
        setting_input("val_frac", P + "val_frac", a1, slider=True, help="The rest is the untouched test span")
        for name in ("optimizer", "lr_schedule", "weight_decay"):
            setting_input(name, P + name, a2)
        setting_input("grad_clip", P + "grad_clip", a3)
        setting_input("nonlinearity", P + "nonlinearity", a3, disabled=st.session_state[P + "cell"] != "rnn")
        setting_input("season", P + "season", a3, placeholder=f"auto: {auto['season']}" if auto else None)

    with st.expander("Architecture: attention · CNN front end · AR highway · start from a run"):
        r1, r2, r3 = st.columns(3, gap="large")
        setting_input("attention", P + "attention", r1)
        setting_input("highway", P + "highway", r1,
                      placeholder=f"auto: {auto['highway']}" if auto else None)
        if auto and st.session_state[P + "highway"] is None:
            r1.caption(auto["highway_reason"])
        setting_input("conv_layers", P + "conv_layers", r2)
        conv_off = not st.session_state[P + "conv_layers"]
        for name in ("conv_channels", "conv_kernel", "conv_dilation"):
            setting_input(name, P + name, r2, disabled=conv_off)
        start_from_widgets(P, r3, base)

    cfg = base.replace(target=target, features=feats, **{f: st.session_state[P + f] for f in FIELDS})

    # a settings check before Train: the same validation the job runs (Train stays off until it passes)
    check = None
    with guard("checking the settings"):
        check = window_summary(ds, cfg)
    if check is None:
        return cfg, False
    if check is not None:
        st.caption(f"{check['spans'][0]['windows']:,} training, {check['spans'][1]['windows']:,} validation and "
                   f"{check['spans'][2]['windows']:,} test windows of {check['seq_len']} → {check['horizon']} steps.")
        for w in check["warnings"]:
            if w not in ds.warnings:
                st.caption(f":material/info: {w}")
    return cfg, True


ensure_entry_script()

# ----------------------------------------------------------------------------- page
st.title("Train")
warm_up_training()
ds = current_dataset()
if ds is None:
    st.stop()
base = state.get_config()
_init_keys(base)
running = state.job_running()
# The buttons and the live panel come first, the settings below them: pressing Train shows the
# network learning at once, without scrolling, at 900 px as at 1400 px wide (a playground).
actions = st.container()
st.divider()
if TASK_VIEW is None:
    cfg, settings_ok = forecast_settings(ds, base)
else:  # another task draws its settings (from rnnlab.settings) and checks them the way its job will
    cfg, settings_ok = TASK_VIEW.train_settings(P, base, ds)
state.set_config(cfg)

with actions:
    row = st.container(horizontal=True, vertical_alignment="center")
    start = row.button("Train", type="primary", icon=":material/play_arrow:", disabled=running or not settings_ok,
                       help="A training job is already running" if running else
                       "Fix the settings first (see below)" if not settings_ok else "Train with these settings")
    # Stop lives in the page body (a full rerun), not in the auto-refreshing fragment, where a
    # click landing during a refresh could be lost.
    stop_job = state.get_job() if running else None
    stop_clicked = row.button("Stop", key=P + "stop", icon=":material/stop_circle:",
                              disabled=stop_job is None or stop_job.stop_event.is_set(),
                              help="Stop after the current batch and keep the best weights so far")
    if stop_clicked and stop_job is not None:
        stop_job.stop()
    row.button("Reset to defaults", icon=":material/restart_alt:", on_click=_reset, disabled=running,
               help="Every setting back to its default (the data choice stays)")
    if not settings_ok and not running:
        row.caption(":material/block: The settings check below failed; fix it to train.")
    elif state.get_job() is None:
        row.caption("The defaults suit most data: press **Train** and watch it learn here.")

    if start and not running and settings_ok:
        started = False
        with guard("starting training"):
            from rnnlab.jobs import TrainingJob  # torch: imported only when needed
            from ui import reattach, runstore

            # store mode: saved into the run store when it ends (finished, stopped, or the tab went away)
            # and after every epoch that improved it (a crash keeps the last one)
            job = TrainingJob(ds, cfg, heartbeat_timeout=HEARTBEAT_TIMEOUT, runs_dir=runstore.runs_dir())
            state.set_job(job.start())
            reattach.remember_job(job)  # a reload of this tab returns to it
            started = True
        if started:
            st.rerun()

    job = state.get_job()
    if job is not None:
        if state.job_running():
            live_panel()
        else:
            final_panel(job)
