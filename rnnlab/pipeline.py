"""The verbs: from data and settings to a trained, evaluated run, for every task.

``prepare`` resolves automatic settings, splits the data, fits what is fitted on the training
part only and builds the batches (the task decides how); ``train`` builds the model, fits it
with the shared :class:`~rnnlab.training.Trainer` (reporting through callbacks) and has the
task score it and its baselines on the same test items; ``fit`` chains them.

Typical use::

    from rnnlab import data, pipeline
    from rnnlab.settings import RunConfig
    ds = data.load_dataset("seattle-weather")
    run = pipeline.fit(ds, RunConfig(target="temp_max", cell="lstm"))
    run.metrics["test"]["model"]["rmse"], run.metrics["test"]["naive"]["rmse"]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from rnnlab._platform import configure_torch_threads
from rnnlab.errors import TrainingError
from rnnlab.memory import check_training_memory
from rnnlab.models import ModelShape, build_model
from rnnlab.run import Run, new_meta
from rnnlab.settings import RunConfig
from rnnlab.tasks import get_task
from rnnlab.training import Callback, Trainer, seeded
from rnnlab.transfer import start_from

Builder = Callable[[RunConfig, ModelShape], nn.Module]


def load_data(config: RunConfig) -> Any:
    """The dataset ``config.dataset`` names, loaded the way its task reads data."""
    return get_task(config.task).load_data(config.dataset, config)


def prepare(data: Any, config: RunConfig, fitted: Any = None) -> Any:
    """The task's prepared data: settings resolved (``.config``), fitted on the training part only.
    ``fitted``: a saved run's fitted state (e.g. its preprocessor) to reuse instead of refitting."""
    task = get_task(config.task)
    prep = task.prepare(data, config, fitted)
    shape = task.model_shape(prep)
    check_training_memory(prep.config, shape.input_size, shape.output_size)  # before any thread or allocation
    return prep


def train(prep: Any, callbacks: Sequence[Callback] = (), stop_event: threading.Event | None = None,
          build: Builder = build_model, record_evolution: bool = False, evaluate: bool = True,
          init_state: dict[str, Any] | None = None) -> Run:
    """Build, seed and train the model on ``prep``; evaluate it. Returns the task's run.

    ``build`` creates the model (a front end may pass a wrapper to keep a handle on it for live
    previews). ``record_evolution``: also record how the states evolve during training, where
    the task can (``run.evolution``). ``evaluate=False`` leaves the test span unscored
    (``run.metrics == {"withheld": ["test"]}``; a sweep scores only its best trial, and
    :func:`rnnlab.runs.load_run` scores such a run when it is loaded for use).
    ``init_state``: a state dict of the same architecture to start from. Raises
    :class:`TrainingError` when training yields no usable weights (diverged at once, or stopped
    before the first epoch finished).
    """
    configure_torch_threads()
    cfg = prep.config
    task = get_task(cfg.task)
    with seeded(cfg.seed):  # atomic seed + init: concurrent jobs cannot draw in between
        model = build(cfg, task.model_shape(prep))
    initialise = getattr(task, "initialise", None)  # optional: a task may start parts of its model from data
    if initialise is not None:
        initialise(model, prep)
    transfer_notes = start_from(model, cfg, prep)  # init_from / freeze (nothing without them)
    if init_state is not None:  # start from these weights (a backtest fine-tuning the previous origin's model)
        model.load_state_dict(init_state)
    recorder = task.recorder(prep, model) if record_evolution else None
    trainer = Trainer(cfg, [*callbacks, recorder] if recorder is not None else callbacks)
    result = trainer.fit(model, task.objective(prep), stop_event=stop_event)
    if result.best_epoch == 0:
        if result.stop_reason == "diverged":
            raise TrainingError(result.message)
        raise TrainingError(f"{result.message}; no epoch finished, so there are no weights to keep")
    warnings = list(prep.warnings) + transfer_notes
    if result.stop_reason == "diverged":
        warnings.append(result.message)
    if result.instability:
        warnings.append(result.instability)
    n_params = sum(p.numel() for p in model.parameters())  # any nn.Module a builder returns
    train_info = {"stop_reason": result.stop_reason, "message": result.message, "best_epoch": result.best_epoch,
                  "best_val_loss": result.best_val_loss, "seconds": result.seconds, "n_parameters": n_params,
                  "torch_threads": torch.get_num_threads(), "instability": result.instability,
                  "thread_choices": result.thread_choices}  # from which epoch on how many threads, and why
    train_info.update(prep.counts())
    if recorder is not None and hasattr(recorder, "seconds"):
        train_info["evolution_seconds"] = recorder.seconds  # part of "seconds"
    run = task.make_run(prep, model, history=result.history_dicts(), train_info=train_info,
                        meta=new_meta(warnings=warnings), recorder=recorder)
    if not evaluate:
        run.metrics = {"withheld": ["test"]}
        return run
    return task.evaluate(run)


def fit(data: Any, config: RunConfig, callbacks: Sequence[Callback] = (),
        stop_event: threading.Event | None = None, record_evolution: bool = False) -> Run:
    """``prepare`` + ``train`` in one call."""
    return train(prepare(data, config), callbacks, stop_event, record_evolution=record_evolution)
