"""Train: model and training settings (defaults = RunConfig defaults), a background
training job with live progress, loss curves and validation forecast, and Stop."""

from __future__ import annotations

from typing import Any

import streamlit as st

from rnnlab.settings import RunConfig
from ui import charts, state
from ui.common import (
    current_dataset,
    ensure_entry_script,
    fmt,
    guard,
    transform_words,
    warm_up_training,
    window_summary,
)

DEFAULTS = RunConfig()
P = "train."  # widget key prefix
HEARTBEAT_TIMEOUT = 90.0  # s without a redraw from this session -> the job stops itself (hidden tabs
# are throttled to about one timer per minute by browsers, so keep this above 60 s)
LIVE_REFRESH = 1.0  # s between redraws of the live progress line and charts (the charts are Vega-Lite
# dicts filled into templates built once: a few ms per redraw, see ui.charts.live_training)

CELLS = {"rnn": "Vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
SCALINGS = {"standard": "standard (z-score)", "minmax": "min-max [0, 1]", "none": "none"}
TRANSFORMS = ("auto", "level", "diff", "log_return")
# widget-backed RunConfig fields (everything else comes from the Data page or stays default)
FIELDS = ("cell", "hidden_size", "num_layers", "dropout", "bidirectional", "nonlinearity", "seq_len", "horizon",
          "scaling", "transform", "season", "train_frac", "val_frac", "batch_size", "lr", "epochs", "patience",
          "seed", "optimizer", "lr_schedule", "weight_decay", "grad_clip")


def _init_keys(cfg: RunConfig) -> None:
    for f in FIELDS:
        if P + f not in st.session_state:
            st.session_state[P + f] = getattr(cfg, f)


def _reset() -> None:
    for f in FIELDS:
        st.session_state[P + f] = getattr(DEFAULTS, f)


def _status_line(snap: Any) -> str:
    parts = []
    if snap.epoch:
        parts.append(f"epoch {snap.epoch}/{snap.epochs}")
    if snap.n_batches:
        parts.append(f"batch {snap.batch}/{snap.n_batches}")
    parts.append(f"{snap.elapsed:.0f} s")
    if snap.best_epoch:
        parts.append(f"best validation loss {fmt(snap.best_val_loss, 3)} (epoch {snap.best_epoch})")
    return " · ".join(parts)


def _draw_charts(snap: Any, target: str) -> None:
    loss, preview = charts.live_training(snap.history, snap.batch_losses, snap.preview,
                                         best_epoch=snap.best_epoch or None, y_title=target, height=280)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Loss** (train per batch and per epoch, validation per epoch)")
        st.vega_lite_chart(loss, width="stretch")
    with c2:
        title = "**Validation forecast** (one step ahead, original units)"
        if snap.preview is not None:
            title += f" · epoch {snap.preview['epoch']}"
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
    _draw_charts(snap, job.config.target or "")


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
    # a diverged run is usable (best epoch kept) but not a success: say so in a warning
    (st.warning if diverged else st.success)(
        f"Training {verb} after {len(run.history)} epoch{'s' if len(run.history) != 1 else ''} "
        f"({run.train_info.get('seconds', snap.elapsed):.1f} s): {snap.message}")
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
    if skill == skill and skill <= 0:
        st.warning("The model does not beat the naive forecast on the test span. Look at the **Predictions** page "
                   "for details; more epochs, a different transform or seq_len often help.")
    if run.id not in state.get_runs():
        st.caption("This run was deleted from the session's runs.")
    else:
        st.page_link("pages/predictions.py", label="See the predictions, baselines and forecast",
                     icon=":material/arrow_forward:")
    _draw_charts(snap, run.config.target or "")


ensure_entry_script()

# ----------------------------------------------------------------------------- page
st.title("Train")
warm_up_training()
ds = current_dataset()
if ds is None:
    st.stop()
base = state.get_config()
target = base.target if base.target in ds.columns else ds.target
feats = [f for f in base.features if f in ds.columns and f != target]
st.caption(f"Dataset **{ds.name}** · target **{target}**"
           + (f" · features {', '.join(feats)}" if feats else "")
           + " — change them on the **Data** page. The defaults suit most series: press **Train**.")

_init_keys(base)
running = state.job_running()

# the automatic choices, for the placeholders (transform choice depends on the training span only)
auto = None
with guard("checking the data"):
    auto = window_summary(ds, base.replace(target=target, features=feats, seq_len=None, horizon=None,
                                           transform="auto", season=None))

col_model, col_data, col_train = st.columns(3, gap="large")
with col_model:
    st.markdown("##### Model")
    st.segmented_control("Cell", list(CELLS), format_func=CELLS.get, key=P + "cell", required=True,
                         persist_state="session", help="Vanilla RNN, LSTM (input/forget/output gates) or GRU")
    st.number_input("Hidden size", 1, 1024, step=8, key=P + "hidden_size", persist_state="session",
                    help="Units per layer (and direction)")
    st.number_input("Layers", 1, 8, step=1, key=P + "num_layers", persist_state="session")
    st.slider("Dropout", 0.0, 0.8, step=0.05, key=P + "dropout", persist_state="session",
              disabled=st.session_state[P + "num_layers"] <= 1, help="Between stacked layers (needs 2+ layers)")
    st.toggle("Bidirectional", key=P + "bidirectional", persist_state="session",
              help="Read each input window forwards and backwards")
with col_data:
    st.markdown("##### Windows and preprocessing")
    st.number_input("Input steps (seq_len)", 2, 2000, step=1, key=P + "seq_len", persist_state="session",
                    placeholder=f"auto: {auto['seq_len']}" if auto else "auto",
                    help="Past steps the model reads. Leave empty for the automatic choice by frequency.")
    st.number_input("Horizon (steps predicted)", 1, 1000, step=1, key=P + "horizon", persist_state="session",
                    placeholder=f"auto: {auto['horizon']}" if auto else "auto",
                    help="Future steps predicted at once. Leave empty for the automatic choice.")
    st.selectbox("Scaling", list(SCALINGS), format_func=SCALINGS.get, key=P + "scaling", persist_state="session",
                 help="Statistics from the training span only")
    st.selectbox("Target transform", TRANSFORMS, key=P + "transform", persist_state="session",
                 format_func=lambda t: f"auto → {auto['transform']}" if t == "auto" and auto else t,
                 help="auto: ADF and KPSS stationarity tests on the training span; levels only when both say stationary")
    if auto and st.session_state[P + "transform"] == "auto":
        st.caption(f"Auto: **{transform_words(auto['transform'])}**. {auto['reason']}")
with col_train:
    st.markdown("##### Training")
    st.number_input("Batch size", 1, 4096, step=16, key=P + "batch_size", persist_state="session")
    st.number_input("Learning rate", 1e-5, 1.0, step=5e-4, format="%.5f", key=P + "lr", persist_state="session",
                    help="Adam step size; 1e-3 to 1e-2 suits most series")
    st.number_input("Max epochs", 1, 2000, step=10, key=P + "epochs", persist_state="session")
    st.number_input("Early-stopping patience", 0, 500, step=1, key=P + "patience", persist_state="session",
                    help="Epochs without validation improvement before stopping (0 = never stop early)")
    st.number_input("Seed", 0, 2**31 - 1, step=1, key=P + "seed", persist_state="session",
                    help="Same settings + seed give the same metrics")

with st.expander("Advanced settings"):
    a1, a2, a3 = st.columns(3, gap="large")
    a1.slider("Training share", 0.3, 0.9, step=0.05, key=P + "train_frac", persist_state="session")
    a1.slider("Validation share", 0.05, 0.4, step=0.05, key=P + "val_frac", persist_state="session",
              help="The rest is the untouched test span")
    a2.selectbox("Optimizer", ["adam", "adamw"], key=P + "optimizer", persist_state="session")
    a2.selectbox("Learning-rate schedule", ["plateau", "cosine", "none"], key=P + "lr_schedule",
                 persist_state="session")
    a2.number_input("Weight decay", 0.0, 0.99, step=1e-4, format="%.4f", key=P + "weight_decay",
                    persist_state="session")
    a3.number_input("Gradient clipping (max norm, 0 = off)", 0.0, 100.0, step=0.5, key=P + "grad_clip",
                    persist_state="session")
    a3.selectbox("RNN activation (vanilla RNN only)", ["tanh", "relu"], key=P + "nonlinearity",
                 persist_state="session", disabled=st.session_state[P + "cell"] != "rnn")
    a3.number_input("Season length for the seasonal-naive baseline", 1, 10_000, step=1, key=P + "season",
                    persist_state="session", placeholder=f"auto: {auto['season']}" if auto else "auto")

cfg = base.replace(target=target, features=feats, **{f: st.session_state[P + f] for f in FIELDS})
state.set_config(cfg)

# a settings check before Train: the same validation the job runs
check = None
with guard("checking the settings"):
    check = window_summary(ds, cfg)
if check is not None:
    st.caption(f"{check['spans'][0]['windows']:,} training, {check['spans'][1]['windows']:,} validation and "
               f"{check['spans'][2]['windows']:,} test windows of {check['seq_len']} → {check['horizon']} steps.")
    for w in check["warnings"]:
        if w not in ds.warnings:
            st.caption(f":material/info: {w}")

b1, b2, b3, _ = st.columns([1, 1, 1, 3])
start = b1.button("Train", type="primary", icon=":material/play_arrow:", disabled=running, width="stretch",
                  help="A training job is already running" if running else "Train with these settings")
# Stop lives in the page body (a full rerun), not in the auto-refreshing fragment, where a
# click landing during a refresh could be lost.
stop_job = state.get_job() if running else None
if b2.button("Stop", key=P + "stop", icon=":material/stop_circle:", width="stretch",
             disabled=stop_job is None or stop_job.stop_event.is_set(),
             help="Stop after the current batch and keep the best weights so far"):
    if stop_job is not None:
        stop_job.stop()
b3.button("Reset to defaults", on_click=_reset, disabled=running, width="stretch")

if start and not running:
    started = False
    with guard("starting training"):
        from rnnlab.jobs import TrainingJob  # torch: imported only when needed

        job = TrainingJob(ds, cfg, heartbeat_timeout=HEARTBEAT_TIMEOUT)
        state.set_job(job.start())
        started = True
    if started:
        st.rerun()

job = state.get_job()
if job is not None:
    st.divider()
    if state.job_running():
        live_panel()
    else:
        final_panel(job)
