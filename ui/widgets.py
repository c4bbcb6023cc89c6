"""Widget groups shared by several pages: the sidebar status (with the training-job
heartbeat) and the run selector."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from rnnlab.errors import RnnlabError
from ui import state
from ui.common import fmt

RUN_SELECT_KEY = "ui.run_select"


def run_selector(label: str = "Run", *, help: str | None = None) -> Any | None:
    """Selectbox over the runs (:func:`ui.runstore.entries`: the run store's and this session's,
    newest first; listed without loading any); the choice is shared by every analysis page
    through :func:`ui.state.select_run`. Loads and returns the selected run, or None."""
    from ui import runstore

    items = runstore.entries()
    if not items:
        return None
    labels = {e.id: e.label for e in items}
    ids = list(labels)
    current = state.selected_id()
    if current not in labels:
        newest = state.selected_run()  # e.g. the run just trained
        current = newest.id if newest is not None and newest.id in labels else ids[0]
        state.select_run(current)
    st.session_state[RUN_SELECT_KEY] = current

    def _changed() -> None:
        state.select_run(st.session_state[RUN_SELECT_KEY])

    where = ("every run of the run store (app, CLI and sweeps) and of this session" if runstore.mode() == "store"
             else "runs trained or uploaded in this browser session")
    st.selectbox(label, ids, format_func=lambda rid: labels.get(rid, rid), key=RUN_SELECT_KEY, on_change=_changed,
                 help=help or f"The {where}, newest first; a run is loaded when chosen.")
    try:
        return runstore.open_run(current)
    except RnnlabError as exc:
        st.error(f"Run {current} cannot be opened: {exc}")
        return None


def _job_line(snap: Any, job: Any) -> str:
    cfg = job.config
    parts = [f"**{cfg.cell.upper()}** h{cfg.hidden_size}×{cfg.num_layers}"]
    if snap.epoch:
        parts.append(f"epoch {snap.epoch}/{snap.epochs}")
    if snap.history:
        parts.append(f"val loss {fmt(snap.history[-1]['val_loss'], 3)}")
    return " · ".join(parts)


def _flash_finished(snap: Any, run: Any) -> None:
    """One notice for a finished job's run; a run that diverged (best epoch kept) is a warning."""
    if run.diverged:
        state.flash(f"Training diverged: **{run.label}** (best epoch kept) was added to your runs.", "warning")
    elif run.unstable:
        state.flash(f"Training was unstable: **{run.label}** was added to your runs; {run.unstable}.", "warning")
    else:
        state.flash(f"Training finished ({snap.status}): **{run.label}** was added to your runs.", "success")


@st.fragment(run_every=2.0)
def _job_status() -> None:
    """Sidebar progress of a running job. Also the job's heartbeat on every page: while any
    page of this session is open the job keeps running; when the tab is closed the
    heartbeats stop and the job stops itself after ``heartbeat_timeout`` (best weights kept)."""
    job = state.get_job()
    if job is None:
        return
    job.touch()
    snap = job.snapshot()
    if snap.finished:
        run = state.collect_job_run()
        if run is not None:
            _flash_finished(snap, run)
        elif snap.status == "failed":
            state.flash(f"Training failed: {snap.message}", "error")
        st.rerun()
    st.caption("Training in progress")
    st.progress(min(1.0, max(0.0, snap.progress)), text=_job_line(snap, job))


def _dataset_line() -> str:
    ds = state.get_dataset()
    if ds is None:
        return ""
    if not hasattr(ds, "target"):  # a sequence or text dataset: no target column
        return f"Dataset: **{ds.name}**"
    cfg = state.peek_config()
    if not hasattr(ds, "target"):  # a text corpus (or another task's data without a target)
        return f"Dataset: **{ds.name}**"
    target = (cfg.target if cfg is not None else None) or ds.target
    feats = [f for f in (cfg.features if cfg is not None else []) if f != target]
    extra = f" + {len(feats)} feature{'s' if len(feats) != 1 else ''}" if feats else ""
    return f"Dataset: **{ds.name}** · target **{target}**{extra}"


def _runs_line() -> str:
    from ui import runstore

    return runstore.count_line()


def sidebar_status(show_job: bool = True) -> Callable[[], None]:
    """Dataset, job and runs at a glance; call inside ``st.sidebar`` *before* the page runs.

    The job progress (a fragment that is also the job's heartbeat) is drawn here, so it
    appears even on pages that end early with ``st.stop()``. Returns ``refresh``: call it
    after the page has run to redraw the dataset and runs lines with what the page changed.
    ``show_job=False`` skips the job progress (for a page that draws its own and sends the
    heartbeat itself).
    """
    def fill(slot: Any, line: str) -> None:
        slot.caption(line) if line else slot.empty()

    dataset_slot = st.empty()
    fill(dataset_slot, _dataset_line())
    if state.job_running():
        if show_job:
            _job_status()
    else:
        # a job that finished while no page was drawing: collect its run now
        job = state.get_job()
        if job is not None:
            snap = job.snapshot()
            run = state.collect_job_run()
            if run is not None:
                _flash_finished(snap, run)
    runs_slot = st.empty()
    fill(runs_slot, _runs_line())
    from ui import reattach

    reattach.leave_warning()  # ask before the tab is closed while a job runs

    def refresh() -> None:
        fill(dataset_slot, _dataset_line())
        fill(runs_slot, _runs_line())

    return refresh
