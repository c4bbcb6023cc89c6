"""Task views: what the pages draw for a task other than forecasting.

Forecasting is drawn by the pages themselves (it came first). Every other task has a module
``ui/views/<task>.py`` that the pages hand over to, with these functions (each draws into the
current page; none computes anything that belongs in ``rnnlab``):

* ``data_page()``: choose and preview the task's data (built-ins, upload); sets the session's dataset
* ``train_settings(prefix, config, dataset) -> (RunConfig, ok)``: draw the task's setting widgets
  (keys ``prefix + name``; ``ui.settings_widgets.setting_input``), check them the way the job will and
  show the outcome; return the settings shown and whether the check passed (Train is off until it does)
* ``live_preview(preview)``: the task's part of the live training panel (``JobSnapshot.preview``)
* ``final_summary(run)``: headline metrics against the baselines after training
* ``predictions_page(run)``, ``hidden_states_page(run)``, ``errors_page(run)``: the analysis pages
"""

from __future__ import annotations

import importlib
from types import ModuleType

TASK_LABELS = {
    "forecast": "Forecast a series",
    "text": "Model text",
    "classify": "Classify sequences",
}


def available_tasks() -> list[str]:
    """The tasks this installation can train, in menu order (torch-free: reads the settings)."""
    from rnnlab.settings import TASKS

    return [t for t in TASK_LABELS if t in TASKS]


def view(task: str) -> ModuleType | None:
    """The view module of ``task``; None for forecasting (drawn by the pages)."""
    if task == "forecast":
        return None
    return importlib.import_module(f"ui.views.{task}")
