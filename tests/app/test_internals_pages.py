"""AppTest: the Hidden states and Errors pages render without exceptions, with no run and
with tiny trained runs (lstm, gru, multivariate), and a few widgets work."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from rnnlab import pipeline
from rnnlab.data import load_dataset
from rnnlab.settings import RunConfig
from rnnlab.tasks import forecast
from tests.app.apptools import (
    DASHBOARD,
    RUN_TIMEOUT,
    no_exception,
)
from ui import state

PAGES = ("hidden_states", "errors")
pytestmark = pytest.mark.filterwarnings("ignore:Automatically deduplicated selection parameter")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: one intra-op thread is as fast and steadier on a loaded machine."""
    import torch

    from rnnlab._platform import configure_torch_threads

    before = configure_torch_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_runs(one_thread: None) -> dict[str, forecast.ForecastRun]:
    """lstm on a daily series (weekday/month breakdowns, two layers of gates), gru with
    log-returns and a multivariate vanilla rnn with differences on a small monthly series."""
    base = {"epochs": 2, "hidden_size": 8, "num_layers": 1, "patience": 0, "batch_size": 128}
    daily, monthly = load_dataset("seattle-weather"), load_dataset("stocks-monthly")
    return {
        "lstm": pipeline.fit(daily, RunConfig(cell="lstm", seq_len=14, horizon=3,
                                              **{**base, "num_layers": 2})),
        "gru": pipeline.fit(monthly, RunConfig(dataset="stocks-monthly", cell="gru", transform="log_return", **base)),
        "multi": pipeline.fit(monthly, RunConfig(dataset="stocks-monthly", cell="rnn", transform="diff",
                                                 features=["aapl", "ibm"], **base)),
    }


def open_with(page: str, runs: list[forecast.ForecastRun] | None = None) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=RUN_TIMEOUT)
    if runs:
        at.session_state[state._RUNS] = {r.id: r for r in runs}
        at.session_state[state._SELECTED] = runs[-1].id
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.info, *at.error)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_pages_without_a_run(page: str) -> None:
    at = open_with(page)
    no_exception(at)
    assert any("No trained run yet" in i.value for i in at.info)


def test_hidden_states_lstm(tiny_runs: dict) -> None:
    run = tiny_runs["lstm"]
    at = open_with("hidden_states", [run])
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Hidden states"
    assert any(m.label == "PC1 explains" for m in at.metric)
    # several widgets per rerun keeps the test fast
    at.radio(key="hs.span").set_value("all")
    at.selectbox(key="hs.color").set_value("error")
    at.radio(key="hs.mode").set_value(at.radio(key="hs.mode").options[1])
    at.radio(key="hs.order").set_value("correlation")
    at.selectbox(key=f"hs.traj_layer.{run.id}").set_value(1).run()  # the lower layer, via the cell loop
    no_exception(at)
    assert any("Layer 1: PC1" in c.value for c in at.caption)
    at.selectbox(key="hs.gate").set_value("forget")
    at.selectbox(key=f"hs.layer.{run.id}").set_value(1)
    at.slider(key=f"hs.gate_window.{run.id}").set_value(0).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert "Saturation" in texts(at)
    # evolution: replay the 2 training epochs and move the slider
    at.button(key="hs.evolve").click().run()
    no_exception(at)
    slider = at.select_slider(key=f"hs.evo_epoch.{run.id}")
    slider.set_value(slider.options[0] if isinstance(slider.options[0], int) else 0).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("name", ["gru", "multi"])
def test_hidden_states_gru_and_multivariate(tiny_runs: dict, name: str) -> None:
    at = open_with("hidden_states", [tiny_runs[name]])
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    if name == "multi":  # a vanilla rnn: no gates, said plainly
        assert any("no gates" in i.value for i in at.info)


@pytest.mark.parametrize("name", ["lstm", "gru", "multi"])
def test_errors_page(tiny_runs: dict, name: str) -> None:
    run = tiny_runs[name]
    at = open_with("errors", [run])
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Errors"
    if name == "multi":
        assert any("recursive" in i.value.lower() for i in at.info)  # explained, not computed
        return
    at.selectbox(key=f"err.step.{run.id}").set_value(2)
    at.radio(key="err.regime").set_value("trend")
    at.slider(key="err.n_worst").set_value(3)
    at.selectbox(key=f"err.sal_step.{run.id}").set_value(1).run()
    no_exception(at)
    at.slider(key="err.wi_scale").set_value(1.5)
    at.slider(key=f"err.wi_lag.{run.id}").set_value(2).run()
    windows = at.selectbox(key=f"err.wi_window.{run.id}").options
    assert len(windows) == 4  # the last window + 3 worst
    from rnnlab.analysis import worst_windows

    worst = int(worst_windows(run, 3).table["window"].iloc[0])  # option values are test-window positions
    at.selectbox(key=f"err.wi_window.{run.id}").set_value(worst)
    at.selectbox(key=f"err.sal_window.{run.id}").set_value(worst).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert "no edit" not in texts(at)  # the scale edit is described


@pytest.mark.parametrize("page", PAGES)
def test_switching_runs(tiny_runs: dict, page: str) -> None:
    """Widgets whose ranges depend on the run (seq_len, units, windows) survive a run switch."""
    lstm, gru = tiny_runs["lstm"], tiny_runs["gru"]
    at = open_with(page, [gru, lstm])  # lstm selected
    if page == "errors":
        at.slider(key=f"err.wi_lag.{lstm.id}").set_value(13)  # beyond the gru's seq_len of 12
    else:
        at.slider(key=f"hs.n_units.{lstm.id}").set_value(2)
    at.run()
    at.selectbox(key="ui.run_select").set_value(gru.id).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert gru.label in at.selectbox(key="ui.run_select").value or at.selectbox(key="ui.run_select").value == gru.id


def test_hidden_states_show_attention_convolutions_and_highway(one_thread: None) -> None:
    """A run with every part beyond the plain RNN gets a tab that looks into each: attention next
    to saliency (with their agreement), the filters and their activations, the highway's share."""
    run = pipeline.fit(load_dataset("seattle-weather"),
                       RunConfig(cell="gru", seq_len=14, horizon=3, epochs=2, hidden_size=8, num_layers=1,
                                 patience=0, attention="additive", conv_layers=2, conv_channels=4, highway=7))
    at = open_with("hidden_states", [run])
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert any(t.label == "Attention · convolutions · highway" for t in at.tabs)
    shown = texts(at)
    for needle in ("Attention (additive)", "attention vs gradient saliency (correlation", "receptive field 5 steps",
                   "Autoregressive highway (7 lags)", "comes from the linear highway"):
        assert needle in shown, needle
    plain = open_with("hidden_states", [pipeline.fit(load_dataset("seattle-weather"), RunConfig(
        seq_len=14, horizon=3, epochs=1, hidden_size=8, num_layers=1, highway=0))])
    assert not any(t.label == "Attention · convolutions · highway" for t in plain.tabs)
