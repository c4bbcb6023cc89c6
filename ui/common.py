"""Small page helpers shared by every page."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

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
    except Exception as exc:
        log.exception("unexpected error%s", f" while {action}" if action else "")
        st.error(f"Unexpected error{' while ' + action if action else ''}: {type(exc).__name__}: {exc}. "
                 "Details are in the server log; your data, settings and runs are unchanged.")


def ensure_entry_script() -> None:
    """Call first on every page: make sure the page runs inside ``dashboard.py``.

    Streamlit treats an app with a ``pages/`` folder as a legacy (v1) multipage app until
    the entry script has called ``st.navigation`` once in the process. If the very first
    request goes straight to a page (a deep link right after the server started, or every
    ``AppTest`` run after ``switch_page``), Streamlit would run that page alone: no
    navigation, no sidebar. Here we switch the process to ``st.navigation`` mode and rerun,
    so the entry script draws the page as usual (one cheap extra run, at most once).
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - internal module moved
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()


def show_flashes() -> None:
    from ui import state

    for kind, msg in state.pop_flashes():
        getattr(st, kind if kind in ("info", "success", "warning", "error") else "info")(msg)


def need_run() -> object | None:
    """The selected run, or an info box pointing to the Train page when there is none."""
    from ui import state

    run = state.selected_run()
    if run is None:
        if state.job_running():
            st.info("A model is training (progress in the sidebar); its run appears here when it finishes.")
        else:
            st.info("No trained run yet. Train one on the **Train** page, or upload a run on **Runs & export**.")
    return run


# ----------------------------------------------------------------------------- cached data loads
# st.cache_data returns a fresh copy on every call, so a page can never mutate the cache.
@st.cache_data(show_spinner="Loading the built-in catalogue…")
def dataset_catalogue() -> list[Any]:
    """``rnnlab.data.list_datasets()`` (cached for the process)."""
    from rnnlab.data import list_datasets

    return list_datasets()


@st.cache_data(show_spinner="Loading dataset…", max_entries=32)
def load_builtin(name: str) -> Any:
    from rnnlab.data import load_dataset

    return load_dataset(name)


@st.cache_data(show_spinner="Reading the CSV…", max_entries=16)
def load_csv_bytes(raw: bytes, name: str, time_col: str | None = None, dayfirst: bool | None = None) -> Any:
    from rnnlab.data import load_csv

    return load_csv(raw, name=name, time_col=time_col, dayfirst=dayfirst)


@st.cache_data(show_spinner=False, max_entries=16)
def csv_column_names(raw: bytes, name: str) -> list[str]:
    """The names the loader gives the CSV's columns (never a second parser's guess); [] when the
    file cannot be read (loading it then says why)."""
    from rnnlab.data import column_names
    from rnnlab.errors import DataError

    try:
        return column_names(raw, name=name)
    except DataError:
        return []


@st.cache_data(show_spinner="Downloading from Yahoo Finance…", ttl=3600, max_entries=16)
def fetch_yahoo(ticker: str, start: str | None, end: str | None) -> Any:
    from rnnlab.data import fetch_yfinance

    return fetch_yfinance(ticker, start, end, timeout=10.0)


def current_dataset() -> Any | None:
    """The session's dataset; the default built-in is loaded on first use. None (with an
    error shown) when even that fails."""
    from ui import state

    ds = state.get_dataset()
    if ds is not None:
        return ds
    if state.get_task() != "forecast":  # other tasks choose their data on the Data page
        st.info("Choose the data on the **Data** page first.")
        return None
    spec = state.get_data_spec()
    name = spec.get("name") or "seattle-weather" if spec.get("kind") == "builtin" else "seattle-weather"
    with guard("loading the default dataset"):
        ds = load_builtin(name)
        state.set_dataset(ds, {"kind": "builtin", "name": name, "fingerprint": ds.fingerprint()})
        return ds
    return None


# ----------------------------------------------------------------------------- windows summary
# settings that change how the data is split, transformed and windowed
DATA_FIELDS = ("target", "features", "seq_len", "horizon", "transform", "scaling", "train_frac", "val_frac",
               "season", "batch_size", "highway")


