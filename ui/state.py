"""All ``st.session_state`` access goes through this module (one place for the keys).

Each browser session has its own state: its dataset choice, settings, training job and
runs. Nothing here is shared between sessions, except that after a reload
:mod:`ui.reattach` hands the new session of the same tab its job and its runs dict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from rnnlab.settings import RunConfig

# keys (datasets, how they were chosen and settings are kept per task, so switching tasks loses nothing)
_TASK = "rnnlab.task"  # the task chosen on the Data page ("forecast" until another is chosen)
_DATASET = "rnnlab.dataset"  # task -> its dataset (rnnlab.data.Dataset for forecasting) chosen on the Data page
_DATA_SPEC = "rnnlab.data_spec"  # task -> how it was chosen: {"kind": "builtin"|"csv"|"yfinance", ...}
_CONFIG = "rnnlab.config"  # task -> RunConfig edited on the Data/Train pages
_JOB = "rnnlab.job"  # rnnlab.jobs.TrainingJob of this session (or None)
_RUNS = "rnnlab.runs"  # dict run_id -> rnnlab.run.Run (any task), in creation order
_SELECTED = "rnnlab.selected_run"  # run_id shown on Predictions / Hidden states / Errors
_FLASH = "rnnlab.flash"  # one-shot messages shown on the next render
_JOB_COLLECTED = "rnnlab.job_collected"  # True once the job's run was added to the runs (exactly once)
_EXPORTS = "rnnlab.exports"  # (run_id, fmt) -> bytes of prepared downloads
_SEEN_UPLOADS = "rnnlab.seen_uploads"  # file ids of uploads already processed (no re-import on rerun)
_SWEEP = "rnnlab.sweep_job"  # rnnlab.sweep.job.SweepJob of this session (or None)
_BACKTEST = "rnnlab.backtest_job"  # the session's rolling-origin backtest


def _get(key: str, default: Any) -> Any:
    if key not in st.session_state:
        st.session_state[key] = default
    return st.session_state[key]


# ---- task
def get_task() -> str:
    return str(st.session_state.get(_TASK, "forecast"))


def set_task(task: str) -> None:
    st.session_state[_TASK] = task


# ---- dataset (of the current task)
def get_dataset() -> Any | None:
    return _get(_DATASET, {}).get(get_task())


def set_dataset(dataset: Any, spec: dict[str, Any]) -> None:
    _get(_DATASET, {})[get_task()] = dataset
    _get(_DATA_SPEC, {})[get_task()] = spec


def get_data_spec() -> dict[str, Any]:
    return _get(_DATA_SPEC, {}).get(get_task(), {"kind": "builtin", "name": None})


# ---- settings (of the current task)
def get_config() -> RunConfig:
    configs = _get(_CONFIG, {})
    task = get_task()
    if task not in configs:
        from rnnlab.settings import RunConfig

        configs[task] = RunConfig.defaults(task)
    return configs[task]


def peek_config() -> RunConfig | None:
    """The current task's settings if any were made yet (never creates them)."""
    return _get(_CONFIG, {}).get(get_task())


def set_config(config: RunConfig) -> None:
    _get(_CONFIG, {})[config.task] = config


# ---- training job
def get_job() -> Any | None:
    return st.session_state.get(_JOB)


def set_job(job: Any | None, collected: bool = False) -> None:
    """``collected``: the job's run was already taken in (a reattached session must not add it again)."""
    st.session_state[_JOB] = job
    st.session_state[_JOB_COLLECTED] = collected


# ---- sweep job
def get_backtest_job() -> Any | None:
    """The session's backtest (:class:`rnnlab.backtest.BacktestJob`), running or finished."""
    return st.session_state.get(_BACKTEST)


def set_backtest_job(job: Any | None) -> None:
    st.session_state[_BACKTEST] = job


def get_sweep_job() -> Any | None:
    return st.session_state.get(_SWEEP)


def set_sweep_job(job: Any | None) -> None:
    st.session_state[_SWEEP] = job


def job_running() -> bool:
    job = get_job()
    return job is not None and job.status == "running"


def collect_job_run() -> Any | None:
    """Add the finished job's run to the session's runs, exactly once per job.

    Returns the run when this call added it, else None. Safe to call on every redraw of
    every page (the Train page and the sidebar heartbeat both do).
    """
    job = get_job()
    if job is None or st.session_state.get(_JOB_COLLECTED, False):
        return None
    snap = job.snapshot()
    if not snap.finished:
        return None
    st.session_state[_JOB_COLLECTED] = True
    if snap.run is None:
        return None
    add_run(snap.run)
    return snap.run


# ---- runs
def get_runs() -> dict[str, Any]:
    """This session's runs, oldest first (run_id -> Run). In store mode: the runs it trained or
    uploaded and the store's runs it opened (the store lists the rest, see ``ui.runstore``)."""
    return _get(_RUNS, {})


def use_runs(runs: dict[str, Any]) -> None:
    """Make ``runs`` this session's runs dict (the one the tab had before a reload)."""
    st.session_state[_RUNS] = runs


def selected_id() -> str | None:
    """The id chosen in a run picker (the run may not be loaded yet)."""
    rid = st.session_state.get(_SELECTED)
    return str(rid) if rid else None


def add_run(run: Any, select: bool = True) -> None:
    get_runs()[run.id] = run
    if select:
        st.session_state[_SELECTED] = run.id


def remove_run(run_id: str) -> None:
    get_runs().pop(run_id, None)
    cache = _get(_EXPORTS, {})
    for key in [k for k in cache if k[0] == run_id]:
        cache.pop(key, None)
    if st.session_state.get(_SELECTED) == run_id:
        st.session_state[_SELECTED] = next(reversed(get_runs()), None) if get_runs() else None


def selected_run() -> Any | None:
    """The run the analysis pages show: the selected one, else the newest, else None."""
    runs = get_runs()
    rid = st.session_state.get(_SELECTED)
    if rid in runs:
        return runs[rid]
    return runs[next(reversed(runs))] if runs else None


def select_run(run_id: str) -> None:
    st.session_state[_SELECTED] = run_id


# ---- prepared downloads and processed uploads
def export_cache() -> dict[tuple[str, str], bytes]:
    """Downloads already built in this session: ``(run_id, fmt) -> bytes``."""
    return _get(_EXPORTS, {})


def upload_seen(file_id: str) -> bool:
    """True when this upload was already processed; marks it as processed otherwise."""
    seen = _get(_SEEN_UPLOADS, set())
    if file_id in seen:
        return True
    seen.add(file_id)
    return False


# ---- one-shot messages
def flash(message: str, kind: str = "info") -> None:
    _get(_FLASH, []).append((kind, message))


def pop_flashes() -> list[tuple[str, str]]:
    msgs = list(_get(_FLASH, []))
    st.session_state[_FLASH] = []
    return msgs
