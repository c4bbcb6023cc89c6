"""The small exception tree of rnnlab.

Every error a user can cause (bad data, bad settings, a corrupt run folder) is an
:class:`RnnlabError`. Front ends (the CLI, the dashboard pages) catch only this class and
show its message; anything else is a bug and is reported as such.

Messages name the offending value and the rule, e.g.
``seq_len=500 needs at least 501 rows, got 312``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "ExportError",
    "RnnlabError",
    "RunError",
    "TrainingError",
]


class RnnlabError(Exception):
    """Base class of every error rnnlab raises on purpose."""


class DataError(RnnlabError):
    """A data source, CSV or column cannot be used (missing, empty, malformed, offline)."""


class ConfigError(RnnlabError):
    """A setting is out of range or inconsistent with the data (seq_len, horizon, splits...)."""


class TrainingError(RnnlabError):
    """Training could not produce a usable model (e.g. the loss diverged at once)."""


class RunError(RnnlabError):
    """A run folder or run archive is missing, corrupt, unsafe or inconsistent."""


class ExportError(RnnlabError):
    """A model could not be exported, or the exported model does not match torch."""
