"""Classifying whole variable-length sequences (speech frames, names, a user's CSV): packed
sequences through the shared backbone, a pooling over the valid steps, cross-entropy, scored
against a majority-class and a logistic-regression baseline on the same test sequences.

Modules: :mod:`.prepared` (split, scaler / vocabulary fitted on training, padding; torch-free),
:mod:`.baselines` (baselines and metrics), :mod:`.run` (the run type, batched prediction, the
objective), :mod:`.evaluate`, :mod:`.store` (its run files), :mod:`.task` (the Task object).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CLASSIFY": "task", "ClassifyTask": "task", "ClassifyExport": "task",
    "ClassifyPrepared": "prepared", "prepare": "prepared", "pad_batch": "prepared",
    "ClassifyRun": "run", "predict_items": "run", "pooled_states": "run",
    "evaluate": "evaluate", "metrics_table": "evaluate", "accuracy_by_length": "evaluate", "BASELINES": "evaluate",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
