"""The Dataset container: a series on a clean time index, and the rules that keep it clean."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from rnnlab.calendar import calendar_freq, irregular_note
from rnnlab.errors import DataError

MIN_ROWS = 10  # fewer rows than this cannot make even one train/validation window


_TARGET_NAMES = ("adj_close", "close", "price", "value", "temp")


# notes that say how a value was read, not that anything was changed: shown as information
_READING_NOTE = re.compile(r"read ',' as the decimal separator|converted to UTC and made naive")


@dataclass
class Dataset:
    """A time series ready for windowing: float64 columns on a clean DatetimeIndex."""

    name: str  # registry name, file name, or "yf:TICKER"
    frame: pd.DataFrame  # index "time": sorted, unique, tz-naive; float64 columns; no inf
    target: str  # default target column (a column of frame, never NaN)
    freq: str | None  # pandas offset alias ("D", "h", "MS", ...) or None if irregular
    description: str = ""
    source: str = ""  # package/loader, URL or uploaded file
    licence: str = ""
    warnings: list[str] = field(default_factory=list)  # every change the loader made

    @property
    def reading_notes(self) -> list[str]:
        """The loader's notes on how it *read* the file (decimal commas, time zones): nothing changed."""
        return [w for w in self.warnings if _READING_NOTE.search(w)]

    @property
    def changes(self) -> list[str]:
        """The loader's notes on what it changed or dropped (sorted rows, filled gaps, ...)."""
        return [w for w in self.warnings if not _READING_NOTE.search(w)]

    @property
    def columns(self) -> list[str]:
        """All column names of ``frame``, in order."""
        return [str(c) for c in self.frame.columns]

    def fingerprint(self) -> str:
        """sha256 hex of the index, the column names and the values; stable across runs."""
        h = hashlib.sha256()
        idx = pd.DatetimeIndex(self.frame.index).as_unit("ns")
        h.update(np.ascontiguousarray(idx.asi8, dtype="<i8").tobytes())
        h.update("\x1f".join(self.columns).encode("utf-8"))
        values = np.ascontiguousarray(self.frame.to_numpy(dtype="float64"), dtype="<f8")
        values = np.where(np.isnan(values), np.nan, values)  # one canonical NaN bit pattern
        h.update(values.tobytes())
        return h.hexdigest()

    def select(self, target: str, features: Sequence[str] = ()) -> Dataset:
        """A new Dataset with only ``target`` (+ ``features``) columns and no NaN at all.

        Rows where a chosen column has no data at the start or end are trimmed; interior
        gaps are filled by time interpolation; inf counts as missing. Every change is
        appended to ``warnings``. Unknown columns, an all-NaN or constant target, or fewer
        than MIN_ROWS rows left raise DataError.
        """
        if isinstance(features, str):
            features = [features]
        chosen = [target] + [f for f in dict.fromkeys(features) if f != target]
        unknown = [c for c in chosen if c not in self.frame.columns]
        if unknown:
            kind = "target" if unknown[0] == target else "feature"
            raise DataError(
                f"unknown {kind} column {unknown[0]!r} in dataset {self.name!r}; "
                f"available columns: {', '.join(self.columns)}"
            )
        notes: list[str] = []
        frame = clean_frame(self.frame[chosen], target, notes, strict=True, label=self.name)
        for col in chosen[1:]:
            if is_constant(frame[col]):
                notes.append(f"feature {col!r} is constant ({frame[col].iloc[0]:g}); it carries no information")
        freq = calendar_freq(frame.index)
        return replace(self, frame=frame, target=target, freq=freq, warnings=[*self.warnings, *notes])


@dataclass(frozen=True)
class DatasetInfo:
    """One row of the built-in dataset catalogue (what :func:`list_datasets` returns)."""

    name: str
    description: str
    frequency: str  # in words, with the pandas alias: "daily (D)", "trading days (irregular)"
    rows: int
    columns: tuple[str, ...]
    target: str
    source: str
    licence: str


