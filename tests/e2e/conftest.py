"""Fixtures for the real-browser end-to-end test: a ``streamlit run dashboard.py`` server
on a free local port and a headless Debian chromium driven by playwright.

Nothing here is downloaded: chromium comes from apt-get (``/usr/bin/chromium``), never
from ``playwright install``. The test is skipped (with the reason) when either is missing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SERVER_START_TIMEOUT = 90.0  # s until /_stcore/health answers "ok" (a loaded 2-core machine)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 1000}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except OSError:
        return False


def _tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server (its own process group: streamlit and anything it started)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def streamlit_server(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """``streamlit run dashboard.py`` on 127.0.0.1:<free port>; yields {"url", "log"}.

    The server is always terminated in the finalizer; its log is printed when the test fails."""
    port = _free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="rnnlab-e2e-"))
    log_path = log_dir / "streamlit.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "dashboard.py",
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        # pages may be edited while the test runs: no file watcher, no "source changed" prompt
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RNNLAB_HOME": str(log_dir / "runs")}  # its own run store
    log = open(log_path, "wb")  # noqa: SIM115 - closed in the finalizer
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)

    def finalize() -> None:
        _stop(proc)
        log.close()

    request.addfinalizer(finalize)

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not _healthy(f"{url}/_stcore/health"):
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with status {proc.returncode} before it was healthy:\n{_tail(log_path)}")
        if time.monotonic() > deadline:
            pytest.fail(f"streamlit was not healthy after {SERVER_START_TIMEOUT:.0f} s:\n{_tail(log_path)}")
        time.sleep(0.5)
    yield {"url": url, "log": log_path, "proc": proc}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, reduced_motion="reduce")
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the server log to a failed test's report (shown with ``-ra`` / in the failure)."""
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("streamlit_server")
    if report.failed and server:
        report.sections.append(("streamlit server log (tail)", _tail(server["log"], 8000)))
