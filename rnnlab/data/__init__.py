"""Datasets: offline built-in snapshots, user CSV files and (optionally) Yahoo Finance.

Every loader returns a :class:`Dataset`: a float64 frame on a sorted, unique, tz-naive
``DatetimeIndex`` named ``time``, a default target column and a list of plain-words
warnings describing every change the loader made (rows dropped, gaps filled, ...).
Anything a user can get wrong (a bad file, an unknown column, no network) raises
:class:`~rnnlab.errors.DataError` whose message names the problem and the rule;
nothing else escapes.

Frame invariant. ``frame`` holds only float64 columns and never inf. The default target
has no NaN and interior gaps of every column are filled by time interpolation at load.
A non-target column may still hold NaN *at its edges* where it simply has no data (e.g.
GOOG before its 2004 IPO in ``stocks-monthly``); :meth:`Dataset.select` always returns a
frame with no NaN at all, so training code should go through ``select``.

Modules: :mod:`.dataset` (the container and its cleaning rules), :mod:`.builtin` (the
registry of snapshots under ``data/``), :mod:`.csv_loader` and :mod:`.csv_columns` (the CSV
engine), :mod:`.yahoo` (yfinance, imported lazily and optional).
"""

from __future__ import annotations

from pathlib import Path

from rnnlab.data.builtin import BUILTINS, DATA_DIR, list_datasets, load_builtin
from rnnlab.data.csv_loader import MAX_CSV_BYTES, column_names, load_csv
from rnnlab.data.dataset import MIN_ROWS, Dataset, DatasetInfo
from rnnlab.data.yahoo import fetch_yfinance
from rnnlab.errors import DataError

__all__ = [
    "DATA_DIR",
    "MAX_CSV_BYTES",
    "MIN_ROWS",
    "Dataset",
    "DatasetInfo",
    "fetch_yfinance",
    "list_datasets",
    "load_builtin",
    "load_csv",
    "column_names",
    "load_dataset",
]


def load_dataset(spec: str, *, time_col: str | None = None, dayfirst: bool | None = None) -> Dataset:
    """Load by spec: a built-in name, a CSV path (.csv/.csv.gz) or 'yf:TICKER[:START[:END]]'."""
    spec = str(spec).strip()
    if spec.lower().startswith("yf:"):
        parts = spec[3:].split(":")
        if len(parts) > 3 or not parts[0]:
            raise DataError(f"bad Yahoo spec {spec!r}; use yf:TICKER or yf:TICKER:START:END (dates YYYY-MM-DD)")
        parts += [""] * (3 - len(parts))
        return fetch_yfinance(parts[0], parts[1] or None, parts[2] or None)
    if spec in BUILTINS:
        return load_builtin(spec)
    path = Path(spec).expanduser()
    if path.is_file():
        return load_csv(path, time_col=time_col, dayfirst=dayfirst)
    raise DataError(
        f"unknown dataset {spec!r}: not a built-in ({', '.join(BUILTINS)}), not an existing CSV file, "
        "and not yf:TICKER"
    )
