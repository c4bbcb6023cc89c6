"""Real-browser end-to-end test: ``streamlit run dashboard.py`` driven by headless chromium.

Data -> Train (a tiny GRU set through the widgets, then Reset to defaults and the default
LSTM, watched live and timed) -> Predictions ->
Hidden states -> Errors -> Runs & export. On every page: the Altair charts are drawn
(a ``.vega-embed`` holding a canvas / svg), no Streamlit exception box and no error box is
shown. A viewport screenshot of each page goes to ``docs/screenshots/<page>.png`` (the
README shows ``train.png``).

Every wait is on a condition (script run finished, text shown, charts drawn), bounded.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; never `playwright install`

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (Debian: apt-get install chromium)"),
]
pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

SHOTS = ROOT / "docs" / "screenshots"
MAX_PNG_BYTES = 500_000
PAGE_TIMEOUT = 90_000  # ms: one page's script run (first use of torch / analysis on a loaded machine)
TRAIN_TIMEOUT = 120_000  # ms: a tiny training run
TINY = {"Max epochs": "3", "Hidden size": "8", "Layers": "1"}
DEFAULTS = {"Max epochs": "60", "Hidden size": "64", "Layers": "2"}  # RunConfig() as the Train page shows it
DEFAULT_TRAIN_TIMEOUT = 180_000  # ms: the default LSTM on seattle-weather (~10-30 s here)

# every visible chart has drawn its marks (vega renders a canvas.marks or svg.marks)
JS_CHARTS_DRAWN = """(minimum) => {
  const visible = e => e.getClientRects().length > 0 && e.offsetWidth > 0;
  const charts = [...document.querySelectorAll('.vega-embed')].filter(visible);
  const drawn = c => [...c.querySelectorAll('canvas, svg')].some(m => m.getBoundingClientRect().width > 0);
  return charts.length >= minimum && charts.every(drawn);
}"""
# the open tab panel holds at least one chart that has drawn its marks
JS_TAB_DRAWN = """() => {
  const panel = [...document.querySelectorAll('[role=tabpanel]')].find(p => p.getClientRects().length > 0);
  return !!panel && [...panel.querySelectorAll('.vega-embed')].some(
    c => [...c.querySelectorAll('canvas, svg')].some(m => m.getBoundingClientRect().width > 0));
}"""
JS_COUNT_DRAWN = """() => [...document.querySelectorAll('.vega-embed')]
  .filter(c => c.getClientRects().length > 0 && c.querySelector('canvas, svg')).length"""


# ----------------------------------------------------------------------------- helpers
JS_SCRIPT_STATE = "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state')"


def wait_idle(page: Any, timeout: float = PAGE_TIMEOUT) -> None:
    """Wait until the app's script run has finished (no run in progress or requested)."""
    page.wait_for_function(f"() => ({JS_SCRIPT_STATE})() === 'notRunning'", timeout=timeout)


def wait_rerun(page: Any, timeout: float = PAGE_TIMEOUT) -> None:
    """After an action that asks for a rerun: give the rerun a moment to start (on a loaded machine
    the state can still read 'notRunning' just after the click), then wait until it has finished."""
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(f"() => ({JS_SCRIPT_STATE})() !== 'notRunning'", timeout=1500)
    wait_idle(page, timeout)


def wait_charts(page: Any, minimum: int = 1, timeout: float = PAGE_TIMEOUT) -> int:
    """Wait until at least ``minimum`` visible charts exist and every visible one is drawn."""
    try:
        page.wait_for_function(JS_CHARTS_DRAWN, arg=minimum, timeout=timeout)
    except PlaywrightTimeoutError as exc:
        raise AssertionError(f"charts not drawn (wanted >= {minimum}); page says:\n{page_text(page)}") from exc
    return int(page.evaluate(JS_COUNT_DRAWN))


def page_text(page: Any, limit: int = 3000) -> str:
    try:
        return page.locator("[data-testid=stMain]").inner_text(timeout=5000)[:limit]
    except Exception:
        return "<could not read the page>"


