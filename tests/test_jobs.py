"""Background training jobs: live snapshots, Stop within a batch, abandonment, concurrency."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from rnnlab.errors import ConfigError
from rnnlab.jobs import TrainingJob
from rnnlab.settings import RunConfig
from rnnlab.tasks.forecast import FORECAST


def wait(job: TrainingJob, timeout: float = 60) -> None:
    assert job.join(timeout), "job did not finish in time"


def test_job_trains_and_exposes_progress(sine_dataset, tiny_config):
    job = TrainingJob(sine_dataset, tiny_config.replace(epochs=4), preview_interval=0.0).start()
    wait(job)
    snap = job.snapshot()
    assert snap.status == "done" and snap.progress == 1.0
    assert [h["epoch"] for h in snap.history] == [1, 2, 3, 4]
    assert snap.batch_losses and snap.preview is not None
    assert len(snap.preview["forecast"]) == len(snap.preview["actual"])
    assert snap.run is not None and snap.run.metrics["test"]["model"]["rmse"] > 0


def test_epoch_end_preview_is_the_models_validation_forecast(sine_dataset, tiny_config):
    """After the only epoch, the live preview shows what the trained model forecasts for the
    validation windows, in original units (it comes from the trainer's validation pass)."""
    from rnnlab.tasks.forecast import predict_original

    job = TrainingJob(sine_dataset, tiny_config.replace(epochs=1), preview_interval=1e9).start()
    wait(job)
    snap = job.snapshot()
    prep = job.prepared
    assert snap.preview is not None and snap.preview["epoch"] == 1
    np.testing.assert_allclose(snap.preview["forecast"], predict_original(snap.run.model, prep.preprocessor, prep.val)[:, 0],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(snap.preview["actual"], prep.val.y_true[:, 0])


def test_bad_settings_raise_before_any_thread(sine_dataset, tiny_config):
    before = threading.active_count()
    with pytest.raises(ConfigError, match="seq_len=0"):
        TrainingJob(sine_dataset, tiny_config.replace(seq_len=0))
    assert threading.active_count() == before


def test_stop_ends_within_a_second_and_keeps_best_weights(sine_dataset):
    cfg = RunConfig(seq_len=20, horizon=2, hidden_size=64, num_layers=2, epochs=500, batch_size=8, patience=0)
    job = TrainingJob(sine_dataset, cfg).start()
    deadline = time.monotonic() + 30
    while job.snapshot().epoch < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    t0 = time.monotonic()
    job.stop()
    wait(job, 10)
    assert time.monotonic() - t0 < 1.0
    snap = job.snapshot()
    assert snap.status == "stopped" and snap.run is not None
    assert snap.run.train_info["stop_reason"] == "stopped"
    assert not job.is_alive()


def test_abandoned_job_stops_itself(sine_dataset):
    cfg = RunConfig(seq_len=20, horizon=2, hidden_size=32, num_layers=1, epochs=500, batch_size=8, patience=0)
    job = TrainingJob(sine_dataset, cfg, heartbeat_timeout=0.3).start()
    wait(job, 20)
    snap = job.snapshot()
    assert snap.status == "stopped" and "went away" in snap.message and snap.run is not None


def test_concurrent_jobs_do_not_interfere(sine_dataset, trend_dataset, tiny_config):
    """Two sessions at once get exactly what each would get alone (no cross-talk)."""
    cfg_a, cfg_b = tiny_config.replace(seed=1), tiny_config.replace(cell="gru", seed=2)
    alone_a = TrainingJob(sine_dataset, cfg_a).start()
    wait(alone_a)
    alone_b = TrainingJob(trend_dataset, cfg_b).start()
    wait(alone_b)
    threads_before = threading.active_count()
    jobs = [TrainingJob(sine_dataset, cfg_a).start(), TrainingJob(trend_dataset, cfg_b).start()]
    for j in jobs:
        wait(j)
    got = [j.snapshot().run.metrics["test"]["model"]["rmse"] for j in jobs]
    want = [alone_a.snapshot().run.metrics["test"]["model"]["rmse"], alone_b.snapshot().run.metrics["test"]["model"]["rmse"]]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert jobs[0].snapshot().run.dataset.name == "sine" and jobs[1].snapshot().run.dataset.name == "trend"
    assert threading.active_count() <= threads_before  # job threads are gone


def test_failed_save_keeps_the_run(sine_dataset, tiny_config, tmp_path):
    blocker = tmp_path / "f"
    blocker.write_text("x")
    job = TrainingJob(sine_dataset, tiny_config, runs_dir=blocker / "runs").start()
    wait(job)
    snap = job.snapshot()
    assert snap.status == "done" and snap.run is not None
    assert "cannot write the run" in job.save_error


def test_job_records_the_evolution_during_training(sine_dataset, tiny_config):
    """The run of a job carries its evolution: initial weights, middle epochs and the kept weights,
    whose snapshot is the run's own anchor states; recording does not change the training."""
    from rnnlab import analysis as A

    cfg = tiny_config.replace(epochs=6)
    job = TrainingJob(sine_dataset, cfg).start()
    wait(job)
    plain = TrainingJob(sine_dataset, cfg, record_evolution=False).start()
    wait(plain)
    run = job.snapshot().run
    evo = run.evolution
    assert evo is not None and evo.source == "recorded" and evo.span == "test"
    assert evo.epochs == [0, 1, 2, 3, 5, 6, A.FINAL_EPOCH]  # default_epochs(6) and the kept weights
    prep = run.prepared()
    assert len(evo.windows) == len(prep.test) and evo.states.shape == (7, len(prep.test), cfg.hidden_size)
    np.testing.assert_allclose(evo.snapshot(A.FINAL_EPOCH), A.anchor_states(run.model, prep.test.X[evo.windows]),
                               atol=1e-5)
    assert not np.allclose(evo.snapshot(0), evo.snapshot(A.FINAL_EPOCH), atol=1e-3)  # the states moved
    assert evo.val_losses == {h["epoch"]: h["val_loss"] for h in run.history if h["epoch"] in (1, 2, 3, 5, 6)}
    assert 0 < run.train_info["evolution_seconds"] < run.train_info["seconds"]
    frame = evo.frame(prep)
    assert len(frame) == 7 * len(prep.test) and set(frame["split"]) == {"test"}
    other = plain.snapshot().run
    assert other.evolution is None and "evolution_seconds" not in other.train_info
    assert other.metrics["test"]["model"]["rmse"] == run.metrics["test"]["model"]["rmse"]


def test_progress_counts_towards_early_stopping_and_the_kept_weights_are_previewed(sine_dataset, tiny_config):
    """Bug: the bar sat at 33 % when early stopping ended at 20/60, and the final chart showed the last
    epoch, not the kept weights. Progress is bounded by best epoch + patience; the kept preview is the
    best epoch's."""
    from rnnlab.jobs import epochs_bound

    assert epochs_bound(60, 5, 4, 10) == 14 and epochs_bound(60, 55, 50, 10) == 60 and epochs_bound(60, 3, 0, 0) == 60
    job = TrainingJob(sine_dataset, tiny_config.replace(epochs=30, patience=2, lr=0.05), preview_interval=1e9).start()
    wait(job)
    snap = job.snapshot()
    assert snap.progress == 1.0 and snap.eta == 0.0
    best = snap.run.train_info["best_epoch"]
    assert snap.best_preview is not None and snap.best_preview["epoch"] == best
    kept = FORECAST.preview(job.prepared, snap.run.model, None, best)
    np.testing.assert_allclose(snap.best_preview["forecast"], kept["forecast"])
