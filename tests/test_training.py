"""Trainer behaviour users rely on: learning, callbacks, stop flag, early stopping,
best weights, divergence, reproducibility."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch

from rnnlab import pipeline
from rnnlab.errors import ConfigError, TrainingError
from rnnlab.settings import RunConfig
from rnnlab.training import TensorPairs, Trainer
from tests.helpers import make_forecaster


def copy_task(n=256, T=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, T, 1, generator=g)
    Y = X[:, -3, :]  # the value 3 steps back: learnable by every cell type
    return X, Y


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_cell_type_learns(cell):
    torch.manual_seed(0)
    X, Y = copy_task()
    model = make_forecaster(cell, hidden_size=24, num_layers=1)
    events = []
    res = Trainer(RunConfig(epochs=25, batch_size=32, lr=1e-2, patience=0, lr_schedule="none"), [events.append]).fit(
        model, TensorPairs(X, Y, X[:64], Y[:64]))
    losses = [h.train_loss for h in res.history]
    assert losses[-1] < 0.5 * losses[0], losses
    kinds = {e.kind for e in events}
    assert kinds == {"start", "batch", "epoch", "end"}
    assert sum(e.kind == "epoch" for e in events) == 25
    assert events[-1].progress == 1.0


def test_stop_flag_is_honoured_between_batches_and_keeps_best_weights():
    X, Y = copy_task(n=512)
    model = make_forecaster("lstm", hidden_size=8, num_layers=1)
    stop = threading.Event()
    batches = []

    def cb(ev):
        if ev.kind == "batch":
            batches.append(ev)
            if ev.epoch == 2 and ev.batch == 3:
                stop.set()

    res = Trainer(RunConfig(epochs=50, batch_size=32, patience=0), [cb]).fit(model, TensorPairs(X, Y, X[:64], Y[:64]), stop_event=stop)
    assert res.stop_reason == "stopped"
    assert batches[-1].epoch == 2 and batches[-1].batch == 3  # no batch ran after the flag
    assert res.best_epoch in (1, 2)
    assert "kept the best weights" in res.message


def test_epoch_events_carry_the_validation_predictions_behind_val_loss():
    """A live preview draws the epoch's validation forecast from the event, without a second pass."""
    X, Y = copy_task(n=128)
    Xv, Yv = X[:40], Y[:40]
    model = make_forecaster("lstm", hidden_size=8, num_layers=1)
    epochs = []
    Trainer(RunConfig(epochs=2, batch_size=32, patience=0), [lambda e: e.kind == "epoch" and epochs.append(e)]).fit(
        model, TensorPairs(X, Y, Xv, Yv))
    assert len(epochs) == 2
    for ev in epochs:
        assert ev.val_output is not None and ev.val_output.shape == (40, 1) and not ev.val_output.requires_grad
        assert math.isclose(float(((ev.val_output - Yv) ** 2).mean()), ev.val_loss, rel_tol=1e-6)
    assert not torch.equal(epochs[0].val_output, epochs[1].val_output)  # each epoch's own weights


def test_early_stopping_restores_the_best_epoch():
    X, Y = copy_task()
    Xv, Yv = torch.randn(64, 10, 1), torch.randn(64, 1)  # unlearnable validation: no improvement after a while
    model = make_forecaster("gru", hidden_size=8, num_layers=1)
    res = Trainer(RunConfig(epochs=200, batch_size=64, patience=3)).fit(model, TensorPairs(X, Y, Xv, Yv))
    assert res.stop_reason == "early_stopping"
    assert len(res.history) == res.best_epoch + 3
    best = min(h.val_loss for h in res.history)
    assert math.isclose(Trainer.validate(model, TensorPairs(X, Y, Xv, Yv)).loss, best, rel_tol=1e-5)


def test_divergence_stops_with_a_message(sine_dataset, tiny_config):
    prep = pipeline.prepare(sine_dataset, tiny_config.replace(lr=1.0, grad_clip=0.0, epochs=5))
    prep.train.Y[:] = float("inf")  # force a non-finite loss
    with pytest.raises(TrainingError, match="lower learning rate"):
        pipeline.train(prep)


@pytest.mark.parametrize("field,value", [("lr", 0.0), ("lr", 1e6), ("epochs", 0), ("batch_size", 0), ("patience", -1),
                                         ("lr", float("inf")), ("grad_clip", float("nan")), ("epochs", 10**30),
                                         ("weight_decay", 1.0), ("seed", -1)])
def test_bad_training_settings_are_refused_before_any_work(field, value):
    with pytest.raises(ConfigError, match=field):
        RunConfig(**{field: value}).validate()


def test_same_config_and_seed_reproduce_metrics(sine_dataset, tiny_config):
    a = pipeline.fit(sine_dataset, tiny_config)
    b = pipeline.fit(sine_dataset, tiny_config)
    for k, v in a.metrics["test"]["model"].items():
        assert abs(v - b.metrics["test"]["model"][k]) <= 1e-6
    c = pipeline.fit(sine_dataset, tiny_config.replace(seed=1))
    assert c.metrics["test"]["model"]["rmse"] != a.metrics["test"]["model"]["rmse"]


def test_unstable_losses_are_reported_with_the_learning_rate():
    """A rate of 1.0 spikes the loss without any NaN: the run says so and names the rate."""
    from rnnlab.training import instability

    rng = np.random.default_rng(0)
    calm = list(1 + 0.1 * rng.standard_normal(200))
    assert instability(calm, [2.0, 1.5, 1.4, 1.45, 1.3], lr=3e-3) == ""
    spiky = calm.copy()
    for i in (50, 90, 130, 170):
        spiky[i] = 40.0
    msg = instability(spiky, [2.0, 1.5, 1.4, 1.45, 1.3], lr=1.0)
    assert "4 batch losses spiked above 10x" in msg and "lr=1" in msg and "try lr=0.1" in msg
    assert "jumped to 8.0x its best" in instability(calm, [2.0, 1.5, 1.6, 12.0], lr=0.5)


@pytest.mark.slow
def test_a_learning_rate_of_one_on_seattle_weather_is_flagged_and_the_default_is_not():
    from rnnlab.data import load_dataset

    ds = load_dataset("seattle-weather")
    bad = pipeline.fit(ds, RunConfig(target="temp_max", lr=1.0, epochs=15))
    good = pipeline.fit(ds, RunConfig(target="temp_max", epochs=15))
    assert "lr=1" in bad.unstable and any("unstable" in w for w in bad.meta["warnings"])
    assert good.unstable == ""


def test_epoch_line_marks_the_best_epoch_and_carries_a_tasks_extra() -> None:
    from rnnlab.training import TrainEvent

    ev = TrainEvent("epoch", epoch=3, epochs=10, loss=0.5, val_loss=0.25, best_epoch=3, lr=1e-3, elapsed=2.0)
    line = ev.epoch_line("  val acc 0.900")
    assert line.startswith("epoch   3/10  train 0.5000  val 0.2500  val acc 0.900") and line.endswith(" *")
    assert not TrainEvent("epoch", epoch=4, epochs=10, best_epoch=3).epoch_line().endswith("*")
