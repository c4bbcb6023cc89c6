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
STEP_CLOCK_START = "1970-01-01"  # a series without a time column: step k sits k seconds after this (a placeholder)
MAX_MISSING_SHARE = 0.2  # a column missing more than this share of its values (between its first and last) is not filled
MAX_ABS_VALUE = 1e100  # larger magnitudes overflow squared errors and variances (float64 ends near 1.8e308)
MIN_ABS_VALUE = 1e-100  # a column whose largest magnitude is below this underflows them (squares of 1e-200 are 0)
MAX_REORDER_SHARE = 0.2  # sorting by time that moves more rows than this suggests a wrongly parsed time column


_TARGET_NAMES = ("adj_close", "close", "price", "value", "temp")
_MAX_CLOCK_STEPS = 10_000_000  # a clock further past its start than this is not the placeholder (115 days)


def clock_steps(values: pd.Series | pd.DatetimeIndex | Sequence[pd.Timestamp]) -> np.ndarray | None:
    """The step numbers of times on the placeholder clock of a series without a time column (NaN
    where a time is missing), or None when they are real times: not naive datetimes, outside the
    clock's range, not whole seconds, or (more than one) whole days only, as real dates in early
    1970 are. Used where a time is shown, so that steps are written as steps, never as 1970 dates."""
    column = pd.Series(values) if not isinstance(values, pd.Series) else values
    if not pd.api.types.is_datetime64_dtype(column):  # tz-aware times are real times
        return None
    secs = ((column - pd.Timestamp(STEP_CLOCK_START)) / pd.Timedelta(seconds=1)).to_numpy(dtype="float64")
    valid = secs[~np.isnan(secs)]
    if not len(valid) or valid.min() < 0 or valid.max() >= _MAX_CLOCK_STEPS or not np.all(valid == np.round(valid)):
        return None
    if len(valid) > 1 and np.all(valid % 86_400 == 0):
        return None
    return secs


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
    steps: bool = False  # no time column: the index is a placeholder clock of numbered steps (freq None, no season)
    dropped: dict[str, str] = field(default_factory=dict)  # column -> why the loader dropped it (for select's message)

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
        gone = [c for c in unknown if c in self.dropped]
        if gone:
            kind = "target" if gone[0] == target else "feature"
            raise DataError(f"{kind} column {gone[0]!r} of {self.name!r} was dropped when the data was loaded: it "
                            f"{self.dropped[gone[0]]}; available columns: {', '.join(self.columns)}")
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
        freq = None if self.steps else calendar_freq(frame.index)
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
    steps: bool = False,
    dropped: dict[str, str] | None = None,
) -> Dataset:
    """Sort, de-duplicate, drop inf/empty columns, choose the target, clean, infer freq."""
    frame = frame.astype("float64")
    frame.index = pd.DatetimeIndex(frame.index).as_unit("ns")
    frame.index.name = "time"
    if not frame.index.is_monotonic_increasing:
        if frame.index.is_monotonic_decreasing:  # newest first, as many downloads are
            frame = frame.iloc[::-1]
            notes.append("rows were newest first; reversed into time order")
        else:
            order = np.argsort(frame.index.to_numpy(), kind="stable")
            rank = np.arange(len(order))
            moved = min(float((order != rank).mean()), float((order != rank[::-1]).mean()))  # newest-first counts as in order
            frame = frame.iloc[order]
            if moved > MAX_REORDER_SHARE:
                notes.append(f"rows sorted by time, which moved {moved:.0%} of the rows: a file is rarely that far out of order, "
                             f"so the time column was probably read wrongly (day-first vs month-first dates?); "
                             f"check the dates, or set dayfirst / time_col")
            else:
                notes.append(f"rows were not in time order; sorted by time ({moved:.0%} of the rows moved)")
    dup = frame.index.duplicated(keep="last")
    if dup.any():
        frame = frame[~dup]
        notes.append(f"dropped {int(dup.sum())} row(s) with duplicate timestamps (kept the last of each)")
    arr = frame.to_numpy()
    n_inf = int(np.isinf(arr).sum())
    if n_inf:
        frame = frame.replace([np.inf, -np.inf], np.nan)
        notes.append(f"{n_inf} infinite value(s) treated as missing")
    check_magnitudes(frame, name)
    empty = [c for c in frame.columns if frame[c].isna().all()]
    dropped = dict(dropped or {})
    if empty:
        dropped.update({c: "has no values (every cell empty, unparsable or infinite)" for c in empty})
        frame = frame.drop(columns=empty)
        notes.append(f"dropped column(s) with no values: {', '.join(repr(c) for c in empty)}")
    if frame.shape[1] == 0:
        raise DataError(f"{name!r} has no numeric column with any values")
    if len(frame) < MIN_ROWS:
        if dup.any():
            raise DataError(f"{name!r} needs at least {MIN_ROWS} rows, got {len(frame)} after dropping {int(dup.sum())} "
                            f"row(s) with duplicate timestamps: the time column has only {len(frame)} distinct "
                            f"value(s) (e.g. {fmt_ts(frame.index[0])}); is it the right time column? Choose another "
                            f"with time_col")
        raise DataError(f"{name!r} needs at least {MIN_ROWS} rows, got {len(frame)}")
    target = target if target is not None and target in frame else _default_target(frame, name, dropped, notes)
    frame = clean_frame(frame, target, notes, strict=False, label=name, dropped=dropped)
    freq = None if steps else calendar_freq(frame.index)
    if freq is None and not steps:
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
        steps=steps,
        dropped=dropped,
    )


