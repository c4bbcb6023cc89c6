"""Helpers for the dashboard's AppTest tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = str(ROOT / "dashboard.py")
RUN_TIMEOUT = 60  # s per script run (the first one imports torch and pandas)
# small enough to train in a second or two on 2 CPU cores
TINY = {"epochs": 2, "hidden_size": 8, "num_layers": 1, "batch_size": 32}


def open_app(page: str | None = None) -> AppTest:
    """The dashboard after its first run, optionally switched to ``pages/<page>.py``."""
    at = AppTest.from_file(DASHBOARD, default_timeout=RUN_TIMEOUT).run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    return at


def wait_until(at: AppTest, done: Callable[[AppTest], bool], timeout: float = 60.0, step: float = 0.5) -> bool:
    """Rerun ``at`` until ``done(at)`` or ``timeout`` seconds (like the browser's live refresh)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        at.run()
        if done(at):
            return True
        time.sleep(step)
    return False


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def set_number(at: AppTest, key: str, value: Any) -> None:
    at.number_input(key=key).set_value(value)


def click(at: AppTest, label: str) -> AppTest:
    """Click the first button with this label and rerun."""
    buttons = [b for b in at.button if b.label == label]
    assert buttons, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return buttons[0].click().run()


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def session_dataset(at: AppTest, task: str = "forecast"):
    """The dataset the session has chosen for ``task`` (ui.state keeps one per task)."""
    return at.session_state["rnnlab.dataset"][task]


def session_config(at: AppTest, task: str = "forecast"):
    """The settings the session holds for ``task``."""
    return at.session_state["rnnlab.config"][task]
