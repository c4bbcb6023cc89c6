"""Robustness: bad input, faults and concurrent users lose nothing and get clear messages.

The cases of the robustness issue that the per-module test files do not already pin down.
docs/ROBUSTNESS.md maps every case of the issue to the test(s) that cover it.
"""

from __future__ import annotations

import builtins
import errno
import math
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch
from safetensors import SafetensorError

from rnnlab import pipeline
from rnnlab.cli import main
from rnnlab.data import MAX_CSV_BYTES, load_csv
from rnnlab.errors import ConfigError, DataError, RunError
from rnnlab.jobs import TrainingJob
from rnnlab.models import ModelShape, RNNForecaster, build_model
from rnnlab.runs import load_run, save_run
from rnnlab.settings import RunConfig
from rnnlab.tasks import forecast
from rnnlab.training import TensorPairs, Trainer
from tests.helpers import make_forecaster

BIG = 200 * 2**20  # the "200 MB file"


@pytest.fixture(scope="module", autouse=True)
def one_intra_op_thread():
    """Tiny models on a shared 2-core machine: one intra-op thread each (spinning pool threads
    of concurrent tests otherwise multiply the run time under load, see test_analysis.py)."""
    from rnnlab._platform import configure_torch_threads

    before = configure_torch_threads()  # sized once per process; train() keeps what we set here
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def sparse_file(path: Path, size: int = BIG) -> Path:
    """A CSV of ``size`` bytes that takes no disk space (a valid header, then a hole)."""
    with open(path, "wb") as fh:
        fh.write(b"date,value\n2021-01-01,1\n")
        fh.truncate(size)
    return path


def poison_after(model: torch.nn.Module, n_forwards: int) -> torch.nn.Module:
    """From training-mode forward pass ``n_forwards + 1`` on, the model predicts NaN (a loss
    that blows up mid-run, deterministically). Evaluation passes are left alone."""
    calls = [0]

    def hook(module, args, output):
        if not module.training:
            return None
        calls[0] += 1
        if calls[0] > n_forwards:
            return output._replace(prediction=output.prediction * float("nan"))
        return None

    model.register_forward_hook(hook)
    return model


def train_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "rnnlab-train"]


# ============================================================================= bad input: CSV


def test_200_mb_csv_is_refused_by_its_size_without_reading_it(tmp_path, monkeypatch):
    big = sparse_file(tmp_path / "big.csv")
    real_open = builtins.open

    def no_read_of_big(file, *args, **kwargs):
        assert Path(str(file)) != big, "the oversized file was opened: the limit must come from its size"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_read_of_big)
    t0 = time.monotonic()
    with pytest.raises(DataError, match=r"'big.csv' is 209,715,200 bytes; the size limit is 52,428,800 bytes \(50.0 MiB\)"):
        load_csv(big)
    assert time.monotonic() - t0 < 1.0
    assert MAX_CSV_BYTES == 50 * 2**20  # the limit the Data page and the docs state


# ============================================================================= bad input: settings


@pytest.mark.parametrize("change, pattern", [
    ({"seq_len": -3}, r"seq_len=-3 is out of range; it must be in \[2, 100,000\]"),
    ({"horizon": 0}, r"horizon=0 is out of range; it must be in \[1, "),
    ({"horizon": -2}, r"horizon=-2 is out of range"),
    ({"val_frac": 0.0}, r"val_frac=0 is out of range; it must be in \(0, 1\) \(a validation span is needed"),
    ({"val_frac": 0.002}, r"horizon=3 is longer than the validation span \(1 rows\)"),  # validation span of 1 row
    ({"val_frac": 0.296}, r"horizon=3 is longer than the test span \(2 rows\)"),  # test span of 2 rows
    ({"val_frac": 0.2999}, r"leave an empty span \(train 420, validation 180, test 0 rows\)"),
    ({"lr": 0.0}, r"lr=0 is out of range; it must be in \(0, 1\]"),
    ({"lr": 1e6}, r"lr=1e\+06 is out of range; it must be in \(0, 1\]"),
    ({"lr": float("nan")}, r"lr=nan must be a finite number in \(0, 1\]"),
    ({"batch_size": 0}, r"batch_size=0 is out of range; it must be in \[1, "),
])
def test_bad_settings_are_refused_naming_value_and_rule(sine_dataset, tiny_config, change, pattern):
    before = tiny_config.replace()
    with pytest.raises(ConfigError, match=pattern):
        pipeline.prepare(sine_dataset, tiny_config.replace(**change))
    assert tiny_config == before  # the caller's settings are untouched