def assert_no_errors(page: Any, where: str) -> None:
    """No Streamlit exception box, and no st.error box (ui.common.guard turns bugs into those)."""
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, f"{where}: exception box: {exceptions.all_inner_texts()}"
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, f"{where}: error box: {errors.all_inner_texts()}"


def go(page: Any, title: str) -> None:
    """Click ``title`` in the sidebar navigation and wait for that page's finished run."""
    link = page.get_by_test_id("stSidebarNavLink").filter(has=page.get_by_text(title, exact=True))
    link.click(timeout=PAGE_TIMEOUT)
    page.get_by_role("heading", name=title, exact=True, level=1).wait_for(timeout=PAGE_TIMEOUT)
    page.wait_for_url(re.compile(rf"/{re.escape(slug(title))}(\?.*)?$"), timeout=PAGE_TIMEOUT)  # ?cid=<client id>
    wait_idle(page)


def slug(title: str) -> str:
    return {"Data": "", "Runs & export": "runs"}.get(title, title.lower().replace(" ", "_"))


def wait_single_value(page: Any, label: str, value: str | None) -> None:
    """Wait until exactly one input has this label (a rerun that swaps widgets shows both for a
    moment) and, when ``value`` is given, it holds ``value``."""
    page.wait_for_function(
        "([label, value]) => { const els = [...document.querySelectorAll('input')]"
        ".filter(e => e.getAttribute('aria-label') === label);"
        " return els.length === 1 && (value === null || els[0].value === value); }",
        arg=[label, value], timeout=PAGE_TIMEOUT)


def set_number(page: Any, label: str, value: str) -> None:
    """Type ``value`` into the number input ``label`` and wait for the rerun it causes. The field
    may still be drawing (first use of a page on a loaded machine): wait for it, and fill the
    newest one (a rerun that swaps widgets shows the old one beside it for a moment; a locator
    resolved again on each retry never holds on to a detached element)."""
    box = page.get_by_label(label, exact=True).last
    try:
        box.wait_for(state="visible", timeout=PAGE_TIMEOUT)
    except PlaywrightTimeoutError as exc:
        raise AssertionError(f"no number input {label!r}; page says:\n{page_text(page)}") from exc
    box.fill(value, timeout=PAGE_TIMEOUT)
    box.press("Enter", timeout=PAGE_TIMEOUT)
    wait_rerun(page)


def visit_tabs(page: Any, where: str) -> int:
    """Open every tab of the page (client-side, no rerun); each tab must draw at least one
    chart (vega draws a hidden tab's charts only once it is shown, so wait for them).
    Returns the number of charts drawn over all tabs."""
    tabs = page.get_by_role("tab")
    total = 0
    for i in range(tabs.count()):
        name = tabs.nth(i).inner_text()
        tabs.nth(i).click()
        try:
            page.wait_for_function(JS_TAB_DRAWN, timeout=PAGE_TIMEOUT)
        except PlaywrightTimeoutError as exc:
            raise AssertionError(f"{where}, tab {name!r}: no chart drawn; page says:\n{page_text(page)}") from exc
        total += wait_charts(page, 1)
        assert_no_errors(page, f"{where}, tab {name!r}")
    tabs.first.click()
    return total


