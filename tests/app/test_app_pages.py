"""Every page renders without an exception, with and without a run in the session."""

from __future__ import annotations

import copy

import pytest

from tests.app.apptools import no_exception, open_app, texts

PAGES = ["data", "train", "predictions", "runs"]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_runs(page: str) -> None:
    at = open_app(page)
    no_exception(at)
    assert not at.error, texts(at.error)
    assert at.title and at.title[0].value
    if page in ("predictions",):
        assert any("No trained run yet" in t for t in texts(at.info))


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_a_run(app_with_run, page: str) -> None:
    at = app_with_run(page)
    no_exception(at)
    assert not at.error, texts(at.error)


def test_sidebar_shows_dataset() -> None:
    at = open_app()
    assert any("seattle-weather" in t for t in texts(at.sidebar.caption))


def test_predictions_page_shows_metrics_charts_and_forecast(app_with_run, tiny_run) -> None:
    at = app_with_run("predictions")
    no_exception(at)
    assert len(at.dataframe) >= 2  # metric table + forecast values
    assert any("Target transform" in t for t in texts(at.info))
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 3  # predictions, per-step errors, forecast
    # other horizon step and all baselines
    at.slider(key="pred.step").set_value(tiny_run.config.horizon).run()
    at.button_group(key="pred.baselines").set_value(["naive", "seasonal_naive", "linear"]).run()
    no_exception(at)


def test_close_to_naive_warning(app_with_run, tiny_run) -> None:
    run = copy.copy(tiny_run)
    run.metrics = {**tiny_run.metrics, "skill_vs_naive": 0.005}
    at = app_with_run("predictions", run=run)
    no_exception(at)
    assert any("lagged copy" in t for t in texts(at.warning))


def test_a_missing_page_file_is_reported_not_skipped(tmp_path) -> None:
    """Bug: dashboard.py silently dropped a page whose script was missing. A copy of the app
    without pages/errors.py says so on screen and still serves the other pages."""
    import shutil
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from tests.app.apptools import DASHBOARD, RUN_TIMEOUT
    from ui.navigation import missing_pages

    root = Path(DASHBOARD).parent
    shutil.copy(DASHBOARD, tmp_path / "dashboard.py")
    shutil.copytree(root / "pages", tmp_path / "pages")
    (tmp_path / "pages" / "errors.py").unlink()
    assert missing_pages(tmp_path) == ["pages/errors.py"] and missing_pages(root) == []
    at = AppTest.from_file(str(tmp_path / "dashboard.py"), default_timeout=RUN_TIMEOUT).run()
    no_exception(at)
    assert any("pages/errors.py" in t and "missing" in t for t in texts(at.error))
    assert at.title and at.title[0].value == "Data"
