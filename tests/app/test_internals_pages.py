"""AppTest: the Hidden states and Errors pages render without exceptions, with no run and
with tiny trained runs (lstm, gru, multivariate), and a few widgets work."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from rnnlab import pipeline
from rnnlab.config import RunConfig
from rnnlab.data import load_dataset
from apptools import DASHBOARD, RUN_TIMEOUT, no_exception  # tests/app/apptools.py (put on sys.path by conftest)
from ui import state

PAGES = ("hidden_states", "errors")
pytestmark = pytest.mark.filterwarnings("ignore:Automatically deduplicated selection parameter")


@pytest.fixture(scope="module")
def tiny_runs() -> dict[str, pipeline.Run]:
    ds = load_dataset("seattle-weather")
    base = dict(epochs=2, hidden_size=8, num_layers=1, seq_len=14, horizon=3, patience=0)
    return {
        "lstm": pipeline.fit(ds, RunConfig(cell="lstm", num_layers=2, **{k: v for k, v in base.items() if k != "num_layers"})),
        "gru": pipeline.fit(ds, RunConfig(cell="gru", **base)),
        "multi": pipeline.fit(ds, RunConfig(cell="rnn", features=["temp_min", "precipitation"], **base)),
    }


def open_with(page: str, runs: list[pipeline.Run] | None = None) -> AppTest:
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
    at = open_with("hidden_states", [tiny_runs["lstm"]])
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Hidden states"
    assert any(m.label == "PC1 explains" for m in at.metric)
    at.radio(key="hs.span").set_value("all").run()
    at.selectbox(key="hs.color").set_value("error").run()
    at.radio(key="hs.mode").set_value(at.radio(key="hs.mode").options[1]).run()
    at.radio(key="hs.order").set_value("correlation").run()
    at.selectbox(key="hs.gate").set_value("forget").run()
    at.selectbox(key="hs.layer").set_value(1).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert "Saturation" in texts(at)
    # evolution: replay the 2 training epochs and move the slider
    at.button(key="hs.evolve").click().run()
    no_exception(at)
    slider = at.select_slider(key="hs.evo_epoch")
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
    at = open_with("errors", [tiny_runs[name]])
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Errors"
    if name == "multi":
        assert any("recursive" in i.value.lower() for i in at.info)  # explained, not computed
        return
    at.selectbox(key="err.step").set_value(2).run()
    at.radio(key="err.regime").set_value("trend").run()
    at.slider(key="err.n_worst").set_value(3).run()
    at.selectbox(key="err.sal_step").set_value(1).run()
    at.slider(key="err.wi_scale").set_value(1.5).run()
    at.slider(key="err.wi_lag").set_value(2).run()
    windows = at.selectbox(key="err.wi_window").options
    assert len(windows) == 4  # the last window + 3 worst
    from rnnlab.analysis import worst_windows

    worst = int(worst_windows(tiny_runs[name], 3).table["window"].iloc[0])  # option values are test-window positions
    at.selectbox(key="err.wi_window").set_value(worst).run()
    at.selectbox(key="err.sal_window").set_value(worst).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert "no edit" not in texts(at)  # the scale edit is described
