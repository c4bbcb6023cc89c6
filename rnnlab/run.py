"""The run type every task shares: a trained model, its settings, its history and its scores.

A task's run (e.g. :class:`rnnlab.tasks.forecast.ForecastRun`) adds what the task fitted
(scalers, baselines, vocabulary) and its prediction helpers. Runs are saved and loaded by
:mod:`rnnlab.runs`.
"""

from __future__ import annotations

import datetime as _dt
import platform
import uuid
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from rnnlab import __version__
from rnnlab.settings import ResolvedConfig


@dataclass(kw_only=True)
class Run:
    """What every run holds."""

    config: ResolvedConfig  # the settings used, every automatic choice resolved
    model: nn.Module  # trained weights (the best epoch's), in eval mode
    dataset: Any  # the data it was trained on (a task's data type, e.g. rnnlab.data.Dataset)
    history: list[dict[str, float]] = field(default_factory=list)  # per epoch: epoch, train_loss, val_loss, lr, seconds
    train_info: dict[str, Any] = field(default_factory=dict)  # stop_reason, message, best_epoch, seconds, ...
    metrics: dict[str, Any] = field(default_factory=dict)  # the task's scores: {"test": {"model": ..., baselines}}
    meta: dict[str, Any] = field(default_factory=dict)  # id, created, name, versions, data fingerprint, warnings

    @property
    def task(self) -> str:
        return self.config.task

    @property
    def id(self) -> str:
        return str(self.meta.get("id", ""))

    @property
    def created(self) -> _dt.datetime | None:
        """When the run was trained (local time), or None when unknown."""
        try:
            return _dt.datetime.fromisoformat(str(self.meta.get("created", "")))
        except ValueError:
            return None

    @property
    def diverged(self) -> bool:
        """Training stopped at a non-finite loss; the run holds the best epoch before it."""
        return self.train_info.get("stop_reason") == "diverged"

    @property
    def unstable(self) -> str:
        """Why the training loss looked unstable (the learning rate named), or ""."""
        return str(self.train_info.get("instability") or "")

    @property
    def model_words(self) -> str:
        """The architecture in a few characters: ``lstm h64x2``."""
        c = self.config
        return f"{c.cell} h{c.hidden_size}x{c.num_layers}"

    @property
    def data_words(self) -> str:
        """What it was trained on: ``seattle-weather/temp_max``."""
        name = getattr(self.dataset, "name", "data")
        return f"{name}/{self.config.target}" if self.config.target else str(name)

    @property
    def time_words(self) -> str:
        """``21:04:13`` (the time it was trained), else the start of its id."""
        created = self.created
        return created.strftime("%H:%M:%S") if created else self.id[:6]

    def ending_lines(self, data_warnings: int = 0) -> list[str]:
        """What a command prints when training ends: how it ended and in how long, then each
        warning that training added (the first ``data_warnings`` came with the data, shown before)."""
        lines = [f"{self.train_info['message']} ({self.train_info['seconds']:.1f}s)"]
        return lines + [f"warning: {w}" for w in self.meta.get("warnings", [])[data_warnings:]]

    @property
    def label(self) -> str:
        """Short human label, e.g. ``lstm h64x2 · seattle-weather/temp_max · 21:04:13`` (a name given
        to the run replaces the time)."""
        name = str(self.meta.get("name") or "")
        return f"{self.model_words} · {self.data_words} · {name or self.time_words}"


def versions() -> dict[str, str]:
    import numpy
    import pandas
    import torch

    return {"rnnlab": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "pandas": pandas.__version__, "python": platform.python_version()}


def new_meta(**extra: Any) -> dict[str, Any]:
    """A fresh run's identity: id, creation time, package versions, plus ``extra``."""
    return {"id": uuid.uuid4().hex[:12], "created": _dt.datetime.now().isoformat(timespec="seconds"),
            "versions": versions(), **extra}
