"""The run store: listing from config.json only, half-written folders, ids, edits, deletion, the
withheld test span, epoch-end checkpoints of training jobs, and the CLI's store commands."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnlab import pipeline
from rnnlab.cli import main
from rnnlab.errors import ConfigError, RunError
from rnnlab.jobs import TrainingJob
from rnnlab.runs import load_run, save_run
from rnnlab.settings import RunConfig
from rnnlab.store import RunStore, default_store, store_mode, store_root

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from rnnlab.data import load_dataset

    return pipeline.fit(load_dataset("stocks-monthly"), RunConfig(dataset="stocks-monthly", epochs=2, hidden_size=4,
                                                                  num_layers=1, batch_size=32))


def fresh(run, run_id: str, created: str = "2026-01-01T10:00:00"):
    other = copy.copy(run)
    other.meta = {**run.meta, "id": run_id, "created": created}
    return other


def test_root_and_mode_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "home"))
    assert store_root() == (tmp_path / "home").resolve()
    monkeypatch.delenv("RNNLAB_HOME")
    monkeypatch.chdir(tmp_path)
    assert store_root() == (tmp_path / "runs").resolve()
    assert store_mode() == "store"
    monkeypatch.setenv("RNNLAB_STORE_MODE", "Session")
    assert store_mode() == "session"
    monkeypatch.setenv("RNNLAB_STORE_MODE", "cloud")
    with pytest.raises(ConfigError, match="RNNLAB_STORE_MODE='cloud'.*store, session"):
        store_mode()


def test_listing_reads_config_json_only(small_run, tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    store.save(fresh(small_run, "aaaa00000001", "2026-01-01T10:00:00"))
    store.save(fresh(small_run, "bbbb00000002", "2026-01-02T10:00:00"))
    opened: list[str] = []
    real_open = open

    def spy(file, *args, **kwargs):
        opened.append(Path(str(file)).name)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spy)
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: (opened.append(self.name), real_open(self).read())[1])
    import rnnlab.store as store_module

    store_module._CACHE.clear()
    entries = store.list()
    assert [e.id for e in entries] == ["bbbb00000002", "aaaa00000001"]  # newest first
    assert set(opened) == {"config.json"}
    e = entries[0]
    assert (e.task, e.dataset, e.target, e.model, e.status) == ("forecast", "stocks-monthly", "msft", "lstm h4x1",
                                                                "completed")
    assert e.metric("rmse") == pytest.approx(small_run.metrics["test"]["model"]["rmse"])
    assert e.metric("rmse", who="naive") == pytest.approx(small_run.metrics["test"]["naive"]["rmse"])
    assert e.summary["val"]["model"]["rmse"] == pytest.approx(small_run.metrics["val"]["model"]["rmse"])
    assert e.epochs == 2 and not e.withheld
    opened.clear()
    store.list()  # unchanged folders: nothing is read again
    assert opened == []


def test_half_written_and_foreign_folders_are_skipped_with_a_warning(small_run, tmp_path):
    store = RunStore(tmp_path)
    good = store.save(fresh(small_run, "good00000001"))
    (tmp_path / "empty").mkdir()
    half = tmp_path / "half"
    save_run(fresh(small_run, "half00000001"), half)
    (half / "weights.safetensors").unlink()  # a copy interrupted before the weights arrived
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "config.json").write_text("{not json")
    old_tmp = tmp_path / ".tmp-run-abc123"
    old_tmp.mkdir()
    os.utime(old_tmp, (time.time() - 3600, time.time() - 3600))
    (tmp_path / ".tmp-run-fresh").mkdir()  # a save in progress: silent
    (tmp_path / "sweeps.db").write_text("")  # files beside the runs are not runs
    assert [e.id for e in store.list()] == [good.id]
    text = "\n".join(store.warnings)
    assert "'empty': no config.json" in text and "'half': weights.safetensors missing" in text
    assert "'junk'" in text and "not valid JSON" in text
    assert "'.tmp-run-abc123': left over from an interrupted save" in text and ".tmp-run-fresh" not in text
    assert len(store.warnings) == 4


def test_ids_prefixes_and_folder_names(small_run, tmp_path):
    store = RunStore(tmp_path)
    store.save(fresh(small_run, "abc111111111"))
    store.save(fresh(small_run, "abc222222222"))
    save_run(fresh(small_run, "fff333333333"), tmp_path / "by-hand")  # a folder named by hand
    assert store.get("abc1").id == "abc111111111"
    assert store.get("by-hand").run_id == "fff333333333"
    assert store.get("fff3").id == "by-hand"  # found by its recorded id
    assert store.open("by-hand").id == "by-hand"  # opened runs carry the store's id
    with pytest.raises(RunError, match="'abc' matches 2 runs"):
        store.get("abc")
    with pytest.raises(RunError, match="no run 'zzz' in the store"):
        store.get("zzz")
    for bad in ("../x", ".tmp-run-x", ""):
        with pytest.raises(RunError):
            store.get(bad)


def test_saving_the_same_run_replaces_it_and_a_different_run_with_that_id_is_kept(small_run, tmp_path):
    store = RunStore(tmp_path)
    run = fresh(small_run, "same00000001")
    store.save(run)
    store.edit("same00000001", name="mine", tags="a, b", note="hello")
    again = fresh(small_run, "same00000001")  # the same run (id and creation time) saved again
    entry = store.save(again)
    assert entry.id == "same00000001" and (entry.name, entry.tags, entry.note) == ("mine", ("a", "b"), "hello")
    other = fresh(small_run, "same00000001", created="2030-05-05T05:05:05")  # another run, same id
    kept = store.save(other)
    assert kept.id != "same00000001" and len(store.list()) == 2
    assert load_run(kept.path).meta["copied_from"] == "same00000001"


def test_edits_are_atomic_and_checked(small_run, tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    store.save(fresh(small_run, "edit00000001"))
    e = store.edit("edit00000001", name="  baseline LSTM ", tags=["x", "y", "x"], note="first try")
    assert (e.name, e.tags, e.note) == ("baseline LSTM", ("x", "y"), "first try")
    e = store.edit("edit00000001", tags="")  # clears only the tags
    assert (e.name, e.tags, e.note) == ("baseline LSTM", (), "first try")
    assert load_run(e.path).meta["name"] == "baseline LSTM"  # checksums still hold after the edit
    with pytest.raises(ConfigError, match="longer than 40"):
        store.edit("edit00000001", tags=["x" * 41])
    with pytest.raises(ConfigError, match="at most 200"):
        store.edit("edit00000001", name="n" * 201)

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(RunError, match="No space left"):
        store.edit("edit00000001", name="lost")
    assert store.get("edit00000001").name == "baseline LSTM"  # the old file is intact
    assert [p.name for p in (tmp_path / "edit00000001").iterdir() if p.name.endswith(".tmp")] == []


def test_delete_removes_the_run(small_run, tmp_path):
    store = RunStore(tmp_path)
    store.save(fresh(small_run, "del000000001"))
    store.delete("del0")
    assert store.list() == [] and not any(tmp_path.iterdir())
    with pytest.raises(RunError):
        store.delete("del0")


def test_withheld_test_span_is_scored_when_loaded(sine_dataset, tiny_config, tmp_path):
    prep = pipeline.prepare(sine_dataset, tiny_config)
    run = pipeline.train(prep, evaluate=False)
    assert run.metrics == {"withheld": ["test"]} and run.predictions is None
    entry = RunStore(tmp_path).save(run)
    assert entry.withheld == ("test",) and "test" not in entry.summary
    loaded = load_run(entry.path)
    assert loaded.meta["scored_on_load"] == ["test"]
    scored = pipeline.train(pipeline.prepare(sine_dataset, tiny_config))  # same settings and seed
    assert loaded.metrics["test"]["model"]["rmse"] == pytest.approx(scored.metrics["test"]["model"]["rmse"], rel=1e-5)
    assert loaded.predictions is not None


def test_a_job_saves_to_the_store_and_keeps_a_name_given_while_training(sine_dataset, tiny_config, tmp_path):
    store = RunStore(tmp_path)
    job = TrainingJob(sine_dataset, tiny_config.replace(epochs=40, patience=0), runs_dir=tmp_path).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (tmp_path / job.run_id / "config.json").is_file():
        time.sleep(0.05)
    entry = store.get(job.run_id)  # the checkpoint: listed while training runs
    assert entry.status == "interrupted" and entry.withheld == ("test",)
    store.edit(job.run_id, name="while training")
    job.stop()
    assert job.join(30)
    final = store.get(job.run_id)
    assert final.status == "stopped" and final.name == "while training" and not final.withheld
    assert job.saved_to == final.path and job.snapshot().run.id == job.run_id


CRASH = """
import os, sys, time
from rnnlab.data import load_dataset
from rnnlab.jobs import TrainingJob
from rnnlab.settings import RunConfig
cfg = RunConfig(dataset="stocks-monthly", epochs=10000, patience=0, hidden_size=8, num_layers=1, batch_size=16)
job = TrainingJob(load_dataset("stocks-monthly"), cfg, runs_dir=sys.argv[1]).start()
print(job.run_id, flush=True)
while True:
    time.sleep(1)
