"""Sweep page: a tiny sweep defined with the widgets runs in the background (progress and trials
table while it runs), finishes with the best trial and its test scores, draws the charts, opens the
best trial's run; a study in a storage is watched; the page explains itself in session mode."""

from __future__ import annotations

from rnnlab.store import default_store
from tests.app.apptools import TINY, click, no_exception, open_app, set_number, texts, wait_until


def _sweep_job(at):
    return at.session_state["rnnlab.sweep_job"] if "rnnlab.sweep_job" in at.session_state else None  # noqa: SIM401


def test_a_tiny_sweep_from_the_widgets(run_store) -> None:
    at = open_app()
    at.selectbox(key="data.builtin").set_value("stocks-monthly").run()
    at.switch_page("pages/train.py").run()
    for key, value in {**TINY, "epochs": 3, "patience": 0}.items():
        set_number(at, f"train.{key}", value)
    at.run()
    at.switch_page("pages/sweep.py").run()
    no_exception(at)
    assert {"cell", "hidden_size", "lr", "seq_len", "transform"} <= set(at.multiselect(key="sweep.chosen").value)
    at.multiselect(key="sweep.chosen").set_value(["hidden_size", "cell"]).run()
    set_number(at, "sweep.hidden_size.low", 4)
    set_number(at, "sweep.hidden_size.high", 8)
    at.multiselect(key="sweep.cell.choices").set_value(["gru", "lstm"]).run()
    set_number(at, "sweep.trials", 3)
    at.text_input(key="sweep.study").set_value("app-sweep").run()
    click(at, "Start sweep")
    no_exception(at)
    job = _sweep_job(at)
    assert job is not None and job.spec.trials == 3 and job.spec.base.epochs == 3
    assert set(job.spec.space) == {"hidden_size", "cell"} and job.spec.space["hidden_size"].high == 8
    assert at.get("progress") or job.status != "running"
    assert wait_until(at, lambda a: job.status != "running", timeout=180)
    at.run()
    no_exception(at)
    assert job.status == "done", job.snapshot().message
    assert any("Best: trial" in t for t in texts(at.markdown)), texts(at.markdown)
    summary = job.snapshot().summary
    assert summary.states == {"complete": 3} and summary.test["best"]["model"]["rmse"] > 0
    trials = [e for e in default_store().list() if e.sweep.get("study") == "app-sweep"]
    assert len(trials) == 3
    # the watch section attaches to the study in the store's SQLite file and draws its charts
    assert at.selectbox(key="sweep.watch_study").value == "app-sweep"
    assert len(at.get("vega_lite_chart")) >= 3  # history, parallel coordinates, slices (+ importances)
    best = summary.best["run_id"]
    click(at, f"Open the best trial (#{summary.best['number']})")
    no_exception(at)
    assert at.session_state["rnnlab.selected_run"] == best
    assert at.selectbox(key="ui.run_select").value == best  # the Predictions page shows it
    assert not at.error, texts(at.error)


def test_stop_a_running_sweep(run_store) -> None:
    at = open_app()
    at.selectbox(key="data.builtin").set_value("stocks-monthly").run()
    at.switch_page("pages/train.py").run()
    for key, value in {**TINY, "epochs": 5000, "patience": 0}.items():
        set_number(at, f"train.{key}", value)
    at.run()
    at.switch_page("pages/sweep.py").run()
    at.multiselect(key="sweep.chosen").set_value(["hidden_size"]).run()
    set_number(at, "sweep.hidden_size.low", 4)
    set_number(at, "sweep.hidden_size.high", 6)
    at.selectbox(key="sweep.pruner").set_value("none").run()
    click(at, "Start sweep")
    job = _sweep_job(at)
    assert wait_until(at, lambda a: job.worker.current is not None and job.worker.current.epoch >= 1, timeout=120)
    click(at, "Stop")
    assert job.join(60)
    at.run()
    no_exception(at)
    assert job.status == "stopped"
    states = [t.state.name for t in job.worker.study.get_trials()]
    assert states == ["FAIL"]  # the trial in training: marked failed, not left running


def test_session_mode_explains_that_sweeps_need_the_store(monkeypatch) -> None:
    monkeypatch.setenv("RNNLAB_STORE_MODE", "session")
    at = open_app("sweep")
    no_exception(at)
    assert any("python -m rnnlab sweep" in t for t in texts(at.info))
