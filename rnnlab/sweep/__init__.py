"""Hyperparameter sweeps on Optuna: search spaces, workers sharing a study in an RDB storage
(SQLite in the run store by default, PostgreSQL for many machines), pruning from the per-epoch
validation score, every trial a run in the store, the test span scored once for the best trial.

Modules: :mod:`.space` (what is searched), :mod:`.study` (storage, study, worker, objective),
:mod:`.report` (trials table, summary, test scoring of the best trial), :mod:`.job` (a sweep in
a background thread for the dashboard). ``python -m rnnlab sweep`` is :mod:`rnnlab.cli_store`.

Typical use::

    from rnnlab import pipeline
    from rnnlab.settings import RunConfig
    from rnnlab.store import default_store
    from rnnlab.sweep import SweepSpec, Worker, default_space, default_params, summarize, score_test
    base = RunConfig.defaults("forecast", dataset="seattle-weather", target="temp_max")
    data = pipeline.load_data(base)
    space, resolved = default_space(data, base)
    store = default_store()
    spec = SweepSpec(base, space, storage=store.sweeps_url(), trials=20,
                     defaults=default_params(space, base, resolved))
    study = Worker(data, spec, store).run()
    summary = summarize(study); score_test(summary, store)
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> submodule; loaded on first use, so `python -m rnnlab runs` (which registers the sweep
# command) imports neither Optuna nor pandas
_EXPORTS = {
    **dict.fromkeys(["SweepSummary", "format_report", "importances", "score_test", "summarize", "trials_frame"],
                    "report"),
    **dict.fromkeys(["DEFAULT_SPACES", "Param", "Space", "default_params", "default_space", "load_space", "parse_space",
                     "searched", "to_toml"], "space"),
    **dict.fromkeys(["PRUNERS", "SweepSpec", "TrialProgress", "Worker", "counts", "load_study", "open_storage",
                     "open_study", "redact", "study_names"], "study"),
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"rnnlab.sweep.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'rnnlab.sweep' has no attribute {name!r}")
