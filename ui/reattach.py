"""Reattach after a reload: the same browser gets its running job and its runs back.

A reload starts a new Streamlit session with empty session state. So that nothing is silently
dropped, each browser tab carries a client id in the URL's query parameters (``?cid=...``,
added on the first visit; a reload or a bookmark keeps it), and a process-wide registry
(``st.cache_resource``) keeps, per client id, the session's training job, sweep job and runs
(the very dict the session uses). :func:`sync`, called at the top of every run of
``dashboard.py``, hands them to a new session and records what a session started. The training
job's heartbeat keeps it alive across a reload (the new session touches it within seconds).

Closing the tab: while a job of this client runs, the sidebar holds a marker element and a
``beforeunload`` listener (``st.html`` with JavaScript, which Streamlit runs in the page
itself), so the browser asks before the tab is closed or reloaded. Browsers show their own
generic text and only after the user has interacted with the page; nothing is lost either way
(the job keeps its best weights, and in store mode its run is saved).

Entries idle for :data:`IDLE_SECONDS` with nothing running are dropped. The client id is a
random 128-bit token: whoever has the URL with it reattaches to that tab's work (do not share
such a link on a public deployment).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ui import state

QUERY_KEY = "cid"
IDLE_SECONDS = 6 * 3600.0
_CID = re.compile(r"^[0-9a-f]{32}$")
_LOCK = threading.Lock()


@dataclass
class ClientWork:
    """What one browser tab has going on, kept across reloads."""

    runs: dict[str, Any]  # the session's runs dict itself (run id -> Run)
    job: Any = None  # rnnlab.jobs.TrainingJob
    sweep: Any = None  # rnnlab.sweep.job.SweepJob
    backtest: Any = None  # rnnlab.backtest.BacktestJob
    seen: float = field(default_factory=time.time)

    def busy(self) -> bool:
        return any(j is not None and j.status == "running" for j in (self.job, self.sweep, self.backtest))


@st.cache_resource(show_spinner=False)
def _registry() -> dict[str, ClientWork]:
    return {}


def client_id() -> str:
    """This tab's client id (created and put into the URL on the first visit)."""
    cid = st.query_params.get(QUERY_KEY)
    if not isinstance(cid, str) or not _CID.match(cid):
        cid = uuid.uuid4().hex
        st.query_params[QUERY_KEY] = cid
    return cid


def _purge(reg: dict[str, ClientWork], now: float) -> None:
    for cid in [c for c, w in reg.items() if now - w.seen > IDLE_SECONDS and not w.busy()]:
        del reg[cid]


def _job_collected(job: Any, runs: dict[str, Any]) -> bool:
    """Whether a job's end was already taken in by a session (its run is among the runs)."""
    snap = job.snapshot()
    return snap.finished and (snap.run is None or snap.run.id in runs)


def sync() -> ClientWork:
    """Give this session the work its client id has (after a reload), or record the session's."""
    cid = client_id()
    now = time.time()
    reg = _registry()
    with _LOCK:
        _purge(reg, now)
        work = reg.get(cid)
        runs = state.get_runs()
        if work is None:
            work = reg[cid] = ClientWork(runs=runs)
        elif runs is not work.runs:  # a new session of a known tab: the same runs dict from now on
            for rid, run in runs.items():
                work.runs.setdefault(rid, run)
            state.use_runs(work.runs)
        job = state.get_job()
        if work.job is None and job is not None:
            work.job = job
        elif work.job is not None and job is not work.job:
            state.set_job(work.job, collected=_job_collected(work.job, work.runs))
        sweep = state.get_sweep_job()
        if work.sweep is None and sweep is not None:
            work.sweep = sweep
        elif work.sweep is not None and sweep is not work.sweep:
            state.set_sweep_job(work.sweep)
        backtest = state.get_backtest_job()
        if work.backtest is None and backtest is not None:
            work.backtest = backtest
        elif work.backtest is not None and backtest is not work.backtest:
            state.set_backtest_job(work.backtest)
        work.seen = now
    return work


def remember_job(job: Any) -> None:
    """A training job this session just started (a reload returns to it)."""
    with _LOCK:
        work = _registry().setdefault(client_id(), ClientWork(runs=state.get_runs()))
        work.job = job


def remember_sweep(job: Any) -> None:
    with _LOCK:
        work = _registry().setdefault(client_id(), ClientWork(runs=state.get_runs()))
        work.sweep = job


def remember_backtest(job: Any) -> None:
    with _LOCK:
        work = _registry().setdefault(client_id(), ClientWork(runs=state.get_runs()))
        work.backtest = job


def running_jobs() -> list[Any]:
    """Training and sweep jobs of every client that are running (to mark their runs as training)."""
    with _LOCK:
        return [j for w in _registry().values() for j in (w.job, w.sweep) if j is not None and j.status == "running"]


_LEAVE_GUARD = """<span id="rnnlab-busy" hidden></span><script>
if (!window.__rnnlabLeaveGuard) {
  window.__rnnlabLeaveGuard = true;
  window.addEventListener("beforeunload", function (event) {
    if (document.getElementById("rnnlab-busy")) { event.preventDefault(); event.returnValue = ""; }
  });
}
</script>"""


def leave_warning() -> None:
    """While this tab's job runs: ask before the tab is closed (see the module docstring)."""
    jobs = (state.get_job(), state.get_sweep_job(), state.get_backtest_job())
    if any(j is not None and j.status == "running" for j in jobs):
        st.html(_LEAVE_GUARD, unsafe_allow_javascript=True)