def shot(page: Any, name: str, anchor: Any | None = None, margin: int = 80) -> Path:
    """Viewport screenshot (a small PNG); ``anchor`` is scrolled to ``margin`` px below the
    top of the view first (default: the top of the page)."""
    if anchor is None:
        anchor = page.get_by_role("heading", level=1).first
        margin = 200
    anchor.evaluate("(e, m) => { e.style.scrollMarginTop = m + 'px'; e.scrollIntoView({block: 'start'}); }", margin)
    page.mouse.move(1, 999)  # no hover tooltip in the picture
    with contextlib.suppress(PlaywrightTimeoutError):  # a lingering tooltip only spoils the picture
        page.locator('[data-baseweb="tooltip"]').first.wait_for(state="detached", timeout=5000)
    wait_charts(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    size = path.stat().st_size
    assert 0 < size < MAX_PNG_BYTES, f"{path} is {size:,} bytes"
    return path


# ----------------------------------------------------------------------------- the test
def test_data_train_and_inspect_in_a_real_browser(streamlit_server: dict[str, Any], page: Any) -> None:
    t0 = time.monotonic()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        timings[name] = round(time.monotonic() - t0, 1)
        print(f"e2e: {name} done at {timings[name]} s", flush=True)

    # Data: the default series with its train / validation / test spans
    page.goto(streamlit_server["url"] + "/", timeout=PAGE_TIMEOUT)
    page.get_by_role("heading", name="Data", exact=True, level=1).wait_for(timeout=PAGE_TIMEOUT)
    wait_idle(page)
    assert wait_charts(page, 1) >= 1
    assert_no_errors(page, "Data")
    page.get_by_text("Target transform:").first.wait_for(timeout=PAGE_TIMEOUT)
    shot(page, "data", page.get_by_role("heading", name="seattle-weather", level=3))
    lap("data")

    # Train: a tiny GRU through the widgets
    go(page, "Train")
    assert_no_errors(page, "Train (settings)")
    for label, value in TINY.items():
        set_number(page, label, value)
    for label, value in TINY.items():
        wait_single_value(page, label, value)
    gru = page.get_by_role("radiogroup", name="Cell").get_by_role("radio", name="GRU", exact=True)
    gru.click()
    wait_rerun(page)
    assert gru.get_attribute("aria-checked") == "true"
    page.get_by_role("button", name=re.compile(r"Train$")).click()
    page.mouse.move(1, 999)
    page.get_by_text("1 run in the run store").wait_for(timeout=TRAIN_TIMEOUT)
    page.get_by_text(re.compile(r"Training finished after 3 epochs")).wait_for(timeout=PAGE_TIMEOUT)
    wait_idle(page)
    assert wait_charts(page, 2) >= 2  # loss curves + validation forecast
    assert_no_errors(page, "Train (after the GRU)")
    lap("train gru")

    # then what a new user does: Reset to defaults, press Train, watch the default LSTM train live
    page.get_by_role("button", name="Reset to defaults").click()
    wait_rerun(page)
    for label, value in DEFAULTS.items():  # Reset draws new widgets: wait until only they are left
        wait_single_value(page, label, value)
    wait_idle(page)
    lstm = page.get_by_role("radiogroup", name="Cell").get_by_role("radio", name="LSTM", exact=True)
    assert lstm.get_attribute("aria-checked") == "true"
    t_train = time.monotonic()
    page.get_by_role("button", name=re.compile(r"Train$")).click()
    page.mouse.move(1, 999)
    # live: the progress line counts epochs of 60 while the loss and forecast charts are drawn
    page.get_by_text(re.compile(r"^Training · epoch [1-9]\d*/60")).wait_for(timeout=TRAIN_TIMEOUT)
    assert page.get_by_role("button", name="Stop", exact=True).is_enabled()
    assert wait_charts(page, 2) >= 2
    # a reload while it trains: the browser asks first (beforeunload), then the tab reattaches to its job
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    page.reload(timeout=PAGE_TIMEOUT)
    page.get_by_role("heading", name="Train", exact=True, level=1).wait_for(timeout=PAGE_TIMEOUT)
    assert dialogs == ["beforeunload"], dialogs
    page.get_by_text(re.compile(r"^(Training · epoch [1-9]\d*/60|Training finished after \d+ epochs)")).first.wait_for(
        timeout=PAGE_TIMEOUT)
    page.get_by_text("2 runs in the run store").wait_for(timeout=DEFAULT_TRAIN_TIMEOUT)
    page.get_by_text(re.compile(r"^Training finished after \d+ epochs")).wait_for(timeout=PAGE_TIMEOUT)
    default_seconds = round(time.monotonic() - t_train, 1)
    wait_idle(page)
    assert wait_charts(page, 2) >= 2
    assert_no_errors(page, "Train (after the default LSTM)")
    # the defaults give a model that beats persistence on this series (no "does not beat" warning)
    assert page.get_by_text("does not beat the naive forecast").count() == 0, page_text(page)
    # the README's picture: the Train button, the result and its loss / forecast charts
    shot(page, "train", page.get_by_text(re.compile(r"^Training finished after")), margin=160)
    lap("train default lstm")
    print(f"e2e: the default LSTM trained in {default_seconds} s from the click on Train", flush=True)

    # Predictions: forecast vs actual with baselines, error by step, forecast beyond the data
    go(page, "Predictions")
    # the settings made through the widgets reached the run
    page.get_by_text(re.compile(r"LSTM 64×2 · .* trained \d+ epochs")).first.wait_for(timeout=PAGE_TIMEOUT)
    assert wait_charts(page, 3) >= 3
    assert_no_errors(page, "Predictions")
    shot(page, "predictions", page.get_by_role("heading", name="Test metrics: model vs baselines"))
    lap("predictions")

    # Hidden states (inside the network)
    go(page, "Hidden states")
    assert wait_charts(page, 1) >= 1
    assert_no_errors(page, "Hidden states")
    assert visit_tabs(page, "Hidden states") >= 5  # trajectory, units, gates, probing, evolution
    shot(page, "hidden_states")
    lap("hidden states")

    # Errors
    go(page, "Errors")
    assert wait_charts(page, 1) >= 1
    assert_no_errors(page, "Errors")
    assert visit_tabs(page, "Errors") >= 6
    shot(page, "errors")
    lap("errors")

    # Runs & export: both runs in the table, loss curves and predictions overlaid
    go(page, "Runs & export")
    page.get_by_role("heading", name="Compare runs").wait_for(timeout=PAGE_TIMEOUT)
    overlay = page.get_by_test_id("stMultiSelect").filter(has_text="Runs to overlay")
    for label in ("gru h8x1", "lstm h64x2"):  # both runs, overlaid by default
        expect(overlay).to_contain_text(f"{label} · seattle-weather/temp_max", timeout=PAGE_TIMEOUT)
    assert wait_charts(page, 2) >= 2
    assert_no_errors(page, "Runs & export")
    shot(page, "runs")
    lap("runs")

    print(f"\ne2e timings (s since the first page load): {timings}")


def test_reset_to_defaults_survives_a_quick_edit(streamlit_server: dict[str, Any], page: Any) -> None:
    """Bug: Reset to defaults could be partly undone by editing another field within a second of it
    (a horizon of 1000 came back), and a field could show "auto" while the run used another value.
    The settings shown must be the settings used."""
    page.goto(streamlit_server["url"] + "/train", timeout=PAGE_TIMEOUT)
    page.get_by_role("heading", name="Train", exact=True, level=1).wait_for(timeout=PAGE_TIMEOUT)
    wait_idle(page)
    set_number(page, "Horizon (steps predicted)", "3")
    set_number(page, "Hidden size", "24")
    page.get_by_role("button", name="Reset to defaults").click()
    # edit at once, while the reset's rerun draws (for a moment the old field is still shown beside
    # the new one; `.last` is resolved again on each retry, so a field that goes away is not waited on)
    box = page.get_by_label("Hidden size", exact=True).last
    box.fill("40", timeout=PAGE_TIMEOUT)
    box.press("Enter", timeout=PAGE_TIMEOUT)
    wait_rerun(page)
    page.wait_for_timeout(1500)
    wait_idle(page)
    wait_single_value(page, "Hidden size", None)
    box = page.get_by_label("Hidden size", exact=True)
    horizon = page.get_by_label("Horizon (steps predicted)", exact=True)
    shown = {"horizon": horizon.input_value(), "hidden": box.input_value()}
    caption = page.get_by_text(re.compile(r"training, [\d,]+ validation and [\d,]+ test windows of \d+ → \d+ steps"))
    used = caption.first.inner_text()
    # the horizon is back to automatic (7 for daily data), whatever happened to the quick edit
    assert shown["horizon"] == "", shown
    assert "→ 7 steps" in used, used
