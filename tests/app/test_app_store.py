"""The run store in the app: a dashboard run survives the session, a CLI run appears on the Runs
page, run pickers offer the store's runs without loading them, half-written folders are skipped
with a warning, deleting asks first, renaming/tagging/notes are written to the store; reattach
after a reload (the same query params) returns the running job and the finished runs; the
session-only mode writes nothing."""

from __future__ import annotations

import copy
import time

import pytest
from streamlit.testing.v1 import AppTest

from rnnlab.runs import save_run
from rnnlab.store import default_store
from tests.app.apptools import DASHBOARD, RUN_TIMEOUT, TINY, click, no_exception, open_app, set_number, texts, wait_until


def _train_tiny(at: AppTest, epochs: int | None = None) -> object:
    at.selectbox(key="data.builtin").set_value("stocks-monthly").run()
    at.switch_page("pages/train.py").run()
    for key, value in {**TINY, **({"epochs": epochs, "patience": 0} if epochs else {})}.items():
        set_number(at, f"train.{key}", value)
    at.run()
    click(at, "Train")
    no_exception(at)
    return at.session_state["rnnlab.job"]


def _fresh(page: str | None = None, cid: str | None = None) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=RUN_TIMEOUT)
    if cid:
        at.query_params["cid"] = cid
    at.run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    return at


def _table_ids(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["id"])


def _stored(tiny_run, run_id: str, created: str = "2026-01-01T10:00:00"):
    run = copy.copy(tiny_run)
    run.meta = {**tiny_run.meta, "id": run_id, "created": created}
    return default_store().save(run)


def test_a_dashboard_run_survives_the_session(run_store) -> None:
    at = open_app()
    job = _train_tiny(at)
    assert wait_until(at, lambda a: job.status != "running", timeout=90)
    at.run()
    assert job.status == "done" and job.saved_to is not None and job.saved_to.parent == run_store
    assert any("Saved in the run store" in t for t in texts(at.caption)), texts(at.caption)
    later = _fresh("runs")  # the tab was closed: a new session, no query params
    no_exception(later)
    assert _table_ids(later) == [job.run_id]
    assert "rnnlab.runs" not in later.session_state or not later.session_state["rnnlab.runs"]  # listed, not loaded
    later.switch_page("pages/predictions.py").run()  # the picker offers it and opens it
    no_exception(later)
    assert later.selectbox(key="ui.run_select").value == job.run_id and not later.error
    assert job.run_id in later.session_state["rnnlab.runs"]


def test_a_cli_run_appears_on_the_runs_page_and_in_the_pickers(run_store, capsys) -> None:
    from rnnlab.cli import main

    assert main(["train", "--data", "stocks-monthly", "--epochs", "1", "--hidden", "4", "--layers", "1", "--quiet"]) == 0
    capsys.readouterr()
    (entry,) = default_store().list()
    at = _fresh("runs")
    no_exception(at)
    assert _table_ids(at) == [entry.id]
    assert at.dataframe[0].value["dataset"][0] == "stocks-monthly"
    assert [d.label for d in at.download_button] == ["Run folder (.zip)"]  # zipped from the folder, not loaded
    at.switch_page("pages/errors.py").run()
    no_exception(at)
    assert at.selectbox(key="ui.run_select").value == entry.id and not at.error


def test_half_written_folder_is_skipped_with_a_warning(tiny_run, run_store) -> None:
    good = _stored(tiny_run, "good00000001")
    half = run_store / "copy-in-progress"
    save_run(tiny_run, half)
    (half / "scaler.json").unlink()
    at = _fresh("runs")
    no_exception(at)
    assert _table_ids(at) == [good.id]
    warning = " ".join(texts(at.warning))
    assert "copy-in-progress" in warning and "scaler.json missing" in warning


