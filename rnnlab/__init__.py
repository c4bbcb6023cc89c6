"""rnnlab: train, evaluate, inspect and export recurrent forecasters on real series.

The core library. It never imports streamlit; the dashboard (``dashboard.py`` and
``pages/``) and the CLI (``python -m rnnlab``) are thin front ends over it.
"""

from __future__ import annotations

from rnnlab._platform import apply_malloc_tuning
from rnnlab.errors import (
    ConfigError,
    DataError,
    ExportError,
    RnnlabError,
    RunError,
    TrainingError,
)

__version__ = "0.1.0"

apply_malloc_tuning()

__all__ = [
    "ConfigError",
    "DataError",
    "ExportError",
    "RnnlabError",
    "RunError",
    "TrainingError",
    "__version__",
]
