"""Sweep: search settings with Optuna from the app. Define which settings vary and over which
ranges, run the sweep in the background (progress, the trials table filling in, the best so far,
pruned trials marked, Stop), or attach to a study in any storage and watch it live while workers
elsewhere fill it. Charts: optimisation history, parallel coordinates, slices, importances;
"Open the best trial" opens its run on every page. The work is :mod:`rnnlab.sweep`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from rnnlab.settings import spec
from ui import charts_sweep, reattach, runstore, state
from ui.common import current_dataset, ensure_entry_script, fmt, guard

ensure_entry_script()

K = "sweep."
LIVE_REFRESH = 2.0  # s between redraws of a running sweep
WATCH_REFRESH = 3.0  # s between reads of a watched study


@st.cache_data(show_spinner="Working out the default search space…", max_entries=16)
def _default_space(_dataset: Any, fingerprint: str, settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from rnnlab.settings import RunConfig
    from rnnlab.sweep import default_space

    return default_space(_dataset, RunConfig.from_dict(settings))


@st.cache_resource(show_spinner=False, max_entries=8)
def _watch_storage(url: str) -> Any:
    from rnnlab.sweep import open_storage

    return open_storage(url, heartbeat=None)


def _label(name: str) -> str:
    return spec(name).label


def _space_widgets(default: dict[str, Any], task: str) -> dict[str, Any]:
    """A widget group per searched setting; returns the space as a document (rnnlab.sweep.parse_space)."""
    chosen = st.multiselect("Settings to search", list(default), default=list(default), key=K + "chosen",
                            format_func=_label, help="The others keep the values of the Train page")
    doc: dict[str, Any] = {}
    cols = st.columns(3, gap="medium")
    for i, name in enumerate(chosen):
        p = default[name]
        with cols[i % 3].container(border=True):
            if p.kind == "choice":
                options = list(spec(name).choices) or list(p.choices)
                options += [c for c in p.choices if c not in options]
                picked = st.multiselect(_label(name), options, default=list(p.choices), key=K + f"{name}.choices",
                                        format_func=spec(name).format_choice)
                doc[name] = {"choices": picked}
            else:
                is_int = p.kind == "int"
                cast = int if is_int else float
                fmt_str = None if is_int else ("%.5f" if p.log else "%.3f")
                a, b = st.columns(2)
                low = a.number_input(f"{_label(name)}: from", value=cast(p.low), key=K + f"{name}.low", format=fmt_str)
                high = b.number_input("to", value=cast(p.high), key=K + f"{name}.high", format=fmt_str)
                log = st.checkbox("log scale", value=p.log, key=K + f"{name}.log")
                doc[name] = {"low": low, "high": high, **({"log": True} if log else {})}
    return doc


def _start(ds: Any, base: Any, doc: dict[str, Any], resolved: dict[str, Any]) -> None:
    from rnnlab.sweep import SweepSpec, default_params, parse_space
    from rnnlab.sweep.job import SweepJob

    space = parse_space(doc, base.task, "the sweep's settings")
    store = runstore.store()
    minutes = st.session_state[K + "minutes"]
    sweep_spec = SweepSpec(base, space, storage=st.session_state[K + "storage"].strip() or store.sweeps_url(),
                           study=st.session_state[K + "study"].strip(), trials=int(st.session_state[K + "trials"]),
                           timeout=minutes * 60 if minutes else None, pruner=st.session_state[K + "pruner"],
                           defaults=default_params(space, base, resolved))
    job = SweepJob(ds, sweep_spec, store).start()
    state.set_sweep_job(job)
    reattach.remember_sweep(job)
    st.session_state[K + "watch_study"] = sweep_spec.study
    st.rerun()


def _open_button(best: dict[str, Any] | None, key: str) -> None:
    """'Open the best trial': its run becomes the selected run, the Predictions page opens."""
    if not best or not best.get("run_id"):
        return
    rid = best["run_id"]
    if not runstore.in_store(rid):
        st.caption(f"The best trial's run `{rid}` is not in this app's run store: it was saved by "
                   f"{best.get('worker') or 'another worker'} in {best.get('store') or 'its store'}.")
        return
    if st.button(f"Open the best trial (#{best['number']})", key=key, type="primary", icon=":material/open_in_new:"):
        with guard("opening the best trial"):
            runstore.open_run(rid)
            state.select_run(rid)
            st.switch_page("pages/predictions.py")


def _charts(frame: Any, objective: str, study: Any | None = None) -> None:
    from rnnlab.sweep import importances

    if frame.empty or not (frame["state"].isin(["complete", "pruned"])).any():
        st.caption("The charts appear once a trial has finished.")
        return
    c1, c2 = st.columns(2)
    c1.altair_chart(charts_sweep.history(frame, objective), width="stretch")
    c2.altair_chart(charts_sweep.parallel(frame, objective), width="stretch")
    st.altair_chart(charts_sweep.slices(frame, objective), width="content")
    if study is not None:
        values = importances(study)
        if values:
            st.altair_chart(charts_sweep.importances(values), width="stretch")
        else:
            st.caption("Hyperparameter importances need a few complete trials.")


def _table(frame: Any) -> None:
    if frame.empty:
        st.caption("No trial yet.")
        return
    st.dataframe(charts_sweep.trials_table(frame), hide_index=True, width="stretch",
                 column_config={"value": st.column_config.NumberColumn(format="%.4g"),
                                "best_so_far": st.column_config.NumberColumn("best so far", format="%.4g"),
                                "seconds": st.column_config.NumberColumn(format="%.1f")})


@st.fragment(run_every=LIVE_REFRESH)
def live_sweep() -> None:
    job = state.get_sweep_job()
    if job is None:
        return
    snap = job.snapshot()
    if snap.finished:
        st.rerun()
    frame = snap.trials
    done = int(frame["state"].isin(["complete", "pruned"]).sum()) if not frame.empty else 0
    target = job.spec.trials
    line = f"{done} of {target} trials finished · {snap.elapsed:.0f} s"
    if snap.current is not None:
        c = snap.current
        line += f" · training trial {c.number}: epoch {c.epoch}/{c.epochs}"
        if c.epoch:
            line += f", score {fmt(c.value)}"
    if job.stop_event.is_set():
        line = "Stopping after this batch… · " + line
    st.progress(min(1.0, done / max(1, target)), text=line)
    _table(frame)
    if not frame.empty and frame["state"].isin(["complete", "pruned"]).any():
        st.altair_chart(charts_sweep.history(frame, job.worker.study.user_attrs.get("objective", "validation score")
                                             if job.worker.study is not None else "validation score"), width="stretch")


def _finished_panel(job: Any) -> None:
    snap = job.snapshot()
    if snap.status == "failed":
        st.error(f"The sweep failed: {snap.message}")
        return
    s = snap.summary
    if s is None:
        return
    (st.success if snap.status == "done" else st.info)(
        f"Sweep **{s.study}** {'finished' if snap.status == 'done' else 'stopped'} after {snap.elapsed:.0f} s: "
        + ", ".join(f"{n} {k}" for k, n in sorted(s.states.items())) + ".")
    if s.best:
        b = s.best
        st.markdown(f"**Best: trial {b['number']}**, {s.objective} **{fmt(b['value'])}** — "
                    + ", ".join(f"{k} = {fmt(v) if isinstance(v, float) else v}" for k, v in b["params"].items()))
        if s.defaults and s.defaults["value"]:
            d = s.defaults
            st.caption(f"The default settings (trial {d['number']}) scored {fmt(d['value'])}: the best trial is "
                       f"{1 - b['value'] / d['value']:+.1%} lower.")
        test = s.test.get("best")
        if test:
            rows = {who: {k: row.get(k) for k in ("rmse", "mae", "mase") if k in row} or row for who, row in test.items()}
            st.markdown("Test span of the best trial (scored once, after the search; against the baselines):")
            st.dataframe(rows, width="content")
            if verdict := s.verdict():
                beaten = "baselines that beat it" in verdict or "default settings do better" in verdict
                (st.warning if beaten else st.caption)(verdict)
        st.caption(f"Pruning: {s.states.get('pruned', 0)} trials stopped early after {s.epochs_run_pruned} epochs; "
                   f"about {s.epochs_saved:.0f} epochs saved ({s.share_saved:.0%}).")
        _open_button(s.best, K + "open_best_job")


@st.fragment(run_every=WATCH_REFRESH)
def watch(url: str, name: str) -> None:
    from rnnlab.sweep import load_study, summarize, trials_frame

    study = None
    with guard("reading the study"):
        study = load_study(url, name, _watch_storage(url))
    if study is None:
        return
    frame = trials_frame(study)
    s = summarize(study)
    st.markdown(f"**{name}**: " + (", ".join(f"{n} {k}" for k, n in sorted(s.states.items())) or "no trials yet")
                + (f" of {s.target_trials}" if s.target_trials else "") + f" · minimising {s.objective}")
    if s.best:
        st.caption(f"Best so far: trial {s.best['number']}, {fmt(s.best['value'])} — "
                   + ", ".join(f"{k} = {fmt(v) if isinstance(v, float) else v}" for k, v in s.best["params"].items()))
        _open_button(s.best, K + "open_best_watch")
    _table(frame)
    _charts(frame, s.objective, study)


# ----------------------------------------------------------------------------- page
st.title("Sweep")
if runstore.mode() != "store":
    st.info("Sweeps save every trial as a run in the run store; this app keeps runs in the session only "
            "(`RNNLAB_STORE_MODE=session`). Run sweeps with `python -m rnnlab sweep` instead.")
    st.stop()

if state.get_task() != "forecast":  # the page's widgets are the forecasting ones; the CLI sweeps every task
    st.info(f"This page sweeps forecasting runs. For the {state.get_task()} task run the sweep from the command "
            f"line: `python -m rnnlab sweep --task {state.get_task()} --data NAME --trials 20`; its trials appear on "
            "**Runs & export**.")
    st.stop()
job = state.get_sweep_job()
running = job is not None and job.status == "running"
ds = current_dataset()
if ds is not None:
    base = state.get_config()
    target = base.target if base.target in ds.columns else ds.target
    base = base.replace(dataset=ds.name, target=target, features=[f for f in base.features if f in ds.columns])
    with st.expander("Define a sweep", expanded=not running and job is None):
        st.caption(f"Dataset **{ds.name}** · target **{target}** (the **Data** page); settings not searched keep "
                   "their values from the **Train** page. Each trial trains one configuration and is saved as a run "
                   "in the store; the sweep minimises the validation score and scores the test span once, for the "
                   "best trial.")
        default, resolved = {}, {}
        with guard("working out the search space"):
            settings = base.replace(seq_len=None, transform="auto").to_dict()
            default, resolved = _default_space(ds, ds.fingerprint(), settings)
        doc = _space_widgets(default, base.task) if default else {}
        c1, c2, c3 = st.columns(3)
        c1.number_input("Trials", 1, 1000, 20, key=K + "trials", help="Finished trials the study should have")
        c2.number_input("Time budget (minutes, 0 = none)", 0, 24 * 60, 0, key=K + "minutes")
        c3.selectbox("Pruner", ["median", "halving", "none"], key=K + "pruner",
                     help="Stop poor trials early: below the median of earlier trials at the same epoch, or "
                          "asynchronous successive halving")
        d1, d2 = st.columns(2)
        from rnnlab.sweep.study import default_study_name

        d1.text_input("Study name", f"{default_study_name(base)}-{dt.datetime.now():%m%d-%H%M}", key=K + "study",
                      help="The same name in the same storage continues a study")
        d2.text_input("Storage", runstore.store().sweeps_url(), key=K + "storage",
                      help="SQLite in the run store by default; a postgresql:// URL lets workers on other machines "
                           "join with `python -m rnnlab sweep --storage URL --study NAME`")
        if st.button("Start sweep", type="primary", icon=":material/play_arrow:", disabled=running or not doc):
            with guard("starting the sweep"):
                _start(ds, base, doc, resolved)

if job is not None:
    st.subheader(f"Sweep {job.spec.study}")
    if running:
        if st.button("Stop", key=K + "stop", icon=":material/stop_circle:", disabled=job.stop_event.is_set(),
                     help="Stop the trial in training (it is marked failed); finished trials and their runs stay"):
            job.stop()
        live_sweep()
    else:
        _finished_panel(job)

st.subheader("Watch a study")
st.caption("Attach to a study in any storage (this app's sweeps, or workers elsewhere writing to a PostgreSQL "
           "server) and watch it fill in.")
w1, w2 = st.columns([3, 2])
url = w1.text_input("Storage URL", runstore.store().sweeps_url(), key=K + "watch_url")
names: list[str] = []
with guard("listing the studies"):
    from rnnlab.sweep.study import study_names

    names = study_names(url) if url.strip() else []
if names:
    wanted = st.session_state.get(K + "watch_study")
    if wanted not in names:
        st.session_state[K + "watch_study"] = names[0]
    name = w2.selectbox("Study", names, key=K + "watch_study")
    watch(url, name)
else:
    w2.caption("No study in this storage yet.")
