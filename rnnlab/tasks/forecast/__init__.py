"""Forecasting a numeric series: windows slid over one series, direct multi-step forecasts,
scored against naive, seasonal-naive and linear-AR baselines on the same windows.

Modules: :mod:`.prepared` (split, fit on train, windows; torch-free), :mod:`.run` (the run type and
batched prediction), :mod:`.evaluate` (metrics and baselines), :mod:`.evolution` (states during
training), :mod:`.store` (its run files), :mod:`.task` (the Task object the core calls).
"""

from __future__ import annotations

import importlib
from typing import Any

# public names -> the submodule defining them; loaded on first use, so that the data preparation
# (prepared.py: numpy and pandas only) can be imported without torch (the Data page does)
_EXPORTS = {
    "FORECAST": "task", "ForecastTask": "task",
    "Prepared": "prepared", "prepare": "prepared",
    "ForecastRun": "run", "anchor_states": "run", "hidden_states": "run", "predict_original": "run",
    "predict_scaled": "run",
    "BASELINES": "evaluate", "evaluate": "evaluate", "is_close_to_naive": "evaluate", "metrics_table": "evaluate",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