def finish_dataset(
    frame: pd.DataFrame,
    *,
    name: str,
    origin: str,
    notes: list[str],
    description: str,
    licence: str = "user-supplied",
    target: str | None = None,
) -> Dataset:
    """Sort, de-duplicate, drop inf/empty columns, choose the target, clean, infer freq."""
    frame = frame.astype("float64")
    frame.index = pd.DatetimeIndex(frame.index).as_unit("ns")
    frame.index.name = "time"
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        notes.append("rows were not in time order; sorted by time")
    dup = frame.index.duplicated(keep="last")
    if dup.any():
        frame = frame[~dup]
        notes.append(f"dropped {int(dup.sum())} row(s) with duplicate timestamps (kept the last of each)")
    arr = frame.to_numpy()
    n_inf = int(np.isinf(arr).sum())
    if n_inf:
        frame = frame.replace([np.inf, -np.inf], np.nan)
        notes.append(f"{n_inf} infinite value(s) treated as missing")
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        frame = frame.drop(columns=empty)
        notes.append(f"dropped column(s) with no values: {', '.join(repr(c) for c in empty)}")
    if frame.shape[1] == 0:
        raise DataError(f"{name!r} has no numeric column with any values")
    if len(frame) < MIN_ROWS:
        raise DataError(f"{name!r} needs at least {MIN_ROWS} rows, got {len(frame)}")
    target = target if target is not None and target in frame else _default_target(frame, name)
    frame = clean_frame(frame, target, notes, strict=False, label=name)
    freq = calendar_freq(frame.index)
    if freq is None:
        notes.append(irregular_note(frame.index))
    return Dataset(
        name=name,
        frame=frame,
        target=target,
        freq=freq,
        description=description,
        source=origin,
        licence=licence,
        warnings=notes,
    )


def _default_target(frame: pd.DataFrame, name: str) -> str:
    """A column named like a price/value (adj_close, close, ...) else the first usable column
    (the one a reader of the table sees first)."""
    usable = [c for c in frame.columns if frame[c].notna().sum() >= MIN_ROWS and not is_constant(frame[c])]
    if not usable:
        desc = ", ".join(f"{c!r}" for c in frame.columns)
        raise DataError(
            f"{name!r}: no column can be a target (each needs >= {MIN_ROWS} values and must not be "
            f"constant); columns: {desc}"
        )
    by_key = {snake(c): c for c in usable}
    for key in _TARGET_NAMES:
        if key in by_key:
            return by_key[key]
    return usable[0]


def clean_frame(frame: pd.DataFrame, target: str, notes: list[str], *, strict: bool, label: str) -> pd.DataFrame:
    """Make ``target`` (and with strict=True every column) free of NaN/inf.

    Leading/trailing rows where the target (strict: any column) is missing are trimmed;
    interior gaps of every column are filled by time interpolation. Non-strict leaves
    edge NaN in non-target columns (no data there) and says so.
    """
    frame = frame.replace([np.inf, -np.inf], np.nan)
    tgt = frame[target]
    if tgt.notna().sum() == 0:
        raise DataError(f"target column {target!r} of {label!r} has no values (all missing)")
    key = frame.notna().all(axis=1) if strict else tgt.notna()
    if not key.any():
        raise DataError(f"{label!r}: the chosen columns never have values on the same rows")
    first, last = key.to_numpy().argmax(), len(key) - 1 - key.to_numpy()[::-1].argmax()
    if first > 0 or last < len(frame) - 1:
        cut_cols = [c for c in frame.columns if frame[c].iloc[:first].isna().any() or frame[c].iloc[last + 1 :].isna().any()]
        parts = []
        if first > 0:
            parts.append(f"{first} leading row(s) before {fmt_ts(frame.index[first])}")
        if last < len(frame) - 1:
            parts.append(f"{len(frame) - 1 - last} trailing row(s) after {fmt_ts(frame.index[last])}")
        who = ", ".join(repr(c) for c in cut_cols) or repr(target)
        notes.append(f"trimmed {' and '.join(parts)} where {who} had no values")
        frame = frame.iloc[first : last + 1]
    if len(frame) < MIN_ROWS:
        raise DataError(f"{label!r}: target {target!r} needs at least {MIN_ROWS} rows with values, got {len(frame)}")
    # interior gaps: time interpolation, only between valid values
    gaps = {c: int(frame[c].isna().sum()) for c in frame.columns}
    if any(gaps.values()):
        filled = frame.interpolate(method="time", limit_area="inside")
        n_filled = {c: gaps[c] - int(filled[c].isna().sum()) for c in frame.columns}
        if any(n_filled.values()):
            desc = ", ".join(f"{c!r}: {n}" for c, n in n_filled.items() if n)
            notes.append(f"filled interior gaps by time interpolation ({desc} value(s))")
        frame = filled
        edge = {c: int(frame[c].isna().sum()) for c in frame.columns if frame[c].isna().any()}
        if edge:  # only possible when not strict: non-target columns without data at the edges
            desc = ", ".join(f"{c!r} ({n} rows)" for c, n in edge.items())
            notes.append(f"column(s) with no data at the start or end: {desc}; selecting them trims those rows")
    if is_constant(frame[target]):
        raise DataError(
            f"target column {target!r} of {label!r} is constant ({frame[target].iloc[0]:g}); nothing to forecast"
        )
    return frame.astype("float64")


def fmt_ts(ts: pd.Timestamp) -> str:
    return str(ts.date()) if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M:%S")


def is_constant(s: pd.Series) -> bool:
    v = s.to_numpy(dtype="float64")
    v = v[np.isfinite(v)]
    return v.size == 0 or bool(v.max() == v.min())


def snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")