"""


@pytest.mark.slow
def test_a_killed_process_leaves_its_last_checkpoint_as_a_run(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", CRASH, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        run_id = proc.stdout.readline().strip()
        store = RunStore(tmp_path)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            entries = {e.id: e for e in store.list()}
            if run_id in entries and entries[run_id].summary.get("best_epoch", 0) >= 3:
                break
            time.sleep(0.2)
        else:
            pytest.fail("no checkpoint after 3 epochs")
    finally:
        proc.send_signal(signal.SIGKILL)  # a crash: no clean-up code runs
        proc.wait(30)
    entry = store.get(run_id)
    assert entry.status == "interrupted" and entry.summary["best_epoch"] >= 3
    run = store.open(run_id)  # loads, checksums hold, the test span is scored now
    assert "checkpoint after epoch" in run.train_info["message"] and run.metrics["test"]["model"]["rmse"] > 0
    assert len(run.history) >= 3


# ----------------------------------------------------------------------------- CLI
def test_cli_train_defaults_to_the_store_and_runs_lists_it(capsys, run_store):
    assert main(["train", "--data", "stocks-monthly", "--epochs", "1", "--hidden", "4", "--layers", "1", "--quiet"]) == 0
    capsys.readouterr()
    entries = default_store().list()
    assert len(entries) == 1 and entries[0].path.parent == run_store
    assert main(["runs", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["store"] == str(run_store) and [r["id"] for r in doc["runs"]] == [entries[0].id]
    assert doc["runs"][0]["summary"]["test"]["model"]["rmse"] > 0
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert entries[0].id in out and "stocks-monthly/msft" in out and "naive" in out


def test_cli_predict_and_export_take_a_run_id(capsys, small_run, run_store, tmp_path):
    entry = default_store().save(fresh(small_run, "cafe00000001"))
    out = tmp_path / "pred.csv"
    assert main(["predict", "--run", "cafe", "--data", "stocks-monthly", "--out", str(out)]) == 0
    assert out.stat().st_size > 100
    assert main(["export", "--run", "cafe0000", "--format", "torchscript"]) == 0
    assert (entry.path / "model.pt").is_file()
    assert main(["export", "--run", "nope", "--format", "onnx"]) == 2
    err = capsys.readouterr().err
    assert "'nope' is neither a run folder nor a run of the store" in err
