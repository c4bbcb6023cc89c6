"""The Backtest page: start in the background, progress, the origins and the error by origin; and the
Predictions page's interval bands with their coverage."""

from __future__ import annotations

from tests.app.apptools import no_exception, open_app, texts, wait_until


def test_backtest_page_runs_a_backtest_in_the_background() -> None:
    at = open_app("backtest")
    no_exception(at)
    assert at.title[0].value == "Backtest"
    from rnnlab.settings import RunConfig
    from ui.state import _CONFIG

    at.session_state[_CONFIG] = {"forecast": RunConfig(epochs=1, hidden_size=8, num_layers=1, batch_size=64)}
    at.number_input(key="backtest.origins").set_value(2)
    at.button(key="backtest.start").click().run()
    no_exception(at)
    assert wait_until(at, lambda a: any("Mean ±" in t for t in texts(a.markdown)), timeout=240), texts(at.markdown)
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 2


def test_a_reload_finds_the_running_backtest_again() -> None:
    """Like training: a reload of the tab (a new session with the same client id) shows the
    backtest it started, still running, with its progress and Stop; another browser does not."""
    from streamlit.testing.v1 import AppTest

    from rnnlab.settings import RunConfig
    from tests.app.apptools import DASHBOARD, RUN_TIMEOUT
    from ui.state import _BACKTEST, _CONFIG

    at = open_app("backtest")
    at.session_state[_CONFIG] = {"forecast": RunConfig(epochs=10_000, patience=10_000, hidden_size=8, num_layers=1)}
    at.number_input(key="backtest.origins").set_value(2)
    at.button(key="backtest.start").click().run()
    job = at.session_state[_BACKTEST]
    try:
        assert job.status == "running"
        cid = at.query_params["cid"]
        cid = cid[0] if isinstance(cid, list) else cid
        reloaded = AppTest.from_file(DASHBOARD, default_timeout=RUN_TIMEOUT)
        reloaded.query_params["cid"] = cid
        reloaded.run()
        reloaded.switch_page("pages/backtest.py").run()
        no_exception(reloaded)
        assert reloaded.session_state[_BACKTEST] is job
        assert reloaded.get("progress") and reloaded.button(key="backtest.stop")
        stranger = open_app("backtest")
        assert stranger.session_state[_BACKTEST] is None if _BACKTEST in stranger.session_state else True
    finally:
        job.stop()
        job.wait(60)
    assert job.status == "stopped", job.error


def test_predictions_page_shows_bands_with_their_coverage(app_with_run) -> None:
    at = app_with_run("predictions")
    no_exception(at)
    assert any("80 % band" in t and "conformal" in t for t in texts(at.markdown))
    assert any("measured test coverage" in t for t in texts(at.caption))