@st.cache_data(show_spinner="Splitting and windowing the series…", max_entries=64)
def _window_summary(_dataset: Any, fingerprint: str, settings: dict[str, Any]) -> dict[str, Any]:
    from rnnlab.settings import RunConfig
    from rnnlab.tasks.forecast.prepared import prepare  # numpy and pandas only: the Data page loads no torch

    prep = prepare(_dataset, RunConfig().replace(**settings))
    idx, sp, n = prep.index, prep.split, len(prep.index)
    bounds = {"train": (0, sp.train_end), "validation": (sp.train_end, sp.val_end), "test": (sp.val_end, n)}
    windows = {"train": len(prep.train), "validation": len(prep.val), "test": len(prep.test)}
    spans = [
        {"span": name, "start": idx[lo], "end": idx[min(hi, n - 1)], "rows": hi - lo, "windows": windows[name]}
        for name, (lo, hi) in bounds.items()
    ]
    cfg = prep.config
    return {
        "seq_len": cfg.seq_len, "horizon": cfg.horizon, "season": cfg.season, "batch_size": cfg.batch_size,
        "transform": prep.preprocessor.transform_, "reason": prep.preprocessor.transform_reason_,
        "requested_transform": settings.get("transform", "auto"), "spans": spans, "rows": n,
        "warnings": list(prep.warnings), "n_features": prep.preprocessor.n_features,
        "highway": cfg.highway, "highway_reason": prep.highway_reason,
    }


def window_summary(dataset: Any, config: Any) -> dict[str, Any]:
    """What ``rnnlab.pipeline.prepare`` makes of ``dataset`` with ``config``: resolved
    seq_len/horizon, the transform and why, rows and windows per span (cached).
    Raises RnnlabError on settings the data cannot satisfy."""
    settings = {k: getattr(config, k) for k in DATA_FIELDS}
    settings["features"] = list(settings["features"] or [])
    return _window_summary(dataset, dataset.fingerprint(), settings)


# ----------------------------------------------------------------------------- formatting
def fmt(value: Any, digits: int = 4) -> str:
    """A number for humans: 4 significant digits, thousands separators, '–' for NaN/None."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if v != v or v in (float("inf"), float("-inf")):
        return "–"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        return f"{v:.{digits - 1}e}"
    return f"{v:,.{digits}g}" if abs(v) < 1e4 else f"{v:,.0f}"


def fmt_seconds(seconds: float) -> str:
    """A short wait for humans: '8 s', '1 min 20 s', '12 min', '2 h 5 min'."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 600:
        return f"{s // 60} min {s % 60} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    return f"{s // 3600} h {(s % 3600) // 60} min"


def fmt_duration(delta: Any) -> str:
    """A time span for humans: '4.0 years', '11 months', '365 days', '36 hours', '45 minutes'."""
    seconds = float(delta.total_seconds()) if hasattr(delta, "total_seconds") else float(delta)
    days = seconds / 86400
    if days >= 730:
        return f"{days / 365.25:.1f} years"
    if days >= 90:
        return f"{days / 30.44:.0f} months"
    if days >= 2:
        return f"{days:.0f} days"
    if seconds >= 7200:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 60:.0f} minutes"


def fmt_time(t: Any, steps: bool | None = None, *, stamp: str | None = None) -> str:
    """A time as the pages write it: ``step 1,234`` for a series without a time column (``steps``;
    None: when ``t`` lies on its placeholder clock), else the date, with the time of day unless it
    is midnight (or as ``stamp`` says)."""
    import pandas as pd

    from rnnlab.data.dataset import clock_steps

    ts = pd.Timestamp(t)
    number = clock_steps(pd.Series([ts])) if steps is not False else None
    if steps and number is None:
        number = clock_steps(pd.Series([ts, ts + pd.Timedelta(seconds=1)]))
    if number is not None and not pd.isna(number[0]):
        return f"step {int(number[0]):,}"
    if stamp:
        return f"{ts:{stamp}}"
    return f"{ts:%Y-%m-%d}" if ts == ts.normalize() else f"{ts:%Y-%m-%d %H:%M}"


def transform_words(transform: str) -> str:
    return {
        "level": "level (scaled values)",
        "diff": "diff (changes from the window's last value)",
        "log_return": "log-return (relative changes from the window's last value)",
    }.get(transform, transform)


# ----------------------------------------------------------------------------- warm-up
_WARM_LOCK = threading.Lock()
_WARMED = False


def warm_up_training() -> None:
    """Import the training stack in a background thread, once per process.

    The first ``torch.optim.Adam(...)`` of a process imports ``torch._dynamo`` (seconds on
    a small machine); doing it while the user reads the Train page makes the first epoch
    of the first run start at once.
    """
    global _WARMED
    with _WARM_LOCK:
        if _WARMED:
            return
        _WARMED = True

    def work() -> None:
        try:
            import torch

            import rnnlab.jobs  # noqa: F401

            torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
        except Exception:
            log.debug("training warm-up failed", exc_info=True)

    threading.Thread(target=work, name="rnnlab-warm-up", daemon=True).start()
