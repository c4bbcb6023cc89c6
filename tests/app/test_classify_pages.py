"""AppTest: the classify task's pages (Data, Train, Predictions, Hidden states, Errors) with tiny runs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnnlab import pipeline
from rnnlab.corpora import load_sequence_dataset
from rnnlab.settings import RunConfig
from tests.app.apptools import DASHBOARD, RUN_TIMEOUT, click, no_exception, texts, wait_until
from ui import state

TINY = dict(epochs=2, hidden_size=8, num_layers=1, batch_size=32)
pytestmark = pytest.mark.filterwarnings("ignore:Automatically deduplicated selection parameter")


def subset(name: str, step: int):
    ds = load_sequence_dataset(name)
    idx = np.arange(0, len(ds), step)
    return replace(ds, labels=ds.labels[idx], ids=[ds.ids[i] for i in idx],
                   sequences=None if ds.sequences is None else [ds.sequences[i] for i in idx],
                   texts=None if ds.texts is None else [ds.texts[i] for i in idx],
                   given_split=None if ds.given_split is None else ds.given_split[idx])


@pytest.fixture(scope="module")
def runs():
    vowels = pipeline.fit(subset("japanese-vowels", 4), RunConfig.defaults("classify", pooling="attention", **TINY))
    names = pipeline.fit(subset("names-sex", 20), RunConfig.defaults("classify", dataset="names-sex", **TINY))
    return {"vowels": vowels, "names": names}


def open_with(page: str, run=None) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=RUN_TIMEOUT)
    at.session_state[state._TASK] = "classify"
    if run is not None:
        at.session_state[state._RUNS] = {run.id: run}
        at.session_state[state._SELECTED] = run.id
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    return at


def test_data_page_shows_the_sequences_classes_and_lengths() -> None:
    at = open_with("data")
    no_exception(at)
    assert at.session_state[state._DATASET]["classify"].name == "japanese-vowels"
    labels = [m.label for m in at.metric]
    assert "Sequences" in labels and "Classes" in labels
    assert any("padding" in c for c in texts(at.caption))
    at.selectbox(key="classify.builtin").set_value("names-sex").run()
    no_exception(at)
    assert at.session_state[state._DATASET]["classify"].name == "names-sex"
    assert any(m.value == "5,160" for m in at.metric)


def test_train_page_trains_live_and_sums_up_against_the_baselines() -> None:
    at = open_with("data")
    at.switch_page("pages/train.py").run()
    no_exception(at)
    for name, value in (("epochs", 2), ("hidden_size", 8), ("patience", 0)):
        at.number_input(key=f"train.classify.{name}").set_value(value)
    at.run()
    assert any("training" in c and "test sequences" in c for c in texts(at.caption))
    click(at, "Train")
    assert wait_until(at, lambda a: any(m.label == "Test accuracy" for m in a.metric), timeout=120)
    no_exception(at)
    assert any(m.label == "Majority class" for m in at.metric)
    run = next(iter(at.session_state[state._RUNS].values()))
    assert run.task == "classify" and set(run.metrics["test"]) == {"model", "majority", "logistic"}


@pytest.mark.parametrize("which", ["vowels", "names"])
def test_analysis_pages_render_for_a_classify_run(runs, which: str) -> None:
    run = runs[which]
    at = open_with("predictions", run)
    no_exception(at)
    assert any("Test metrics" in s.value for s in at.subheader)
    if which == "names":
        at.text_input(key="classify.typed").set_value("Maria").run()
        no_exception(at)
        assert any("Maria" in m.value and "→" in m.value for m in at.markdown)
    for page in ("hidden_states", "errors"):
        at.switch_page(f"pages/{page}.py").run()
        no_exception(at)
    at.switch_page("pages/hidden_states.py").run()
    assert any("Pooled states" in m.value for m in at.markdown)
    sel = at.selectbox(key="classify.hs_seq")
    assert len(sel.options) > 1
    sel.select_index(len(sel.options) - 1).run()
    no_exception(at)
    assert any("Right from step" in c or "never settles" in c for c in texts(at.caption))
    at.switch_page("pages/errors.py").run()
    assert any("misclassified" in m.value for m in at.markdown)
    assert any("batch as the network sees it" in m.value for m in at.markdown)


def test_runs_and_sweep_pages_with_a_classify_run(runs) -> None:
    at = open_with("runs", runs["vowels"])
    no_exception(at)
    at.switch_page("pages/sweep.py").run()
    no_exception(at)
    assert any("sweep --task classify" in i.value or "session only" in i.value for i in at.info)
