"""AppTest fixtures for the dashboard.

Streamlit treats an app with a ``pages/`` folder as a legacy (v1) multipage app until the
entry script has called ``st.navigation`` once in the process; the real server then stays
in ``st.navigation`` mode. ``AppTest`` resets that flag before every run, so after
``switch_page`` it would run the page file alone (no dashboard.py, no sidebar). The
autouse fixture below keeps the flag in the state a running server is in.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from tests.app.apptools import DASHBOARD, RUN_TIMEOUT, TINY


@pytest.fixture(autouse=True)
def thread_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """dashboard.py sets RNNLAB_MAX_THREADS / OMP_WAIT_POLICY for its process (here: pytest's);
    restore them after each test so the rest of the suite sees the environment it started with."""
    for key in ("RNNLAB_THREADS", "RNNLAB_MAX_THREADS", "OMP_WAIT_POLICY"):
        if key in os.environ:
            monkeypatch.setenv(key, os.environ[key])
        else:
            monkeypatch.delenv(key, raising=False)


@pytest.fixture(autouse=True)
def navigation_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    original = PagesManager.__init__

    def init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(scope="session")
def tiny_run() -> Any:
    """A real trained run on a small built-in series (shared: treat as read-only)."""
    from rnnlab import pipeline
    from rnnlab.data import load_dataset
    from rnnlab.settings import RunConfig

    ds = load_dataset("stocks-monthly")
    return pipeline.fit(ds, RunConfig(dataset="stocks-monthly", **TINY))


@pytest.fixture
def app_with_run(tiny_run: Any) -> Callable[..., AppTest]:
    """Like ``open_app`` with a run already in the session's runs (and selected)."""

    def make(page: str | None = None, run: Any = None) -> AppTest:
        run = run or tiny_run
        at = AppTest.from_file(DASHBOARD, default_timeout=RUN_TIMEOUT)
        at.session_state["rnnlab.runs"] = {run.id: run}
        at.session_state["rnnlab.selected_run"] = run.id
        at.run()
        if page:
            at.switch_page(f"pages/{page}.py").run()
        return at

    return make
