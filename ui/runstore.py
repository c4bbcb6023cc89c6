"""The runs the pages offer, in either mode.

* store mode (default): the run store's runs (:mod:`rnnlab.store`, listed from their config.json,
  a run's weights loaded only when a page opens it) plus this session's runs that are not in
  the store (an upload that could not be saved, runs put into the session by tests);
* session mode (``RNNLAB_STORE_MODE=session``): this session's runs only, as before the store.

Pages list :func:`entries`, open a run with :func:`open_run` (loaded once per session, at most
:data:`MAX_LOADED` store runs kept in memory), and change runs through :func:`edit`,
:func:`delete` and :func:`add`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ui import state

log = logging.getLogger("rnnlab.ui")
MAX_LOADED = 6  # store runs kept loaded in a session beyond the ones it trained or uploaded


def mode() -> str:
    """``store`` or ``session``; an unknown ``RNNLAB_STORE_MODE`` falls back to session (nothing is
    written anywhere unexpected) and :func:`mode_problem` says why."""
    from rnnlab.errors import ConfigError
    from rnnlab.store import store_mode

    try:
        return store_mode()
    except ConfigError:
        return "session"


def mode_problem() -> str:
    from rnnlab.errors import ConfigError
    from rnnlab.store import store_mode

    try:
        store_mode()
    except ConfigError as exc:
        return f"{exc}; runs are kept in this session only"
    return ""


def store() -> Any:
    from rnnlab.store import default_store

    return default_store()


def runs_dir() -> Path | None:
    """Where a training job saves its run: the store's folder, or None in session mode."""
    return store().root if mode() == "store" else None


def _store_entries() -> tuple[list[Any], list[str]]:
    from rnnlab.errors import RnnlabError

    s = store()
    try:
        return s.list(), list(s.warnings)
    except RnnlabError as exc:
        return [], [str(exc)]


def entries() -> list[Any]:
    """Every run a page can offer, newest first (:class:`rnnlab.store.RunEntry`)."""
    from rnnlab.store import RunEntry

    listed = _store_entries()[0] if mode() == "store" else []
    known = {e.id for e in listed}
    local = [RunEntry.from_run(r) for rid, r in state.get_runs().items() if rid not in known and not _from_store(r)]
    return sorted(listed + local, key=lambda e: (e.created, e.id), reverse=True)


def warnings() -> list[str]:
    """Why folders of the store were skipped (half-written or foreign folders)."""
    return _store_entries()[1] if mode() == "store" else []


def in_store(run_id: str) -> bool:
    return mode() == "store" and (store().root / run_id / "config.json").is_file()


def _from_store(run: Any) -> bool:
    src = str(run.meta.get("loaded_from") or "")
    return bool(src) and mode() == "store" and Path(src).parent == store().root


def open_run(run_id: str, keep: tuple[str, ...] = ()) -> Any:
    """The run ``run_id`` (this session's, else loaded from the store and kept in the session);
    raises :class:`rnnlab.errors.RunError` when it cannot be loaded."""
    runs = state.get_runs()
    if run_id in runs:
        return runs[run_id]
    run = store().open(run_id)
    state.add_run(run, select=False)
    loaded = [rid for rid, r in runs.items() if _from_store(r) and rid not in (run_id, *keep, state.selected_id())]
    for rid in loaded[: max(0, len(loaded) + 1 - MAX_LOADED)]:
        state.remove_run(rid)  # reloaded from the store when needed again
    return run


def add(run: Any) -> Any:
    """A run trained or uploaded in this session: into the store (store mode) and the session;
    returns the run (its id may change when another run has it already)."""
    if mode() == "store":
        entry = store().save(run)
        run.meta["id"] = entry.id
    state.add_run(run)
    return run


def edit(run_id: str, *, name: str, tags: str, note: str) -> None:
    """Rename, retag, annotate (store: written atomically; a loaded copy is updated too)."""
    from rnnlab.store import clean_tags

    cleaned = list(clean_tags(tags))
    if in_store(run_id):
        entry = store().edit(run_id, name=name, tags=cleaned, note=note)
        name, cleaned, note = entry.name, list(entry.tags), entry.note
    run = state.get_runs().get(run_id)
    if run is not None:
        for key, value in (("name", name.strip()), ("tags", cleaned), ("note", note.strip())):
            if value:
                run.meta[key] = value
            else:
                run.meta.pop(key, None)


def delete(run_id: str) -> None:
    """Remove a run from the store (if it is there) and from the session."""
    if in_store(run_id):
        store().delete(run_id)
    state.remove_run(run_id)


def zip_bytes(run_id: str) -> bytes:
    """The run folder as a zip: straight from the store (no loading), else saved from memory."""
    import tempfile

    from rnnlab.archive import zip_run
    from rnnlab.runs import save_run

    cache = state.export_cache()
    key = (run_id, "zip")
    if key not in cache:
        if in_store(run_id):
            cache[key] = zip_run(store().root / run_id)
        else:
            run = state.get_runs()[run_id]
            with tempfile.TemporaryDirectory(prefix="rnnlab-run-") as tmp:
                cache[key] = zip_run(save_run(run, Path(tmp) / run.id))
    return cache[key]


def count_line() -> str:
    """The sidebar's runs line."""
    n = len(entries())
    where = "in the run store" if mode() == "store" else "in this session"
    return f"{n} run{'s' if n != 1 else ''} {where}" if n else ""