def check_magnitudes(frame: pd.DataFrame, name: str) -> None:
    """Refuse values beyond MAX_ABS_VALUE: their squares overflow (statistics, losses, metrics become inf);
    a single one among ordinary values is usually a sentinel for "missing" (9.99e300)."""
    arr = np.abs(frame.to_numpy(dtype="float64"))
    with np.errstate(invalid="ignore"):
        big = np.isfinite(arr) & (arr > MAX_ABS_VALUE)
        peak = np.nanmax(np.where(np.isfinite(arr), arr, np.nan), axis=0, initial=0.0) if arr.size else np.zeros(0)
    tiny = [(c, p) for c, p in zip(frame.columns, peak) if 0 < p < MIN_ABS_VALUE]
    if tiny:
        c, p = tiny[0]
        raise DataError(f"column {c!r} of {name!r} is tiny: its largest magnitude is {p:.3g}, below {MIN_ABS_VALUE:.0e}, "
                        f"where squared errors and variances underflow to 0; rescale it (e.g. multiply by "
                        f"1e{-int(np.floor(np.log10(p)))})")
    if not big.any():
        return
    rows, cols = np.nonzero(big)
    col = frame.columns[cols[0]]
    value = float(frame.iloc[rows[0], cols[0]])
    n_col = int(big[:, cols[0]].sum())
    others = arr[:, cols[0]][np.isfinite(arr[:, cols[0]]) & ~big[:, cols[0]]]
    hint = (f"the other values of {col!r} are at most {others.max():.3g}, so it looks like a sentinel for a missing "
            f"value: leave that cell empty instead" if n_col <= max(1, len(arr) // 100) and others.size
            else f"rescale the column (e.g. divide by 1e{int(np.log10(max(arr[big].max(), 1.0))) - 2})")
    raise DataError(f"column {col!r} of {name!r} holds {value:.3g} at {fmt_ts(frame.index[rows[0]])} ({n_col} value(s) "
                    f"beyond +-{MAX_ABS_VALUE:.0e}): magnitudes that large overflow the statistics rnnlab computes; "
                    f"{hint}")


def interior_missing(s: pd.Series) -> float:
    """Share of missing values between a column's first and last value (its edges may simply have no data)."""
    valid = s.notna().to_numpy()
    if not valid.any():
        return 1.0
    first, last = int(valid.argmax()), len(valid) - 1 - int(valid[::-1].argmax())
    return float((~valid[first : last + 1]).mean())


def _default_target(frame: pd.DataFrame, name: str, dropped: dict[str, str] | None = None,
                    notes: list[str] | None = None) -> str:
    """A column named like a price/value (adj_close, close, ...) else the first usable column (the one a
    reader of the table sees first). A column
    that would have been the default but cannot be (dropped, constant, too many gaps) is named in ``notes``."""
    def usable(c: str) -> bool:
        s = frame[c]
        return s.notna().sum() >= MIN_ROWS and not is_constant(s) and interior_missing(s) <= MAX_MISSING_SHARE

    good = [c for c in frame.columns if usable(c)]
    if not good:
        def why(c: str) -> str:
            s = frame[c]
            return (f"{int(s.notna().sum())} values" if s.notna().sum() < MIN_ROWS else "constant" if is_constant(s)
                    else f"misses {interior_missing(s):.0%} of its values")

        desc = ", ".join(f"{c!r} ({why(c)})" for c in frame.columns)
        raise DataError(
            f"{name!r}: no column can be a target (each needs >= {MIN_ROWS} values, must not be constant and may "
            f"miss at most {MAX_MISSING_SHARE:.0%} of its values); columns: {desc}"
        )
    by_key = {snake(c): c for c in good}
    chosen = next((by_key[k] for k in _TARGET_NAMES if k in by_key), good[0])
    passed = [(c, why) for c, why in (dropped or {}).items() if snake(c) in _TARGET_NAMES]
    passed += [(c, f"has too few values, is constant or misses more than {MAX_MISSING_SHARE:.0%} of its values")
               for c in frame.columns if not usable(c) and snake(c) in _TARGET_NAMES]
    if notes is not None and passed:
        c, why = passed[0]
        notes.append(f"column {c!r} would be the default target, but it {why}; the default target is {chosen!r} "
                     f"instead (choose the target explicitly to be sure)")
    return chosen


def clean_frame(frame: pd.DataFrame, target: str, notes: list[str], *, strict: bool, label: str,
                dropped: dict[str, str] | None = None) -> pd.DataFrame:
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
    # interior gaps: time interpolation, only between valid values, and only up to MAX_MISSING_SHARE
    over = {c: interior_missing(frame[c]) for c in frame.columns}
    over = {c: share for c, share in over.items() if share > MAX_MISSING_SHARE}
    refuse = [c for c in over if strict or c == target]
    if refuse:
        c = refuse[0]
        raise DataError(f"column {c!r} of {label!r} misses {over[c]:.0%} of its values (empty, unparsable or infinite "
                        f"cells) between its first and last value; rnnlab fills gaps by interpolation only up to "
                        f"{MAX_MISSING_SHARE:.0%}, beyond that the series would be mostly invented. Choose another "
                        f"column or fill the gaps yourself")
    if over:  # only when not strict: other columns than the target; dropped (select names why)
        notes.append(f"dropped column(s) {', '.join(f'{c!r} ({s:.0%} missing)' for c, s in over.items())}: they miss "
                     f"more than {MAX_MISSING_SHARE:.0%} of their values, too many to fill by interpolation")
        if dropped is not None:
            dropped.update({c: f"misses {s:.0%} of its values, more than the {MAX_MISSING_SHARE:.0%} rnnlab fills by "
                               f"interpolation" for c, s in over.items()})
        frame = frame.drop(columns=list(over))
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
