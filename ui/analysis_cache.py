"""Per-run cache of analysis results for the "Inside the network" pages.

Runs are not hashable (they hold a torch model), so ``st.cache_data`` would need the run id
as key anyway; a per-run dict in this session's state is simpler and is dropped with the
run: entries of runs no longer in the session are evicted on the next call. Each run keeps
at most :data:`MAX_ENTRIES` results (least recently used go first), so dragging a what-if
slider cannot grow memory without bound.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import streamlit as st

from ui import state

T = TypeVar("T")
_KEY = "rnnlab.analysis_cache"  # run_id -> OrderedDict[key, result]
MAX_ENTRIES = 48


def _store() -> dict[str, OrderedDict]:
    if _KEY not in st.session_state:
        st.session_state[_KEY] = {}
    return st.session_state[_KEY]


def cached(run: Any, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per ``(run.id, key)`` in this session; later calls return the result."""
    store = _store()
    live = set(state.get_runs())
    for rid in [r for r in store if r not in live and r != run.id]:
        del store[rid]
    per = store.setdefault(run.id, OrderedDict())
    if key in per:
        per.move_to_end(key)
        return per[key]
    value = compute()
    per[key] = value
    while len(per) > MAX_ENTRIES:
        per.popitem(last=False)
    return value


def peek(run: Any, key: Hashable) -> Any | None:
    """The cached result for ``(run.id, key)`` or None (never computes)."""
    return _store().get(run.id, {}).get(key)


def clear(run: Any | None = None) -> None:
    """Forget one run's results (or every run's)."""
    store = _store()
    if run is None:
        store.clear()
    else:
        store.pop(run.id, None)
