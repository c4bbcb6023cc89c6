"""Sequence-classification CSVs -> :class:`~rnnlab.corpora.SequenceDataset`.

Two layouts, told apart by their columns:

- **long format** (numeric frames): one row per time step, columns ``sequence_id``,
  an optional order column, numeric feature columns, ``label`` (names configurable).
  Steps are ordered by ``time_col`` when given; when it is None a column named
  step/time/timestep/time_step/t/frame (in that order of preference) is used if present
  (with a warning), else the file order. Every other column except ``split`` is a feature.
- **text format**: a ``text`` column, a label column and no id column; each row is one
  sequence (a string). Other columns are ignored with a warning.

A column named ``split`` holding only train/test is the published partition
(``given_split``). Rules (each breach is a DataError naming the value and the rule): the id,
label and time columns must exist (the message lists the columns there are); features are
numbers (a non-numeric column is refused, not dropped) and finite (missing/inf values are
counted and the first is located); the label and split are constant within a sequence; a
time column holds numbers or dates, unique within a sequence; at least ``MIN_SEQUENCES``
(10) sequences, at least 2 classes, and every class has at least ``MIN_PER_CLASS`` (2)
sequences, so that a split can put one in training and one in evaluation (this also
bounds the classes at half the sequences). Files are read like text files (size limit
``MAX_TEXT_BYTES``, 50 MiB; encodings as in :mod:`rnnlab.corpora`); separators , ; tab are
sniffed from the first lines.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from rnnlab._textio import MAX_TEXT_BYTES, decode_text, maybe_gunzip, read_source
from rnnlab.errors import DataError
from rnnlab.sequences import SequenceDataset

__all__ = ["MIN_PER_CLASS", "MIN_SEQUENCES", "load_sequence_csv", "parse_sequence_table"]

MIN_SEQUENCES = 10
MIN_PER_CLASS = 2
_TIME_NAMES = ("step", "time", "timestep", "time_step", "t", "frame")
_SPLIT_COL, _SPLITS = "split", ("train", "test")
_NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
_SEPARATORS = (",", ";", "\t")
_F32_MAX = float(np.finfo(np.float32).max)


def load_sequence_csv(source: Any, *, id_col: str = "sequence_id", target: str = "label", time_col: str | None = None,
                      name: str | None = None, max_bytes: int = MAX_TEXT_BYTES) -> SequenceDataset:
    """Load a sequence CSV (path, bytes or file-like such as a Streamlit upload); rules in the module docstring."""
    raw, default_name, origin = read_source(source, max_bytes, "CSV")
    name = name or default_name
    notes: list[str] = []
    text = decode_text(maybe_gunzip(raw, max_bytes, name), name, notes)
    ds = parse_sequence_table(text, name=name, origin=origin, id_col=id_col, target=target, time_col=time_col)
    ds.warnings[:0] = notes
    return ds


def parse_sequence_table(text: str, *, name: str, origin: str, id_col: str = "sequence_id", target: str = "label",
                         time_col: str | None = None, ignore: tuple[str, ...] = ()) -> SequenceDataset:
    """Decoded CSV text -> SequenceDataset (also used for the built-in snapshots)."""
    df = _read_table(text, name)
    cols = list(df.columns)
    listed = ", ".join(repr(c) for c in cols)
    if id_col not in df and "text" not in df:
        raise DataError(f"{name!r} has no sequence id column {id_col!r} (long format: one row per step with "
                        f"{id_col}, [step], features..., {target}) and no 'text' column (one string per row); "
                        f"available columns: {listed}")
    if target not in df:
        raise DataError(f"{name!r} has no label column {target!r}; available columns: {listed}")
    notes: list[str] = []
    if id_col in df:
        return _frames(df, name, origin, id_col, target, time_col, notes, listed)
    return _texts(df, name, origin, target, notes, ignore)


def _read_table(text: str, name: str) -> pd.DataFrame:
    sep = _sniff(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            df = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                             na_filter=False, skip_blank_lines=True, engine="c")
        except (ValueError, csv.Error, OverflowError, IndexError, pd.errors.ParserError) as e:
            raise DataError(f"{name!r} is not a readable CSV ({' '.join(str(e).split())[:200]})") from e
    if df.shape[0] < 2:
        raise DataError(f"{name!r} has no data rows; a sequence CSV needs a header row and one row per step or item")
    header = [str(h).strip() for h in df.iloc[0].fillna("")]
    if "" in header:
        raise DataError(f"{name!r}: column {header.index('') + 1} has no name; the first row must name every column")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DataError(f"{name!r} has duplicate column names {', '.join(map(repr, dupes))}; names must be unique")
    body = df.iloc[1:].fillna("").reset_index(drop=True)
    body.columns = header
    return body.apply(lambda c: c.str.strip())


def _sniff(text: str) -> str:
    """The separator (, ; tab) giving the most lines with the header's field count (>= 2)."""
    lines = [ln for ln in text[:65536].splitlines()[:40] if ln.strip()][: -1 if len(text) > 65536 else None]
    best, best_key = ",", (-1.0, 0, 0)
    for rank, sep in enumerate(_SEPARATORS):
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=sep)]
        except csv.Error:
            continue
        if counts and counts[0] >= 2:
            key = (sum(c == counts[0] for c in counts) / len(counts), counts[0], -rank)
            best, best_key = (sep, key) if key > best_key else (best, best_key)
    return best


