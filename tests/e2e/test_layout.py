"""The layout a user sees at 900 and 1400 px wide: the live panel is in view the moment Train is
pressed, no button or choice label is cut off, no slider is squeezed; screenshots of every page at
both widths go to docs/screenshots/<page>-<width>.png."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_browser import PAGE_TIMEOUT, SHOTS, TRAIN_TIMEOUT, go, set_number, wait_charts, wait_idle

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (Debian: apt-get install chromium)"),
]

WIDTHS = (900, 1400)
HEIGHT = 900
PAGES = ("Data", "Train", "Predictions", "Hidden states", "Errors", "Runs & export")
MIN_SLIDER_PX = 120

# labels cut off: a button or segmented-control text wider than its box, or an ellipsis CSS shows
JS_TRUNCATED = """() => {
  const out = [];
  const visible = e => e.getClientRects().length > 0 && e.offsetWidth > 0;
  for (const b of document.querySelectorAll('button')) {
    if (!visible(b)) continue;
    const text = (b.innerText || '').trim();
    if (!text) continue;
    for (const el of [b, ...b.querySelectorAll('p, span, div')]) {
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible') {
        out.push(text.slice(0, 40)); break;
      }
    }
  }
  return [...new Set(out)];
}"""
JS_SLIDER_WIDTHS = """() => [...document.querySelectorAll('[data-testid=stSlider]')]
  .filter(e => e.getClientRects().length > 0)
  .map(e => [e.querySelector('label')?.innerText || '', Math.round(e.getBoundingClientRect().width)])"""


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def in_view(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= page.viewport_size["height"]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_and_training_is_in_view(streamlit_server: dict[str, Any], browser: Any, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": HEIGHT}, device_scale_factor=1,
                                  reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto(streamlit_server["url"] + "/train", timeout=PAGE_TIMEOUT)
        page.get_by_role("heading", name="Train", exact=True, level=1).wait_for(timeout=PAGE_TIMEOUT)
        wait_idle(page)
        train = page.get_by_role("button", name=re.compile(r"Train$"))
        train.wait_for(timeout=PAGE_TIMEOUT)
        assert in_view(page, train), f"{width} px: the Train button is below the fold of a fresh page"
        for label, value in {"Max epochs": "4", "Hidden size": "16", "Layers": "1"}.items():
            set_number(page, label, value)
        train.scroll_into_view_if_needed()  # back up to the button after editing settings further down
        train.click()
        # the live panel (progress line while it trains, the result once it is done) is in view at once
        panel = page.get_by_text(re.compile(r"^(Training · epoch|Training finished)")).first
        panel.wait_for(timeout=TRAIN_TIMEOUT)
        assert in_view(page, panel), f"{width} px: the live panel is below the fold"
        page.get_by_text(re.compile(r"^Training finished after")).wait_for(timeout=TRAIN_TIMEOUT)
        wait_idle(page)
        wait_charts(page, 2)
        for title in PAGES:
            go(page, title)
            wait_charts(page, 1) if title != "Runs & export" else None
            page.wait_for_timeout(300)
            cut = page.evaluate(JS_TRUNCATED)
            assert cut == [], f"{width} px, {title}: cut-off labels {cut}"
            narrow = [(label, w) for label, w in page.evaluate(JS_SLIDER_WIDTHS) if w < MIN_SLIDER_PX]
            assert narrow == [], f"{width} px, {title}: squeezed sliders {narrow}"
            slug = {"Data": "data", "Runs & export": "runs"}.get(title, title.lower().replace(" ", "_"))
            shot(page, f"{slug}-{width}")
    finally:
        context.close()
