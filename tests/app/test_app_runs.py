"""Runs & export page: comparison table, downloads (zip, ONNX, TorchScript), run zip
import, bad zip import, delete."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

from tests.app.apptools import click, no_exception, open_app, texts


def _zip(run) -> bytes:
    from rnnlab.archive import zip_run
    from rnnlab.runs import save_run

    with tempfile.TemporaryDirectory() as tmp:
        return zip_run(save_run(run, Path(tmp) / run.id))


def test_table_and_export_buttons(app_with_run, tiny_run) -> None:
    at = app_with_run("runs")
    no_exception(at)
    assert at.dataframe, "comparison table"
    labels = [d.label for d in at.download_button]
    assert labels == ["Run folder (.zip)"]
    click(at, "Prepare ONNX + TorchScript")
    no_exception(at)
    assert not at.error, texts(at.error)
    labels = [d.label for d in at.download_button]
    assert labels == ["Run folder (.zip)", "ONNX model (.onnx)", "TorchScript model (.pt)"]
    cache = at.session_state["rnnlab.exports"]
    assert cache[(tiny_run.id, "onnx")][:2] != b"" and cache[(tiny_run.id, "zip")][:2] == b"PK"


def test_compare_two_runs(app_with_run, tiny_run) -> None:
    other = copy.copy(tiny_run)
    other.meta = {**tiny_run.meta, "id": "other-run-01", "created": "2026-01-01T10:00:00"}
    at = app_with_run()
    at.session_state["rnnlab.runs"][other.id] = other
    at.switch_page("pages/runs.py").run()
    no_exception(at)
    assert len(at.multiselect(key="runs.compare").value) == 2
    assert len(at.get("vega_lite_chart")) == 2  # losses + predictions overlay


def test_uploaded_run_zip_is_reloaded_everywhere(tiny_run) -> None:
    at = open_app("runs")
    assert not at.session_state["rnnlab.runs"] if "rnnlab.runs" in at.session_state else True
    at.file_uploader(key="runs.upload").set_value(("run.zip", _zip(tiny_run), "application/zip")).run()
    no_exception(at)
    runs = at.session_state["rnnlab.runs"]
    assert list(runs) == [tiny_run.id]
    assert any("Imported" in t for t in texts(at.success)), texts(at.success)
    loaded = runs[tiny_run.id]
    assert loaded.metrics["test"]["model"]["rmse"] == tiny_run.metrics["test"]["model"]["rmse"]
    at.run()  # the same upload is not imported twice
    assert len(at.session_state["rnnlab.runs"]) == 1
    for page in ("predictions", "train", "runs"):
        at.switch_page(f"pages/{page}.py").run()
        no_exception(at)
        assert not at.error, (page, texts(at.error))


def test_bad_zip_shows_error_and_keeps_runs(app_with_run, tiny_run) -> None:
    at = app_with_run("runs")
    at.file_uploader(key="runs.upload").set_value(("bad.zip", b"PK\x03\x04 not really a zip", "application/zip")).run()
    no_exception(at)
    assert any("bad.zip" in t and "unchanged" in t for t in texts(at.error)), texts(at.error)
    assert list(at.session_state["rnnlab.runs"]) == [tiny_run.id]
    at.run()  # the error stays visible while the file is in the uploader
    assert at.error


def test_delete_run_asks_first(app_with_run, tiny_run) -> None:
    at = app_with_run("runs")
    click(at, "Delete run")
    no_exception(at)
    assert list(at.session_state["rnnlab.runs"]) == [tiny_run.id]  # not yet: it asks
    assert any("for good?" in t for t in texts(at.warning)), texts(at.warning)
    click(at, "Cancel")
    assert list(at.session_state["rnnlab.runs"]) == [tiny_run.id] and not any("for good?" in t for t in texts(at.warning))
    click(at, "Delete run")
    click(at, "Yes, delete")
    no_exception(at)
    assert not at.session_state["rnnlab.runs"]
    assert any("No runs yet" in t for t in texts(at.info))
    at.switch_page("pages/predictions.py").run()
    no_exception(at)
