"""The tasks rnnlab can learn, by the value of the ``task`` setting.

Each task is a package below this one whose ``task`` module defines ``TASK`` (a
:class:`~rnnlab.tasks.base.Task`); :data:`REGISTRY` loads it on first use, so that naming or
listing tasks imports nothing heavy (the dashboard's first page stays torch-free).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from rnnlab.errors import ConfigError
from rnnlab.settings import TASKS

if TYPE_CHECKING:  # pragma: no cover
    from rnnlab.tasks.base import Task

# task name -> module defining TASK
MODULES: dict[str, str] = {"forecast": "rnnlab.tasks.forecast.task", "text": "rnnlab.tasks.text.task",
                           "classify": "rnnlab.tasks.classify.task"}
assert tuple(MODULES) == TASKS, "every task of rnnlab.settings.Task needs a module in rnnlab.tasks.MODULES"


class _Registry(Mapping[str, "Task"]):
    """Task name -> Task object, imported when first asked for."""

    def __getitem__(self, name: str) -> Task:
        return importlib.import_module(MODULES[name]).TASK

    def __iter__(self) -> Iterator[str]:
        return iter(MODULES)

    def __len__(self) -> int:
        return len(MODULES)


REGISTRY: Mapping[str, Task] = _Registry()


def get_task(name: str) -> Task:
    if name not in MODULES:
        raise ConfigError(f"task={name!r} is not a task; choose one of {', '.join(MODULES)}")
    return REGISTRY[name]


__all__ = ["MODULES", "REGISTRY", "get_task"]
