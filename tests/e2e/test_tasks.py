"""The text and classification tasks in a real browser, as a new user meets them: choose the task
on the Data page, train a small model live on the Train page, open every analysis page; no
exception or error box, no cut-off label, at 900 and 1400 px. Screenshots of each page go to
docs/screenshots/<task>-<page>-<width>.png (the README shows some of them)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_browser import PAGE_TIMEOUT, TRAIN_TIMEOUT, assert_no_errors, go, set_number, wait_idle, wait_rerun
from tests.e2e.test_layout import JS_TRUNCATED, in_view, shot

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (Debian: apt-get install chromium)"),
]

TASKS = {"text": "Model text", "classify": "Classify sequences"}
PAGES = ("Train", "Predictions", "Hidden states", "Errors")


@pytest.mark.parametrize("width", (900, 1400))
@pytest.mark.parametrize("task", list(TASKS))
def test_task_trains_live_and_every_page_draws(streamlit_server: dict[str, Any], browser: Any, task: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1, reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto(streamlit_server["url"], timeout=PAGE_TIMEOUT)
        page.get_by_role("heading", name="Data", exact=True, level=1).wait_for(timeout=PAGE_TIMEOUT)
        wait_idle(page)
        page.get_by_text(TASKS[task], exact=True).first.click()
        wait_rerun(page)
        assert_no_errors(page, f"{task}, Data")
        assert page.evaluate(JS_TRUNCATED) == [], f"{width} px, {task} Data: cut-off labels"
        shot(page, f"{task}-data-{width}")
        go(page, "Train")
        for label, value in {"Max epochs": "1", "Hidden size": "16", "Layers": "1"}.items():
            set_number(page, label, value)
        train = page.get_by_role("button", name=re.compile(r"Train$"))
        train.scroll_into_view_if_needed()
        train.click()
        panel = page.get_by_text(re.compile(r"^(Training · epoch|Training finished)")).first
        panel.wait_for(timeout=TRAIN_TIMEOUT)
        assert in_view(page, panel), f"{width} px, {task}: the live panel is below the fold"
        page.get_by_text(re.compile(r"^Training finished after")).wait_for(timeout=4 * TRAIN_TIMEOUT)
        wait_idle(page)
        for title in PAGES:
            if title != "Train":
                go(page, title)
            page.wait_for_timeout(500)
            assert_no_errors(page, f"{task}, {title}")
            cut = page.evaluate(JS_TRUNCATED)
            assert cut == [], f"{width} px, {task} {title}: cut-off labels {cut}"
            shot(page, f"{task}-{title.lower().replace(' ', '_')}-{width}")
    finally:
        context.close()
