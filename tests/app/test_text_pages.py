"""The text task's pages, driven like a user: choose a corpus, train live, sample, read the network."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.apptools import DASHBOARD, RUN_TIMEOUT, click, no_exception, texts, wait_until

TINY_TEXT = {"epochs": 1, "hidden_size": 8, "embed_size": 8, "num_layers": 1, "batch_size": 16, "seq_len": 32}


@pytest.fixture(scope="module")
def small_corpus() -> Any:
    from rnnlab.corpora import load_corpus

    c = load_corpus("shakespeare-small")
    return dataclasses.replace(c, name="shakespeare-tiny", text=c.text[:15_000])


@pytest.fixture(scope="module")
def text_run(small_corpus) -> Any:
    from rnnlab import pipeline
    from rnnlab.settings import RunConfig

    return pipeline.fit(small_corpus, RunConfig.defaults("text", dataset="shakespeare-tiny", **TINY_TEXT))


def _app(run: Any = None, corpus: Any = None, config: Any = None) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=RUN_TIMEOUT)
    at.session_state["rnnlab.task"] = "text"
    if run is not None:
        at.session_state["rnnlab.runs"] = {run.id: run}
        at.session_state["rnnlab.selected_run"] = run.id
    if corpus is not None:
        at.session_state["rnnlab.dataset"] = {"text": corpus}
        at.session_state["rnnlab.data_spec"] = {"text": {"kind": "builtin", "name": corpus.name}}
    if config is not None:
        at.session_state["rnnlab.config"] = {"text": config}
    return at.run()


def _page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py").run()
    no_exception(at)
    assert not at.error, texts(at.error)
    return at


def test_data_page_offers_corpora_and_shows_vocabulary() -> None:
    at = _page(_app(), "data")
    assert at.selectbox(key="text.builtin").value == "shakespeare-small"
    labels = [m.label for m in at.metric]
    assert "Vocabulary" in labels and "Unknown in test" in labels
    vocab = next(m for m in at.metric if m.label == "Vocabulary")
    assert 60 <= int(str(vocab.value).replace(",", "")) <= 100
    assert at.code and ("Hamlet" in at.code[0].value or "HAMLET" in at.code[0].value)
    at.selectbox(key="text.builtin").set_value("names").run()
    no_exception(at)
    assert at.session_state["rnnlab.dataset"]["text"].kind == "lines"
    assert any("lines text" in s.value for s in at.subheader)


def test_train_page_trains_live_and_shows_the_sample_and_baselines(small_corpus) -> None:
    from rnnlab.settings import RunConfig

    cfg = RunConfig.defaults("text", dataset=small_corpus.name, **TINY_TEXT)
    at = _page(_app(corpus=small_corpus, config=cfg), "train")
    assert any("training tokens in chunks of 32" in c.value for c in at.caption)
    click(at, "Train")
    assert wait_until(at, lambda a: any("Test bits/char" in m.label for m in a.metric), timeout=120)
    no_exception(at)
    assert any("-gram" in m.label for m in at.metric)
    assert any(("baseline wins" in t or "model beats" in t) for t in texts(at.warning) + texts(at.success))
    assert any("Sample at epoch" in m.value for m in at.markdown)


def test_predictions_page_samples_with_temperature_and_seed(text_run) -> None:
    at = _page(_app(run=text_run), "predictions")
    first = at.code[0].value
    assert first.startswith("ROMEO:") and len(first) > 300
    at.slider(key="text.temperature").set_value(0.0).run()
    greedy = at.code[0].value
    assert greedy != first and greedy == text_run.sample("ROMEO:", 300, 0.0).prime + text_run.sample(
        "ROMEO:", 300, 0.0).text
    at.number_input(key="text.seed").set_value(5).run()
    assert at.code[0].value == greedy  # greedy does not depend on the seed
    assert at.dataframe  # the top-5 table


def test_hidden_states_page_colours_a_unit_and_lists_feature_units(text_run) -> None:
    at = _page(_app(run=text_run), "hidden_states")
    assert at.selectbox(key="text.hs.feature").options
    frames = [d.value for d in at.dataframe]
    units = next(f for f in frames if "feature" in f.columns)
    assert set(units["corr"].abs() <= 1) == {True} and "position in line" in set(units["feature"])
    at.selectbox(key="text.hs.kind").set_value("forget").run()
    no_exception(at)


def test_errors_page_shows_surprise_and_worst_tokens(text_run) -> None:
    at = _page(_app(run=text_run), "errors")
    assert any("Mean surprisal" in m.label for m in at.metric)
    worst = next(d.value for d in at.dataframe if "surprisal" in d.value.columns)
    assert len(worst) == 25 and worst["surprisal"].is_monotonic_decreasing


def test_runs_page_renders_a_text_run(text_run) -> None:
    at = _page(_app(run=text_run), "runs")
    assert any(text_run.id in str(d.value.to_dict()) or "shakespeare-tiny" in str(d.value.to_dict())
               for d in at.dataframe) or any("shakespeare-tiny" in m.value for m in at.markdown)


def test_train_page_starts_a_text_model_from_a_saved_run(small_corpus, text_run) -> None:
    """Transfer learning on the text task: the saved text run is offered under "Start from run",
    and choosing it goes into the settings the job will use."""
    from rnnlab.settings import RunConfig
    from rnnlab.store import default_store

    entry = default_store().save(text_run)
    cfg = RunConfig.defaults("text", dataset=small_corpus.name, **TINY_TEXT)
    at = _page(_app(corpus=small_corpus, config=cfg), "train")
    box = next(s for s in at.selectbox if s.label == "Start from run")
    assert box.options[0] == "a fresh model" and len(box.options) == 2, box.options
    assert "shakespeare-tiny" in box.options[1], box.options  # the label of the saved text run
    box.set_value(str(entry.path)).run()
    no_exception(at)
    assert at.session_state["rnnlab.config"]["text"].init_from == str(entry.path)
    freeze = next(s for s in at.selectbox if s.label == "Frozen layers")
    assert not freeze.disabled
