"""Dashboard robustness: bad CSV and run uploads, a full disk and a diverging run show what went
wrong and never lose the session's data, settings or runs (docs/ROBUSTNESS.md lists every case)."""

from __future__ import annotations

import json
import math
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import safetensors.torch
from safetensors import SafetensorError

from tests.app.apptools import TINY, click, no_exception, session_config, session_dataset, set_number, texts, wait_until


def _csv(values: list[str]) -> bytes:
    days = pd.date_range("2021-01-01", periods=len(values), freq="D").strftime("%Y-%m-%d")
    return ("date,value\n" + "".join(f"{d},{v}\n" for d, v in zip(days, values))).encode()


def bad_csvs() -> list[tuple[str, bytes, str]]:
    """Files the Data page must refuse, with the rule its message has to name (built on use: one is 50 MB)."""
    return [
        ("empty.csv", b"", "is empty: a CSV needs a header"),
        ("header.csv", b"date,value\n", "no data rows"),
        ("junk.csv", bytes(range(1, 32)) * 50, "binary"),
        ("few.csv", _csv(["1", "2", "3", "4", "5"]), "needs at least 10 rows, got 5"),
        ("words.csv", _csv([f"n{i}x" for i in range(30)]), "has no numeric column"),
        ("nan.csv", _csv(["nan"] * 30), "has no numeric column"),
        ("flat.csv", _csv(["3.5"] * 30), "constant"),
        ("big.csv", b"date,value\n" + b"2021-01-01,1\n" * (50 * 2**20 // 13 + 1), "the size limit is 52,428,800 bytes"),
    ]


def test_bad_csv_uploads_keep_data_settings_and_runs(app_with_run, tiny_run) -> None:
    at = app_with_run("train")
    set_number(at, "train.hidden_size", 12)  # the user's own settings
    at.run()
    at.switch_page("pages/data.py").run()
    dataset, config = session_dataset(at), session_config(at)
    assert config.hidden_size == 12
    at.button_group(key="data.source").set_value("Upload CSV").run()
    for name, blob, rule in bad_csvs():
        at.file_uploader(key="data.csv").set_value((name, blob, "text/csv")).run()
        no_exception(at)
        errors = texts(at.error)
        assert any(f"Could not use '{name}'" in e and rule in e and "Keeping the previous dataset" in e
                   for e in errors), (name, errors)
        assert session_dataset(at) is dataset
        assert session_config(at) == config
        assert list(at.session_state["rnnlab.runs"]) == [tiny_run.id]
    at.switch_page("pages/train.py").run()
    no_exception(at)
    assert at.number_input(key="train.hidden_size").value == 12


def _bad_run_zips(run) -> list[tuple[str, bytes, str]]:
    from rnnlab.runs import save_run
    from tests.test_runs import Boom, _run_entries, _zip  # Boom: unpickling it would create a file

    with tempfile.TemporaryDirectory() as tmp:
        good = _run_entries(save_run(run, Path(tmp) / "r"))
    cfg = json.loads(good["config.json"])
    cfg["config"]["hidden_size"] = 32
    return [
        ("notes.zip", _zip({"notes.txt": b"hello"}), "not an rnnlab run"),
        ("evil.zip", _zip({**good, "../evil.txt": b"x"}), "points outside the run folder"),
        ("truncated.zip", _zip({**good, "weights.safetensors": good["weights.safetensors"][:100]}),
         "not a valid safetensors file"),
        ("pickle.zip", _zip({**good, "weights.safetensors": pickle.dumps(Boom())}), "not a valid safetensors file"),
        ("mismatch.zip", _zip({**good, "config.json": json.dumps(cfg).encode()}), "does not match config.json"),
    ]


def test_bad_run_uploads_are_refused_and_keep_the_runs(app_with_run, tiny_run) -> None:
    at = app_with_run("runs")
    for name, blob, rule in _bad_run_zips(tiny_run):
        at.file_uploader(key="runs.upload").set_value((name, blob, "application/zip")).run()
        no_exception(at)
        errors = texts(at.error)
        assert any(f"Could not import '{name}'" in e and rule in e and "Your runs are unchanged" in e
                   for e in errors), (name, errors)
        assert list(at.session_state["rnnlab.runs"]) == [tiny_run.id]
        assert at.session_state["rnnlab.selected_run"] == tiny_run.id
    assert not os.path.exists("/tmp/rnnlab-pwned") and not os.path.exists("/tmp/evil.txt")


def test_full_disk_while_packing_a_run_zip_keeps_the_run(app_with_run, tiny_run, monkeypatch) -> None:
    def disk_full(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(safetensors.torch, "save_file", disk_full)
    at = app_with_run("runs")
    no_exception(at)
    assert any(e.startswith("packing the run folder: cannot write the run") and "No space left on device" in e
               for e in texts(at.error)), texts(at.error)  # a RunError with its reason, not an "unexpected error"
    assert list(at.session_state["rnnlab.runs"]) == [tiny_run.id]
    assert "Run folder (.zip)" not in [d.label for d in at.download_button]
    monkeypatch.undo()  # space again: the same in-memory run packs fine
    at.run()
    assert not at.error and "Run folder (.zip)" in [d.label for d in at.download_button]


@pytest.fixture
def diverging_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every model the dashboard trains predicts NaN from its third epoch on (one batch per epoch)."""
    from rnnlab.models import build_model

    def build(cfg, shape):
        model = build_model(cfg, shape)
        calls = [0]

        def hook(module, args, output):
            if module.training:
                calls[0] += 1
                if calls[0] > 2:
                    return output._replace(prediction=output.prediction * math.nan)
            return None

        model.register_forward_hook(hook)
        return model

    monkeypatch.setattr("rnnlab.jobs.build_model", build)


def test_diverging_training_explains_and_keeps_the_best_epoch(app_with_run, tiny_run, diverging_models) -> None:
    at = app_with_run()
    at.selectbox(key="data.builtin").set_value("stocks-monthly").run()
    at.switch_page("pages/train.py").run()
    for key, value in {**TINY, "epochs": 8, "batch_size": 4096}.items():
        set_number(at, f"train.{key}", value)
    at.run()
    click(at, "Train")
    job = at.session_state["rnnlab.job"]
    assert wait_until(at, lambda a: job.status != "running", timeout=60)
    at.run()
    no_exception(at)
    shown = " ".join(texts(at.warning))  # a warning, not a green success box
    assert "diverged in epoch 3" in shown and "lower learning rate" in shown and "kept the best weights" in shown
    assert not any("diverged" in t for t in texts(at.success))
    runs = at.session_state["rnnlab.runs"]
    assert len(runs) == 2 and tiny_run.id in runs  # the earlier run is still there
    run = runs[job.snapshot().run.id]
    assert run.diverged and run.train_info["stop_reason"] == "diverged" and len(run.history) == 2
    assert np.isfinite(run.metrics["test"]["model"]["rmse"])
