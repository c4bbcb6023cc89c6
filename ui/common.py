"""Small page helpers shared by every page."""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

import streamlit as st

from rnnlab.errors import RnnlabError

log = logging.getLogger("rnnlab.ui")


@contextlib.contextmanager
def guard(action: str = "") -> Iterator[None]:
    """Show an :class:`RnnlabError` as ``st.error`` with its message; log anything else and
    show a short notice instead of a traceback. The page keeps rendering afterwards."""
    try:
        yield
    except RnnlabError as exc:
        st.error(f"{action + ': ' if action else ''}{exc}")
    except Exception as exc:  # noqa: BLE001 - a bug: keep the page alive, log the traceback
        log.exception("unexpected error%s", f" while {action}" if action else "")
        st.error(f"Unexpected error{' while ' + action if action else ''}: {type(exc).__name__}: {exc}. "
                 "Details are in the server log; your data, settings and runs are unchanged.")


def show_flashes() -> None:
    from ui import state

    for kind, msg in state.pop_flashes():
        getattr(st, kind if kind in ("info", "success", "warning", "error") else "info")(msg)


def need_run() -> object | None:
    """The selected run, or an info box pointing to the Train page when there is none."""
    from ui import state

    run = state.selected_run()
    if run is None:
        st.info("No trained run yet. Train one on the **Train** page, or upload a run on **Runs & export**.")
    return run