# ============================================================================= bad input: CLI


def _csv(tmp_path: Path, name: str, blob: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(blob)
    return str(path)


@pytest.mark.parametrize("data, extra, needle", [
    ("empty.csv", [], "is empty: a CSV needs a header"),
    ("header.csv", [], "no data rows"),
    ("junk.csv", [], "binary"),
    ("big.csv", [], "the size limit is 52,428,800 bytes"),
    ("seattle-weather", ["--seq-len", "-5"], "seq_len=-5 is out of range; it must be in [2, 100,000]"),
    ("seattle-weather", ["--horizon", "400"], "horizon=400 is longer than the test span"),
    ("seattle-weather", ["--val-frac", "0"], "val_frac=0 is out of range; it must be in (0, 1)"),
    ("seattle-weather", ["--train-frac", "0.8", "--val-frac", "0.2"], "leave no test span"),
    ("seattle-weather", ["--lr", "1e6"], "lr=1e+06 is out of range; it must be in (0, 1]"),
    ("seattle-weather", ["--seq-len", "abc"], "argument --seq-len: 'abc' is not a whole number"),
    ("seattle-weather", ["--model", "transformer"], "invalid choice: 'transformer'"),
    ("seattle-weather", ["--out", "BLOCKED/run"], "cannot write the run to --out"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, data, extra, needle):
    files = {"empty.csv": b"", "header.csv": b"date,value\n", "junk.csv": bytes(range(1, 32)) * 50}
    if data in files:
        data = _csv(tmp_path, data, files[data])
    elif data == "big.csv":
        data = str(sparse_file(tmp_path / "big.csv"))
    (tmp_path / "BLOCKED").write_text("a file where the run folder's parent should be")
    extra = [a.replace("BLOCKED", str(tmp_path / "BLOCKED")) for a in extra]
    out = ["--out", str(tmp_path / "run")] if "--out" not in extra else []
    t0 = time.monotonic()
    assert main(["train", "--data", data, "--epochs", "1", *out, *extra]) == 2
    assert time.monotonic() - t0 < 10  # refused before any training
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_cli_disk_full_after_training_prints_the_results_and_one_error_line(tmp_path, capsys, monkeypatch):
    def disk_full(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(safetensors.torch, "save_file", disk_full)
    args = ["train", "--data", "stocks-monthly", "--epochs", "1", "--hidden", "4", "--layers", "1", "--quiet",
            "--out", str(tmp_path / "run")]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert "RMSE" in captured.out  # the metrics were printed before the save failed
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("error: cannot write the run to") and "No space left on device" in last
    assert "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []  # no half-written run folder, no temporary folder


# ============================================================================= faults: disk full / unwritable


@pytest.fixture(scope="module")
def small_run():
    from tests.conftest import make_dataset

    t = np.arange(240)
    ds = make_dataset(5 + np.sin(t / 4) + 0.05 * np.cos(t * 1.3))
    return pipeline.fit(ds, RunConfig(seq_len=12, horizon=2, hidden_size=8, num_layers=1, epochs=2, patience=0))


def _fail_stage(monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    enospc = OSError(errno.ENOSPC, "No space left on device")

    def raise_(exc):
        def fail(*args, **kwargs):
            raise exc
        return fail

    if stage == "folder":  # read-only runs directory (chmod does not stop root, so simulate it)
        monkeypatch.setattr(tempfile, "mkdtemp", raise_(PermissionError(errno.EACCES, "Permission denied")))
    elif stage == "json":
        monkeypatch.setattr(Path, "write_text", raise_(enospc))
    elif stage == "weights":  # safetensors reports I/O errors as SafetensorError, not OSError
        monkeypatch.setattr(safetensors.torch, "save_file", raise_(
            SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")))
    else:
        monkeypatch.setattr(pd.DataFrame, "to_csv", raise_(enospc))


@pytest.mark.parametrize("stage, reason", [
    ("folder", "Permission denied"),
    ("json", "No space left on device"),
    ("weights", "No space left on device"),
    ("data", "No space left on device"),
])
def test_unwritable_or_full_disk_leaves_nothing_half_written_and_the_run_usable(small_run, tmp_path, monkeypatch,
                                                                               stage, reason):
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    X = small_run.prepared().test.X
    before = forecast.predict_scaled(small_run.model, X)
    _fail_stage(monkeypatch, stage)
    with pytest.raises(RunError, match=rf"cannot write the run to '.*r1': .*{reason}"):
        save_run(small_run, runs_dir / "r1")
    monkeypatch.undo()
    assert list(runs_dir.iterdir()) == []  # no partial run, no temporary folder
    np.testing.assert_array_equal(forecast.predict_scaled(small_run.model, X), before)
    again = load_run(save_run(small_run, runs_dir / "r1"))  # once there is space, the same run saves
    np.testing.assert_array_equal(forecast.predict_scaled(again.model, X), before)


def test_failed_resave_keeps_the_previous_run_folder(small_run, tmp_path, monkeypatch):
    folder = save_run(small_run, tmp_path / "r")
    files = sorted(p.name for p in folder.iterdir())
    _fail_stage(monkeypatch, "weights")
    with pytest.raises(RunError, match="No space left on device"):
        save_run(small_run, folder)
    monkeypatch.undo()
    assert sorted(p.name for p in folder.iterdir()) == files
    assert load_run(folder).metrics["test"]["model"]["rmse"] == pytest.approx(small_run.metrics["test"]["model"]["rmse"])
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


# ============================================================================= faults: divergence


def test_divergence_after_good_epochs_keeps_the_best_weights_and_suggests_a_lower_lr():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(128, 10, 1, generator=g)
    Y = X[:, -3, :]
    model = poison_after(make_forecaster(cell="gru", hidden_size=8, num_layers=1, horizon=1), 2 * 4)
    trainer = Trainer(RunConfig(epochs=20, batch_size=32, patience=0, lr=1e-2))  # 4 batches per epoch
    res = trainer.fit(model, TensorPairs(X, Y, X[:32], Y[:32]))
    assert res.stop_reason == "diverged" and [h.epoch for h in res.history] == [1, 2]
    assert "diverged in epoch 3" in res.message and "Try a lower learning rate (e.g. 0.001)" in res.message
    assert f"kept the best weights from epoch {res.best_epoch}" in res.message
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert math.isclose(trainer.validate(model, TensorPairs(X, Y, X[:32], Y[:32])).loss, res.best_val_loss, rel_tol=1e-6)


def test_job_that_diverges_mid_run_keeps_a_usable_run_and_explains(sine_dataset, tiny_config, monkeypatch, tmp_path):
    cfg = tiny_config.replace(epochs=6)
    n_batches = math.ceil(len(pipeline.prepare(sine_dataset, cfg).train) / cfg.batch_size)
    monkeypatch.setattr("rnnlab.jobs.build_model", lambda cfg, shape: poison_after(build_model(cfg, shape), 2 * n_batches))
    job = TrainingJob(sine_dataset, cfg, runs_dir=tmp_path).start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.status == "done" and snap.run is not None
    assert "diverged in epoch 3" in snap.message and "lower learning rate" in snap.message
    assert "kept the best weights from epoch" in snap.message
    run = snap.run
    assert run.diverged and run.train_info["stop_reason"] == "diverged" and len(run.history) == 2
    assert any("lower learning rate" in w for w in run.meta["warnings"])
    assert np.isfinite(run.metrics["test"]["model"]["rmse"])
    assert np.isfinite(run.forecast()["forecast"]).all()
    assert job.saved_to is not None and load_run(job.saved_to).diverged


# ============================================================================= faults: Stop, closed tab


def test_stop_mid_epoch_keeps_the_best_weights_seen():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(256, 10, 1, generator=g)
    Y = X[:, -2, :]
    Xv, Yv = X[:64], Y[:64]
    stop = threading.Event()
    model = make_forecaster(cell="lstm", hidden_size=8, num_layers=1, horizon=1)

    def press_stop(ev):
        if ev.kind == "batch" and ev.epoch == 4 and ev.batch == 3:
            stop.set()

    trainer = Trainer(RunConfig(epochs=50, batch_size=32, patience=0, lr_schedule="none"), [press_stop])
    res = trainer.fit(model, TensorPairs(X, Y, Xv, Yv), stop_event=stop)
    assert res.stop_reason == "stopped" and "during epoch 4" in res.message
    assert res.best_val_loss == min(h.val_loss for h in res.history)
    assert math.isclose(trainer.validate(model, TensorPairs(X, Y, Xv, Yv)).loss, res.best_val_loss, rel_tol=1e-6)


def test_closed_tab_stops_the_job_ends_its_thread_and_keeps_a_run(sine_dataset, tmp_path):
    cfg = RunConfig(seq_len=16, horizon=3, hidden_size=8, num_layers=1, epochs=10_000, batch_size=16, patience=0)
    job = TrainingJob(sine_dataset, cfg, heartbeat_timeout=0.5, runs_dir=tmp_path).start()
    deadline = time.monotonic() + 30
    while len(job.snapshot().history) < 2 and time.monotonic() < deadline:
        job.touch()  # the open tab redraws the page
        time.sleep(0.02)
    closed = time.monotonic()  # the tab is closed: no more redraws
    assert job.join(10)
    assert time.monotonic() - closed < 0.5 + 3
    snap = job.snapshot()
    assert snap.status == "stopped" and "went away" in snap.message and "kept the best weights" in snap.message
    assert not job.is_alive() and not train_threads()
    run = snap.run
    assert run is not None and run.train_info["stop_reason"] == "stopped" and 2 <= len(run.history) < 10_000
    again = load_run(job.saved_to)  # kept as a run on disk too
    X = run.prepared().test.X
    np.testing.assert_array_equal(forecast.predict_scaled(again.model, X), forecast.predict_scaled(run.model, X))


# ============================================================================= load: concurrent sessions


def test_three_sessions_at_once_get_their_own_results_and_leave_no_threads(sine_dataset, trend_dataset, tiny_config):
    """Started back to back (model initialisation overlaps), two with dropout (masks drawn from
    torch's global generator while another job draws too), one stopped while the others go on."""
    from rnnlab._platform import configure_torch_threads

    a = (sine_dataset, tiny_config.replace(cell="lstm", hidden_size=8, num_layers=2, dropout=0.3, seed=1))
    b = (trend_dataset, tiny_config.replace(cell="gru", seed=2))
    c = (sine_dataset, tiny_config.replace(cell="rnn", num_layers=2, dropout=0.5, epochs=10_000, seed=3))
    alone = [pipeline.fit(ds, cfg) for ds, cfg in (a, b)]
    pool = configure_torch_threads()
    threads_before = threading.active_count()
    jobs = [TrainingJob(ds, cfg, preview_interval=0.0) for ds, cfg in (a, c, b)]
    for job in jobs:  # all prepared first, so the threads start (seed, build the model) at the same moment
        job.start()
    job_a, job_c, job_b = jobs
    deadline = time.monotonic() + 30
    while len(job_c.snapshot().history) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    job_c.stop()  # one user presses Stop; the others are not affected
    for job in jobs:
        assert job.join(60)
    assert job_c.status == "stopped" and job_c.snapshot().run is not None
    for job, want in zip((job_a, job_b), alone):
        snap = job.snapshot()
        assert snap.status == "done" and not job.stop_event.is_set(), snap.message
        got = snap.run
        assert got.dataset.name == want.dataset.name and got.config.cell == want.config.cell
        X = want.prepared().test.X
        np.testing.assert_array_equal(forecast.predict_scaled(got.model, X), forecast.predict_scaled(want.model, X))
        assert got.metrics["test"]["model"]["rmse"] == want.metrics["test"]["model"]["rmse"]
    assert len({j.snapshot().run.id for j in jobs}) == 3
    assert not train_threads() and threading.active_count() <= threads_before
    assert torch.get_num_threads() == pool  # one shared intra-op pool, never resized per job


def test_sessions_pressing_train_at_the_same_moment_each_get_their_own_seeded_model(sine_dataset, tiny_config):
    """Seeding and building the model is one atomic step: four sessions released together, with a
    model build slow enough for the others to re-seed in between unless it holds the lock."""
    preps = [pipeline.prepare(sine_dataset, tiny_config.replace(epochs=1, hidden_size=8, seed=s)) for s in range(4)]

    def initial_weights(i: int, barrier: threading.Barrier | None = None) -> dict:
        def slow_build(cfg: RunConfig, shape: ModelShape) -> RNNForecaster:
            time.sleep(0.01)  # a bigger model takes this long to initialise; other threads run meanwhile
            model = build_model(cfg, shape)
            box.update({k: v.clone() for k, v in model.state_dict().items()})
            return model

        box: dict = {}
        if barrier is not None:
            barrier.wait()
        pipeline.train(preps[i], build=slow_build)
        return box

    alone = [initial_weights(i) for i in range(4)]
    together: list = [None] * 4
    barrier = threading.Barrier(4)
    threads = [threading.Thread(target=lambda i=i: together.__setitem__(i, initial_weights(i, barrier))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for got, want in zip(together, alone):
        assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)
