"""Interaction latency of the dashboard, measured through a real browser.

    python -m bench.latency [--reps 5] [--quick] [--no-load]

A ``streamlit run dashboard.py`` server and headless Debian chromium (playwright, never a
downloaded browser) on this machine. Each round, in a fresh browser context:

* ``first load``: from ``goto("/")`` to the Data page's chart drawn and the script idle;
* ``page change``: a click in the sidebar (Data -> Train, Train -> Data) until the new page's
  script run has finished;
* ``widget change``: a number typed into the Train page's Hidden size (Enter) until the rerun it
  causes has finished; a target choice on the Data page likewise.

Timed twice: quiet, and beside a CPU hog (one busy-loop process per core, started before and
killed after, always). Medians over the rounds; the load average is recorded. Writes
``bench/results/latency.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import common

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
IDLE = "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'"
DRAWN = """() => [...document.querySelectorAll('.vega-embed')].some(
  c => [...c.querySelectorAll('canvas, svg')].some(m => m.getBoundingClientRect().width > 0))"""
TIMEOUT = 180_000  # ms


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server() -> Iterator[str]:
    port = _free_port()
    log = open(Path(tempfile.mkdtemp(prefix="rnnlab-latency-")) / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--server.fileWatcherType", "none"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(url + "/_stcore/health", timeout=5).read().strip() == b"ok":
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.5)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


@contextlib.contextmanager
def cpu_hog(n: int) -> Iterator[None]:
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(2)  # let the load settle
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def _wait_idle(page: Any) -> None:
    page.wait_for_timeout(50)  # a rerun request is sent before the state flips to running
    page.wait_for_function(IDLE, timeout=TIMEOUT)


def one_round(browser: Any, url: str) -> dict[str, float]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    out: dict[str, float] = {}
    try:
        t = time.perf_counter()
        page.goto(url + "/", timeout=TIMEOUT)
        page.get_by_role("heading", name="Data", exact=True, level=1).wait_for(timeout=TIMEOUT)
        page.wait_for_function(DRAWN, timeout=TIMEOUT)
        page.wait_for_function(IDLE, timeout=TIMEOUT)
        out["first load"] = time.perf_counter() - t

        def nav(title: str) -> float:
            link = page.get_by_test_id("stSidebarNavLink").filter(has=page.get_by_text(title, exact=True))
            t0 = time.perf_counter()
            link.click()
            page.get_by_role("heading", name=title, exact=True, level=1).wait_for(timeout=TIMEOUT)
            _wait_idle(page)
            return time.perf_counter() - t0

        out["page change: Data -> Train"] = nav("Train")
        box = page.get_by_label("Hidden size", exact=True)
        box.wait_for(timeout=TIMEOUT)
        t0 = time.perf_counter()
        box.fill("72")
        box.press("Enter")
        _wait_idle(page)
        out["widget change: Train hidden size"] = time.perf_counter() - t0
        box.fill("64")
        box.press("Enter")
        _wait_idle(page)
        out["page change: Train -> Data"] = nav("Data")
        page.wait_for_function(DRAWN, timeout=TIMEOUT)
        page.wait_for_timeout(500)
        target = page.get_by_role("combobox", name="Target (column to forecast)")
        t0 = time.perf_counter()
        target.click()
        page.keyboard.type("temp_min")
        page.keyboard.press("Enter")
        _wait_idle(page)
        page.wait_for_function(DRAWN, timeout=TIMEOUT)
        out["widget change: Data target"] = time.perf_counter() - t0
    finally:
        ctx.close()
    return out


def measure(url: str, reps: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            one_round(browser, url)  # warm-up: caches, the first torch import
            for _ in range(reps):
                for k, v in one_round(browser, url).items():
                    times.setdefault(k, []).append(round(v, 3))
        finally:
            browser.close()
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2 rounds, quiet only")
    ap.add_argument("--no-load", action="store_true", help="skip the run beside a CPU hog")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"skipped: {CHROMIUM} not found (Debian: apt-get install chromium)")
        return 0
    reps = 2 if args.quick else args.reps
    conditions = ["quiet"] if args.quick or args.no_load else ["quiet", "loaded"]
    results: dict[str, Any] = {}
    with server() as url:
        for cond in conditions:
            before = common.load_average()
            with cpu_hog(os.cpu_count() or 2) if cond == "loaded" else contextlib.nullcontext():
                times = measure(url, reps)
                after = common.load_average()
            results[cond] = {"seconds": times, "median": {k: statistics.median(v) for k, v in times.items()},
                             "load_before": before, "load_after": after}
    rows = []
    for name in results[conditions[0]]["median"]:
        rows.append({"interaction": name, **{f"{c} s": round(results[c]["median"][name], 2) for c in conditions}})
    print(common.table(rows, title=f"Dashboard interaction latency (medians of {reps} rounds, real browser)"))
    common.write_result("latency", {"reps": reps, "conditions": results})
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