def test_store_runs_are_renamed_tagged_annotated_and_deleted_after_asking(tiny_run, run_store) -> None:
    entry = _stored(tiny_run, "edit00000001")
    at = _fresh("runs")
    name = next(w for w in at.text_input if w.label == "Name")
    tags = next(w for w in at.text_input if w.label == "Tags (comma separated)")
    name.set_value("my baseline")
    tags.set_value("keep, lstm")
    at.text_area[0].set_value("the first try")
    next(b for b in at.button if b.label == "Save name, tags and note").click().run()
    no_exception(at)
    e = default_store().get(entry.id)
    assert (e.name, e.tags, e.note) == ("my baseline", ("keep", "lstm"), "the first try")
    assert "my baseline" in at.dataframe[0].value["run"][0]
    click(at, "Delete run")
    assert entry.path.is_dir() and any("for good?" in t for t in texts(at.warning))
    click(at, "Yes, delete")
    no_exception(at)
    assert not entry.path.exists() and default_store().list() == []
    assert any("No runs yet in the run store" in t for t in texts(at.info))


def test_filters_and_sort(tiny_run, run_store) -> None:
    _stored(tiny_run, "old000000001", "2025-01-01T00:00:00")
    _stored(tiny_run, "new000000002", "2026-06-01T00:00:00")
    at = _fresh("runs")
    assert _table_ids(at) == ["new000000002", "old000000001"]
    at.selectbox(key="runs.sort").set_value("oldest first").run()
    assert _table_ids(at) == ["old000000001", "new000000002"]
    at.multiselect(key="runs.f_datasets").set_value(["stocks-monthly"]).run()
    assert len(_table_ids(at)) == 2
    at.selectbox(key="runs.f_sweeps").set_value("no sweep trials").run()
    assert len(_table_ids(at)) == 2


def test_reload_reattaches_to_the_running_job(run_store) -> None:
    at = open_app()
    job = _train_tiny(at, epochs=10_000)
    cid = at.query_params["cid"]
    cid = cid[0] if isinstance(cid, list) else cid
    assert len(cid) == 32
    try:
        assert wait_until(at, lambda a: len(job.snapshot().history) >= 1, timeout=90)
        reloaded = _fresh(cid=cid)  # a reload: a new session with the same URL
        reloaded.switch_page("pages/train.py").run()
        no_exception(reloaded)
        assert reloaded.session_state["rnnlab.job"] is job and job.status == "running"
        assert reloaded.get("progress"), "the live progress is shown again"
        other = _fresh("train")  # another browser: not its job
        assert "rnnlab.job" not in other.session_state or other.session_state["rnnlab.job"] is None
        click(reloaded, "Stop")
        assert job.join(30)
        assert wait_until(reloaded, lambda a: job.run_id in a.session_state["rnnlab.runs"], timeout=20)
        assert job.status == "stopped" and default_store().get(job.run_id).status == "stopped"
    finally:
        job.stop()
        job.join(30)


def test_session_mode_keeps_runs_in_the_tab_and_a_reload_gets_them_back(monkeypatch, run_store) -> None:
    monkeypatch.setenv("RNNLAB_STORE_MODE", "session")
    at = open_app()
    job = _train_tiny(at)
    assert wait_until(at, lambda a: job.status != "running" and a.session_state["rnnlab.runs"], timeout=90)
    assert list(run_store.iterdir()) == []  # nothing written
    cid = at.query_params["cid"]
    cid = cid[0] if isinstance(cid, list) else cid
    reloaded = _fresh("runs", cid=cid)
    no_exception(reloaded)
    assert list(reloaded.session_state["rnnlab.runs"]) == list(at.session_state["rnnlab.runs"])
    assert any("Session-only mode" in t for t in texts(reloaded.caption))
    stranger = _fresh("runs")  # another visitor sees nothing of it
    assert any("No runs yet in this session" in t for t in texts(stranger.info))


@pytest.mark.parametrize("mode", ["bogus"])
def test_an_unknown_mode_falls_back_to_the_session_and_says_so(monkeypatch, mode) -> None:
    monkeypatch.setenv("RNNLAB_STORE_MODE", mode)
    at = _fresh("runs")
    no_exception(at)
    assert any("RNNLAB_STORE_MODE='bogus'" in t for t in texts(at.warning))


def test_leave_warning_is_drawn_while_a_job_runs(run_store) -> None:
    at = open_app()
    job = _train_tiny(at, epochs=10_000)
    try:
        at.switch_page("pages/data.py").run()
        html = [str(e.proto) for e in at.get("html")]
        assert any("beforeunload" in h and "rnnlab-busy" in h for h in html), html
    finally:
        job.stop()
        job.join(30)
    time.sleep(0.2)
    at.run()
    assert not any("rnnlab-busy" in str(e.proto) for e in at.get("html"))