def _frames(df: pd.DataFrame, name: str, origin: str, id_col: str, target: str, time_col: str | None,
            notes: list[str], listed: str) -> SequenceDataset:
    if time_col is not None and time_col not in df:
        raise DataError(f"{name!r} has no time column {time_col!r}; available columns: {listed}")
    if time_col is None:
        time_col = next((c for c in _TIME_NAMES if c in df and c not in (id_col, target)), None)
        if time_col is not None:
            notes.append(f"column {time_col!r} orders the steps of each sequence (pass time_col= to choose another)")
    ids = df[id_col].to_numpy(dtype=object)
    empty = np.flatnonzero(ids == "")
    if len(empty):
        raise DataError(f"{name!r}: data row {empty[0] + 1} has an empty {id_col!r}; every row needs a sequence id")
    features = [c for c in df.columns if c not in (id_col, target, time_col, _SPLIT_COL)]
    if not features:
        raise DataError(f"{name!r} has no feature columns besides {id_col!r}, {target!r}"
                        f"{'' if time_col is None else f', {time_col!r}'}; a sequence needs at least one number per step")
    values = _numeric(df, features, name)
    codes, uniq = pd.factorize(df[id_col], sort=False)  # sequences in order of first appearance
    order = np.argsort(codes, kind="stable")
    if time_col is not None:
        t = _time_values(df[time_col], time_col, name)
        order = np.lexsort((t, codes))
        st, sc = t[order], codes[order]
        dup = np.flatnonzero((st[1:] == st[:-1]) & (sc[1:] == sc[:-1]))
        if len(dup):
            raise DataError(f"{name!r}: sequence {uniq[sc[dup[0]]]!r} has {time_col}={df[time_col].iloc[order[dup[0]]]!r}"
                            " twice; time values must be unique within a sequence")
    counts = np.bincount(codes, minlength=len(uniq))
    row_has = np.isfinite(values).any(axis=1).astype(np.float64)
    hollow = np.flatnonzero(np.bincount(codes, weights=row_has, minlength=len(uniq)) == 0)
    if len(hollow):
        k = hollow[0]
        raise DataError(f"sequence {uniq[k]!r} in {name!r} has no feature values (all {counts[k]} rows empty); "
                        "every sequence needs at least one step with numbers")
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        n_nan, n_inf = int(np.isnan(values).sum()), int(np.isinf(values).sum())
        raise DataError(f"{name!r}: feature values must be finite; found {n_nan:,} missing and {n_inf:,} infinite, "
                        f"the first in sequence {df[id_col].iloc[r]!r} (data row {r + 1}, column {features[c]!r})")
    big = np.abs(values) > _F32_MAX
    if big.any():
        r, c = np.argwhere(big)[0]
        raise DataError(f"{name!r}: data row {r + 1}, column {features[c]!r} = {values[r, c]:g} is beyond the "
                        f"float32 range (±{_F32_MAX:.3g})")
    labels = _per_sequence(df[target].to_numpy(dtype=object), codes, uniq, target, name)
    split = _split(df, codes, uniq, name, notes)
    frames = values[order].astype(np.float32)
    seqs = np.split(frames, np.cumsum(counts)[:-1])
    return _finish(name, origin, labels, [str(u) for u in uniq], notes, split, target,
                   sequences=[np.ascontiguousarray(s) for s in seqs], feature_names=features)


def _texts(df: pd.DataFrame, name: str, origin: str, target: str, notes: list[str],
           ignore: tuple[str, ...]) -> SequenceDataset:
    texts = df["text"].to_numpy(dtype=object)
    empty = np.flatnonzero(texts == "")
    if len(empty):
        raise DataError(f"{name!r}: data row {empty[0] + 1} has an empty 'text'; every row needs a non-empty string")
    extra = [c for c in df.columns if c not in ("text", target, _SPLIT_COL, *ignore)]
    if extra:
        notes.append(f"columns ignored (a text sequence dataset uses only 'text' and {target!r}): "
                     f"{', '.join(map(repr, extra))}")
    codes = np.arange(len(df))
    ids = [str(i + 1) for i in codes]
    labels = df[target].to_numpy(dtype=object)
    split = _split(df, codes, np.array(ids, dtype=object), name, notes)
    return _finish(name, origin, labels, ids, notes, split, target, texts=[str(t) for t in texts])


