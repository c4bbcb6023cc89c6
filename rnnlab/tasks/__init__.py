"""The tasks rnnlab can learn, by the value of the ``task`` setting.

Each task is a module below this package with a :class:`~rnnlab.tasks.base.Task` object;
:func:`get_task` is how the core finds it.
"""

from __future__ import annotations

from rnnlab.errors import ConfigError
from rnnlab.settings import TASKS
from rnnlab.tasks.base import Task
from rnnlab.tasks.forecast import FORECAST

REGISTRY: dict[str, Task] = {FORECAST.name: FORECAST}
assert tuple(REGISTRY) == TASKS, "every task of rnnlab.settings.Task needs a registered Task object"


def get_task(name: str) -> Task:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(f"task={name!r} is not a task; choose one of {', '.join(REGISTRY)}") from None


__all__ = ["REGISTRY", "Task", "get_task"]
