"""Train page: a tiny config trains into a run with metrics; Stop keeps a run; bad
settings show st.error and keep the settings; navigating away does not kill the job."""

from __future__ import annotations

from tests.app.apptools import TINY, click, no_exception, open_app, session_config, session_dataset, set_number, texts, wait_until


def _job(at):
    return at.session_state["rnnlab.job"] if "rnnlab.job" in at.session_state else None  # noqa: SIM401 (no .get)


def _choose_small_dataset(at) -> None:
    at.selectbox(key="data.builtin").set_value("stocks-monthly").run()
    assert session_dataset(at).name == "stocks-monthly"


def test_defaults_are_runconfig_defaults() -> None:
    from rnnlab.settings import RunConfig

    at = open_app("train")
    d = RunConfig()
    for field in ("hidden_size", "num_layers", "batch_size", "lr", "epochs", "patience", "seed"):
        assert at.number_input(key=f"train.{field}").value == getattr(d, field), field
    assert at.number_input(key="train.seq_len").value is None  # auto
    assert at.selectbox(key="train.transform").value == "auto"
    assert at.button_group(key="train.cell").value == d.cell


def test_tiny_training_produces_a_run_with_metrics() -> None:
    at = open_app()
    _choose_small_dataset(at)
    at.switch_page("pages/train.py").run()
    for key, value in TINY.items():
        set_number(at, f"train.{key}", value)
    at.run()
    click(at, "Train")
    no_exception(at)
    job = _job(at)
    assert job is not None
    # Train is disabled while the job runs
    assert all(b.disabled for b in at.button if b.label == "Train") or job.status != "running"
    assert wait_until(at, lambda a: _job(a).status != "running", timeout=90)
    at.run()
    no_exception(at)
    assert job.status == "done", job.snapshot().message
    runs = at.session_state["rnnlab.runs"]
    assert len(runs) == 1
    run = next(iter(runs.values()))
    assert run.config.epochs == 2 and run.config.hidden_size == 8 and run.config.num_layers == 1
    assert run.metrics["test"]["model"]["rmse"] > 0
    assert any(m.label == "Test RMSE (model)" for m in at.metric)
    # redraws never add the run twice
    at.run()
    at.switch_page("pages/runs.py").run()
    at.switch_page("pages/train.py").run()
    assert len(at.session_state["rnnlab.runs"]) == 1
    # the Predictions page shows it
    at.switch_page("pages/predictions.py").run()
    no_exception(at)
    assert not at.error, texts(at.error)


def test_stop_keeps_the_best_weights() -> None:
    at = open_app("train")  # seattle-weather: 987 training windows
    set_number(at, "train.epochs", 500)
    set_number(at, "train.patience", 0)
    set_number(at, "train.hidden_size", 16)
    set_number(at, "train.num_layers", 1)
    at.run()
    click(at, "Train")
    job = _job(at)
    # navigating away and back keeps the same job running
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/train.py").run()
    assert _job(at) is job and job.status == "running"
    # wait for one finished epoch (a stop before that keeps no weights)
    assert wait_until(at, lambda a: len(job.snapshot().history) >= 1, timeout=90)
    click(at, "Stop")
    no_exception(at)
    assert job.join(30)
    assert wait_until(at, lambda a: len(a.session_state["rnnlab.runs"]) == 1, timeout=10)
    assert job.status == "stopped", job.snapshot().message
    run = next(iter(at.session_state["rnnlab.runs"].values()))
    assert run.train_info["stop_reason"] == "stopped"
    assert 1 <= len(run.history) < 500
    assert any("stopped" in t for t in texts(at.success))


def test_bad_setting_shows_error_and_keeps_settings() -> None:
    at = open_app()
    _choose_small_dataset(at)  # 123 rows
    at.switch_page("pages/train.py").run()
    set_number(at, "train.seq_len", 500)
    at.run()
    assert at.error, "the settings check should already complain"
    no_exception(at)
    shown = texts(at.error)
    assert len(shown) == 1 and "seq_len=500" in shown[0] and "the largest seq_len" in shown[0], shown
    # Train stays off until the settings pass (a second click used to add an identical error)
    assert next(b for b in at.button if b.label == "Train").disabled
    assert _job(at) is None
    assert at.number_input(key="train.seq_len").value == 500
    assert session_config(at).seq_len == 500


def test_architecture_settings_show_the_automatic_highway_and_train() -> None:
    """The Architecture expander says why the automatic highway is on for seattle-weather; a tiny
    run with attention and a convolutional front end, set through the widgets, trains."""
    at = open_app("train")
    captions = texts(at.caption)
    assert any("auto: on with 30 lags" in c and "below persistence" in c for c in captions), captions
    at.selectbox(key="train.attention").set_value("dot").run()
    set_number(at, "train.conv_layers", 1)
    for key, value in (("train.epochs", 2), ("train.hidden_size", 8), ("train.num_layers", 1)):
        set_number(at, key, value)
    at.run()
    click(at, "Train")
    assert wait_until(at, lambda a: _job(a).status != "running", timeout=120)
    at.run()
    no_exception(at)
    run = next(iter(at.session_state["rnnlab.runs"].values()))
    assert run.config.attention == "dot" and run.config.conv_layers == 1 and run.config.highway == 30