def _numeric(df: pd.DataFrame, features: list[str], name: str) -> np.ndarray:
    out = np.empty((len(df), len(features)), dtype=np.float64)
    problems = []
    for j, col in enumerate(features):
        s = df[col]
        missing = s.str.lower().isin(_NA_TOKENS).to_numpy()
        num = pd.to_numeric(s.where(~missing, "nan"), errors="coerce").to_numpy(dtype=np.float64)
        junk = np.flatnonzero(np.isnan(num) & ~missing)
        if len(junk):
            problems.append(f"{col!r} ({len(junk):,} non-numeric cells, first {s.iloc[junk[0]][:40]!r} in data row "
                            f"{junk[0] + 1})")
        out[:, j] = num
    if problems:
        raise DataError(f"{name!r}: feature columns must be numeric; not numeric: {'; '.join(problems)}. Remove or "
                        "encode these columns (every column except the id, label, time and split is a feature)")
    return out


def _time_values(s: pd.Series, col: str, name: str) -> np.ndarray:
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
    if np.isfinite(num).all():
        return num
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ts = pd.to_datetime(s, errors="coerce", format="mixed", utc=True)
            if ts.notna().all():
                return ts.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        except (ValueError, TypeError, OverflowError, AttributeError):
            ts = pd.Series(pd.NaT, index=s.index)
    bad = np.flatnonzero(~np.isfinite(num) & ts.isna().to_numpy())
    r = int(bad[0] if len(bad) else np.flatnonzero(~np.isfinite(num))[0])  # else: dates mixed with numbers
    raise DataError(f"{name!r}: time column {col!r} must hold finite numbers or dates (not a mix); data row {r + 1} "
                    f"has {s.iloc[r]!r}")


def _per_sequence(values: np.ndarray, codes: np.ndarray, uniq: Any, col: str, name: str) -> np.ndarray:
    """The one value per sequence of a column that must be constant within each sequence."""
    _, first = np.unique(codes, return_index=True)  # first row of each sequence (codes are 0..k-1)
    per_seq = values[first]
    diff = np.flatnonzero(values != per_seq[codes])
    if len(diff):
        r = diff[0]
        raise DataError(f"{name!r}: {col!r} must be constant within a sequence; sequence {uniq[codes[r]]!r} has "
                        f"{per_seq[codes[r]]!r} and {values[r]!r} (data row {r + 1})")
    return per_seq


def _check_labels(labels: np.ndarray, ids: list[str], target: str, name: str) -> None:
    empty = np.flatnonzero(labels == "")
    if len(empty):
        raise DataError(f"{name!r}: sequence {ids[empty[0]]!r} has an empty {target!r}; every sequence needs a label")
    n = len(labels)
    if n < MIN_SEQUENCES:
        raise DataError(f"{name!r} has {n} sequences; a classification dataset needs at least {MIN_SEQUENCES}")
    counts = Counter(str(v) for v in labels)
    if len(counts) < 2:
        raise DataError(f"{name!r}: {target!r} has a single class {next(iter(counts))!r} in all {n} sequences; "
                        "classification needs at least 2 classes")
    few = [c for c in sorted(counts, key=_class_key) if counts[c] < MIN_PER_CLASS]
    if few:
        hint = (f"; {len(counts):,} distinct values for {n:,} sequences: is {target!r} an id or a continuous "
                "value rather than a class?" if len(counts) > n / 2 else "")
        raise DataError(f"{name!r}: every class needs at least {MIN_PER_CLASS} sequences (one to train on, one to "
                        f"evaluate); class {few[0]!r} has {counts[few[0]]} ({len(few):,} of {len(counts):,} "
                        f"classes are too small){hint}")


def _split(df: pd.DataFrame, codes: np.ndarray, uniq: Any, name: str, notes: list[str]) -> np.ndarray | None:
    if _SPLIT_COL not in df:
        return None
    values = df[_SPLIT_COL].str.lower().to_numpy(dtype=object)
    bad = np.flatnonzero(~np.isin(values, _SPLITS))
    if len(bad):
        raise DataError(f"{name!r}: column 'split' may hold only 'train' or 'test' (the published partition); "
                        f"data row {bad[0] + 1} has {df[_SPLIT_COL].iloc[bad[0]]!r}")
    per_seq = _per_sequence(values, codes, uniq, _SPLIT_COL, name)
    if len(set(per_seq)) < 2:
        notes.append(f"column 'split' holds only {per_seq[0]!r}; it is ignored (no published partition)")
        return None
    return np.array([str(v) for v in per_seq])


def _class_key(label: str) -> tuple:
    try:
        x = float(label)
    except ValueError:
        x = float("nan")
    return (0, x, label) if np.isfinite(x) else (1, 0.0, label)


def _finish(name: str, origin: str, labels: np.ndarray, ids: list[str], notes: list[str], split: np.ndarray | None,
            target: str, **data: Any) -> SequenceDataset:
    labels = np.array([str(v) for v in labels], dtype=object)
    _check_labels(labels, ids, target, name)
    classes = sorted({str(v) for v in labels}, key=_class_key)
    index = {c: i for i, c in enumerate(classes)}
    return SequenceDataset(name=name, labels=np.array([index[v] for v in labels], dtype=np.int64), classes=classes,
                           ids=ids, given_split=split, description=f"user sequences {name}", source=origin,
                           warnings=notes, **data)
