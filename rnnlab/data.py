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

Built-ins are gzip CSV snapshots under ``data/`` (built by ``scripts/build_snapshots.py``)
and need only pandas at run time. ``yfinance`` is imported lazily and is optional.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import os
import re
import threading
import time
import warnings
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from rnnlab.errors import DataError

__all__ = [
    "Dataset",
    "DatasetInfo",
    "MAX_CSV_BYTES",
    "MIN_ROWS",
    "DATA_DIR",
    "list_datasets",
    "load_builtin",
    "load_csv",
    "fetch_yfinance",
    "load_dataset",
]

MAX_CSV_BYTES = 50 * 1024 * 1024  # stated upload/file size limit (compressed and decompressed)
MIN_ROWS = 10  # fewer rows than this cannot make even one train/validation window
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# CSV parsing policy knobs (stated in error messages and warnings)
_MAX_JUNK_FRACTION = 0.10  # a column with more non-numeric cells than this is not numeric
_NAMED_TIME_MIN_FRACTION = 0.50  # a column *named* like a time column must parse this well
_CONTENT_TIME_MIN_FRACTION = 0.90  # an unnamed column must parse this well to be the time
_TIME_NAMES = ("date", "time", "datetime", "timestamp", "ds", "date_time", "dt", "year", "month", "period")
_TARGET_NAMES = ("adj_close", "close", "price", "value", "temp")
_NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "--", "?", "#n/a", "nat", "missing", "."})
_SEPARATORS = (",", ";", "\t", "|")
_TS_LO, _TS_HI = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")  # datetime64[ns] range


# -----------------------------------------------------------------------------
# the Dataset container


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
        frame = _clean(self.frame[chosen], target, notes, strict=True, label=self.name)
        for col in chosen[1:]:
            if _is_constant(frame[col]):
                notes.append(f"feature {col!r} is constant ({frame[col].iloc[0]:g}); it carries no information")
        freq = _infer_freq(frame.index)
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


# -----------------------------------------------------------------------------
# built-in snapshots


@dataclass(frozen=True)
class _BuiltinSpec:
    """Registry entry; scripts/build_snapshots.py reads these to write data/SOURCES.md."""

    name: str
    target: str
    description: str
    package: str  # pip package the snapshot was built from (not a runtime requirement)
    loader: str  # the loader call used by the build script
    origin: str  # where the numbers originally come from, as honestly as we know
    licence: str

    @property
    def file(self) -> str:
        return f"{self.name}.csv.gz"

    @property
    def source(self) -> str:
        return f"{self.package}: {self.loader}; originally {self.origin}"


_BUILTINS: dict[str, _BuiltinSpec] = {
    s.name: s
    for s in (
        _BuiltinSpec(
            name="sp500",
            target="adj_close",
            description="S&P 500 index, daily OHLC, adjusted close and volume, 1999-2018 (trading days).",
            package="arch",
            loader="arch.data.sp500.load()",
            origin="Yahoo Finance (^GSPC; the Open/High/Low/Close/Adj Close/Volume layout is Yahoo's; "
            "arch ships it as example data without stating the origin in-package)",
            licence="arch package: NCSA; price data redistributed by arch as example data",
        ),
        _BuiltinSpec(
            name="nasdaq",
            target="adj_close",
            description="NASDAQ Composite index, daily OHLC, adjusted close and volume, 1999-2018 (trading days).",
            package="arch",
            loader="arch.data.nasdaq.load()",
            origin="Yahoo Finance (^IXIC; same layout as sp500; arch example data)",
            licence="arch package: NCSA; price data redistributed by arch as example data",
        ),
        _BuiltinSpec(
            name="seattle-weather",
            target="temp_max",
            description="Seattle daily weather 2012-2015: precipitation (mm), max/min temperature (°C), "
            "wind (m/s). The categorical 'weather' column is dropped.",
            package="vega_datasets",
            loader="vega_datasets.data.seattle_weather()",
            origin="NOAA (public domain), via the vega-datasets project",
            licence="public domain (NOAA); vega_datasets package: MIT",
        ),
        _BuiltinSpec(
            name="seattle-temps",
            target="temp",
            description="Seattle hourly temperature (°F), 2010, local time. The one hour skipped by the "
            "DST change (2010-03-14 02:00) is filled by linear interpolation.",
            package="vega_datasets",
            loader="vega_datasets.data.seattle_temps()",
            origin="NOAA (public domain), via the vega-datasets project",
            licence="public domain (NOAA); vega_datasets package: MIT",
        ),
        _BuiltinSpec(
            name="sf-temps",
            target="temp",
            description="San Francisco hourly temperature (°F), 2010, local time. The one hour skipped by "
            "the DST change (2010-03-14 02:00) is filled by linear interpolation.",
            package="vega_datasets",
            loader="vega_datasets.data.sf_temps()",
            origin="NOAA (public domain), via the vega-datasets project",
            licence="public domain (NOAA); vega_datasets package: MIT",
        ),
        _BuiltinSpec(
            name="stocks-monthly",
            target="msft",
            description="Monthly prices (first of month) of AAPL, AMZN, GOOG, IBM, MSFT, 2000-2010. "
            "goog has no values before its 2004 IPO (NaN until 2004-08); select it to trim those rows.",
            package="vega_datasets",
            loader="vega_datasets.data.stocks() pivoted wide (symbol -> column)",
            origin="not documented by vega-datasets (its description says 'daily closing prices', "
            "the file holds one price per month)",
            licence="vega_datasets package: MIT; data origin undocumented",
        ),
        _BuiltinSpec(
            name="stocks-daily",
            target="aapl",
            description="Daily adjusted close of AAPL, GOOG, IBM, MSFT, 2000-03-01 to 2013-03-01 (trading "
            "days). goog has no values before 2004-08-19; select it to trim those rows.",
            package="bokeh_sampledata",
            loader="bokeh_sampledata.stocks.data (adj_close pivoted wide)",
            origin="Quandl WIKI Prices (archived copy), declared public domain by Quandl",
            licence="public domain (Quandl WIKI); bokeh_sampledata package: BSD-3-Clause",
        ),
    )
}


def list_datasets() -> list[DatasetInfo]:
    """The built-in datasets whose snapshot file is present, in registry order."""
    infos = []
    for name, spec in _BUILTINS.items():
        if not (DATA_DIR / spec.file).is_file():
            continue
        ds = _load_builtin_cached(name)
        infos.append(
            DatasetInfo(
                name=name,
                description=spec.description,
                frequency=_freq_words(ds.freq, ds.frame.index),
                rows=len(ds.frame),
                columns=tuple(ds.columns),
                target=ds.target,
                source=spec.source,
                licence=spec.licence,
            )
        )
    return infos


def load_builtin(name: str) -> Dataset:
    """Load a built-in snapshot by registry name (a fresh copy; the cache stays intact)."""
    if name not in _BUILTINS:
        raise DataError(f"unknown built-in dataset {name!r}; valid names: {', '.join(_BUILTINS)}")
    return _copy_dataset(_load_builtin_cached(name))


@functools.lru_cache(maxsize=None)
def _load_builtin_cached(name: str) -> Dataset:
    spec = _BUILTINS[name]
    path = DATA_DIR / spec.file
    if not path.is_file():
        raise DataError(f"snapshot file {path} is missing; rebuild it with `python scripts/build_snapshots.py`")
    try:
        frame = pd.read_csv(path, index_col="time", parse_dates=["time"])
    except (OSError, ValueError, zlib.error, EOFError, pd.errors.ParserError) as e:
        raise DataError(f"snapshot file {path} is unreadable ({e}); rebuild it") from e
    frame.index = pd.DatetimeIndex(frame.index).as_unit("ns")
    frame.index.name = "time"
    frame = frame.astype("float64")
    if not (frame.index.is_monotonic_increasing and frame.index.is_unique) or spec.target not in frame:
        raise DataError(f"snapshot file {path} is corrupt (index not sorted/unique or no {spec.target!r})")
    if frame[spec.target].isna().any():
        raise DataError(f"snapshot file {path} is corrupt (NaN in default target {spec.target!r})")
    return Dataset(
        name=name,
        frame=frame,
        target=spec.target,
        freq=_infer_freq(frame.index),
        description=spec.description,
        source=spec.source,
        licence=spec.licence,
    )


def _copy_dataset(ds: Dataset) -> Dataset:
    return replace(ds, frame=ds.frame.copy(deep=True), warnings=list(ds.warnings))


# -----------------------------------------------------------------------------
# CSV loading: bytes -> text -> string table -> numeric frame -> Dataset


def load_csv(
    source: Any,
    *,
    name: str | None = None,
    time_col: str | None = None,
    max_bytes: int = MAX_CSV_BYTES,
) -> Dataset:
    """Load a user CSV (path, bytes, or binary/text file-like such as a Streamlit upload).

    Handles UTF-8 (with or without BOM), UTF-16 with BOM and latin-1; separators , ; tab |
    (sniffed); decimal commas and thousands separators; gzip. The time column is
    ``time_col`` or auto-detected (a column named date/time/datetime/timestamp/ds/...,
    else the first column parsing as dates for >90% of rows; else rows are consecutive
    days from 2000-01-01). Returns a Dataset or raises DataError; never anything else.
    """
    raw, default_name, origin = _read_source(source, max_bytes)
    name = name or default_name
    raw = _maybe_gunzip(raw, max_bytes, name)
    notes: list[str] = []
    text = _decode(raw, notes, name)
    return _dataset_from_text(text, name=name, origin=origin, time_col=time_col, notes=notes)


def _read_source(source: Any, max_bytes: int) -> tuple[bytes | str, str, str]:
    """Read at most max_bytes (+1 to detect overflow) from any supported source."""
    limit = f"the size limit is {max_bytes:,} bytes ({max_bytes / 2**20:.1f} MiB)"
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_bytes:
            raise DataError(f"CSV data is {len(data):,} bytes; {limit}")
        return data, "uploaded.csv", "uploaded data"
    if isinstance(source, (str, os.PathLike)):
        path = Path(os.fspath(source)).expanduser()
        try:
            st = path.stat()
        except (OSError, ValueError) as e:
            raise DataError(f"CSV file {str(path)!r} not found or not accessible ({e.__class__.__name__})") from e
        if not path.is_file():
            raise DataError(f"{str(path)!r} is not a regular file")
        if st.st_size > max_bytes:
            raise DataError(f"CSV file {path.name!r} is {st.st_size:,} bytes; {limit}")
        try:
            with open(path, "rb") as fh:
                data = fh.read(max_bytes + 1)
        except OSError as e:
            raise DataError(f"cannot read CSV file {str(path)!r}: {e}") from e
        if len(data) > max_bytes:  # the file grew between stat and read
            raise DataError(f"CSV file {path.name!r} exceeds the limit; {limit}")
        return data, path.name, str(path.resolve())
    if hasattr(source, "read"):
        fname = Path(str(getattr(source, "name", "") or "uploaded.csv")).name
        try:
            if _seekable(source):
                source.seek(0, io.SEEK_END)
                size = source.tell()
                source.seek(0)
                if size > max_bytes:
                    raise DataError(f"CSV upload {fname!r} is {size:,} bytes; {limit}")
            data = source.read(max_bytes + 1)
        except (OSError, ValueError) as e:
            raise DataError(f"cannot read CSV upload {fname!r}: {e}") from e
        if data is None:
            data = b""
        if not isinstance(data, (bytes, str)):
            raise DataError(f"CSV upload {fname!r} returned {type(data).__name__}, expected bytes or text")
        if len(data) > max_bytes:
            raise DataError(f"CSV upload {fname!r} exceeds the limit; {limit}")
        return data, fname, f"uploaded file {fname!r}"
    raise DataError(f"cannot load a CSV from a {type(source).__name__}; pass a path, bytes or a file object")


def _seekable(f: Any) -> bool:
    try:
        return bool(f.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _maybe_gunzip(raw: bytes | str, max_bytes: int, name: str) -> bytes | str:
    """Decompress gzip content (by magic bytes), refusing more than max_bytes of output."""
    if not isinstance(raw, bytes) or not raw.startswith(b"\x1f\x8b"):
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
            out = gz.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{name!r} looks gzip-compressed but cannot be decompressed ({e})") from e
    if len(out) > max_bytes:
        raise DataError(f"{name!r} decompresses to more than {max_bytes:,} bytes, the size limit")
    return out


def _decode(raw: bytes | str, notes: list[str], name: str) -> str:
    """bytes -> str: UTF-8 (BOM stripped), UTF-16 with BOM, else cp1252/latin-1; reject binary."""
    if isinstance(raw, str):
        text = raw.removeprefix("\ufeff")
    else:
        if raw.startswith(b"PK\x03\x04"):
            raise DataError(f"{name!r} is a ZIP archive (an Excel .xlsx?), not a CSV; export it as CSV first")
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            try:
                text = raw.decode("utf-16")
            except UnicodeDecodeError as e:
                raise DataError(f"{name!r} has a UTF-16 byte-order mark but is not valid UTF-16") from e
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                try:  # Windows-1252: latin-1 plus printable € „ " ' … in 0x80-0x9f
                    text = raw.decode("cp1252")
                    notes.append("file is not valid UTF-8; decoded as Windows-1252 (latin-1 superset)")
                except UnicodeDecodeError:
                    text = raw.decode("latin-1")
                    notes.append("file is not valid UTF-8; decoded as latin-1")
    if "\x00" in text:
        raise DataError(f"{name!r} contains NUL bytes: it is binary, not a text CSV")
    if text and _control_fraction(text) > 0.01:
        raise DataError(f"{name!r} looks binary (many control characters), not a text CSV")
    if not text.strip():
        raise DataError(f"{name!r} is empty: a CSV needs a header and at least {MIN_ROWS} data rows")
    return text


def _control_fraction(text: str) -> float:
    sample = text[:65536]
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n") or 0x7F <= ord(ch) < 0xA0)
    return bad / len(sample)


def _sniff_separator(text: str) -> str:
    """Pick the separator giving the most lines with the header's field count (>= 2)."""
    lines = [ln for ln in text[:65536].splitlines()[:60] if ln.strip()]
    if len(lines) > 1 and len(text) > 65536:
        lines = lines[:-1]  # the last sampled line may be cut in the middle
    best, best_key = "\x1f", (-1.0, 0, 0)  # single column: a separator that never occurs
    for rank, sep in enumerate(_SEPARATORS):
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=sep, quotechar='"')]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistency = sum(c == counts[0] for c in counts) / len(counts)
        key = (consistency, counts[0], -rank)
        if key > best_key:
            best, best_key = sep, key
    return best


def _read_table(text: str, sep: str, notes: list[str], name: str) -> list[np.ndarray]:
    """Parse text into columns of stripped strings ('' for missing); no header applied yet."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            table = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                header=None,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=True,
                skipinitialspace=True,
                quotechar='"',
                on_bad_lines="warn",
                engine="c",
            )
        except pd.errors.EmptyDataError as e:
            raise DataError(f"{name!r} is empty: a CSV needs a header and at least {MIN_ROWS} data rows") from e
        except (pd.errors.ParserError, ValueError, UnicodeError, csv.Error, OverflowError) as e:
            raise DataError(f"{name!r} is not a well-formed CSV: {str(e).strip()[:200]}") from e
    skipped = sum(str(w.message).count("Skipping line") for w in caught)
    if skipped:
        notes.append(f"skipped {skipped} malformed line(s) with more fields than the first line")
    cells = table.to_numpy(dtype=object)
    return [np.array([v.strip() if isinstance(v, str) else "" for v in cells[:, j]], dtype=object)
            for j in range(cells.shape[1])]


def _unique_names(names: list[str]) -> list[str]:
    """Stripped, non-empty, unique column names (column_N for blanks, _2 suffix for repeats)."""
    out: list[str] = []
    seen: set[str] = set()
    for i, n in enumerate(names):
        base = n.strip() or f"column_{i + 1}"
        cand, k = base, 2
        while cand in seen:
            cand, k = f"{base}_{k}", k + 1
        seen.add(cand)
        out.append(cand)
    return out


def _dataset_from_text(text: str, *, name: str, origin: str, time_col: str | None, notes: list[str]) -> Dataset:
    """The CSV pipeline after decoding: sniff, parse, header, time column, numbers, clean."""
    sep = _sniff_separator(text)
    cols = _read_table(text, sep, notes, name)
    if not cols or len(cols[0]) == 0:
        raise DataError(f"{name!r} is empty: a CSV needs a header and at least {MIN_ROWS} data rows")

    # header row (or generated names when the first row is already data)
    first = [str(c[0]) for c in cols]
    if _is_header_row(first):
        names = _unique_names(first)
        cols = [c[1:] for c in cols]
    else:
        names = [f"column_{i + 1}" for i in range(len(cols))]
        notes.append("first line looks like data, not a header; columns are named column_1, column_2, ...")
    # rows that are entirely empty (e.g. ";;;") carry nothing
    keep = np.zeros(len(cols[0]), dtype=bool)
    for c in cols:
        keep |= c != ""
    if not keep.any():
        raise DataError(
            f"{name!r} has a header but no data rows; it needs at least {MIN_ROWS} rows "
            f"(columns: {', '.join(names)})"
        )
    table = {n: _Column(c[keep]) for n, c in zip(names, cols)}

    # time column: explicit, by name, or by content
    tcol, times = _find_time_column(table, time_col, notes, name)

    # numeric columns (everything but the time column)
    eu_hint = sep == ";"  # ambiguous '1.234' / '1,234' read the European way only with ';'
    columns: dict[str, np.ndarray] = {}
    dropped: list[str] = []
    for col, raw in table.items():
        if col == tcol:
            continue
        values, note = raw.as_float(col, eu_hint)
        if values is None:
            dropped.append(col)
            continue
        if note:
            notes.append(note)
        columns[col] = values
    if dropped:
        notes.append(f"dropped non-numeric column(s): {', '.join(repr(c) for c in dropped)}")
    if not columns:
        raise DataError(
            f"{name!r} has no numeric column (a column needs >= {1 - _MAX_JUNK_FRACTION:.0%} numeric cells); "
            f"columns: {', '.join(names)}"
        )

    # the index: parsed times, or consecutive days when no time column was found
    if times is None:
        index = pd.date_range("2000-01-01", periods=int(keep.sum()), freq="D", unit="ns")
        notes.append("no time column found; rows are treated as consecutive steps (days from 2000-01-01)")
        frame = pd.DataFrame(columns, index=index)
    else:
        frame = pd.DataFrame(columns, index=pd.DatetimeIndex(times))
        bad = frame.index.isna()
        if bad.any():
            notes.append(f"dropped {int(bad.sum())} row(s) whose time in {tcol!r} could not be parsed")
            frame = frame[~bad]
    frame.index.name = "time"
    return _finish(frame, name=name, origin=origin, notes=notes, description=f"CSV file {name!r}")


def _finish(
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
    frame = _clean(frame, target, notes, strict=False, label=name)
    freq = _infer_freq(frame.index)
    if freq is None:
        notes.append(_irregular_note(frame.index))
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
    """A column named like a price/value (adj_close, close, ...) else the last usable column."""
    usable = [c for c in frame.columns if frame[c].notna().sum() >= MIN_ROWS and not _is_constant(frame[c])]
    if not usable:
        desc = ", ".join(f"{c!r}" for c in frame.columns)
        raise DataError(
            f"{name!r}: no column can be a target (each needs >= {MIN_ROWS} values and must not be "
            f"constant); columns: {desc}"
        )
    by_key = {_snake(c): c for c in usable}
    for key in _TARGET_NAMES:
        if key in by_key:
            return by_key[key]
    return usable[-1]


def _clean(frame: pd.DataFrame, target: str, notes: list[str], *, strict: bool, label: str) -> pd.DataFrame:
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
            parts.append(f"{first} leading row(s) before {_fmt_ts(frame.index[first])}")
        if last < len(frame) - 1:
            parts.append(f"{len(frame) - 1 - last} trailing row(s) after {_fmt_ts(frame.index[last])}")
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
    if _is_constant(frame[target]):
        raise DataError(
            f"target column {target!r} of {label!r} is constant ({frame[target].iloc[0]:g}); nothing to forecast"
        )
    return frame.astype("float64")


def _fmt_ts(ts: pd.Timestamp) -> str:
    return str(ts.date()) if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M:%S")


def _is_constant(s: pd.Series) -> bool:
    v = s.to_numpy(dtype="float64")
    v = v[np.isfinite(v)]
    return v.size == 0 or bool(v.max() == v.min())


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


# -- numbers ------------------------------------------------------------------
# Every cell is read both ways, '1,234.5' (US) and '1.234,5' (European); a column then
# takes the convention its unambiguous cells vote for. String work goes through the
# _s_* helpers: plain Python for small columns (pandas' per-call overhead dominates
# there), pandas/Arrow string kernels for large ones. Patterns use [0-9], not \d, so both
# engines (Python re, RE2) agree.

_US_NUM = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
_EU_NUM = re.compile(r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]*)(?:,[0-9]*)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
_EU_AMBIGUOUS = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+(?:[eE][+-]?[0-9]+)?", re.ASCII)  # 1.234 or 1234?
_GROUP_SPACE = re.compile("(?<=[0-9])[ \u00a0\u202f'](?=[0-9]{3}(?![0-9]))", re.ASCII)  # 1 234,5 / 1'234.5
_GROUP_SPACE_HINT = re.compile("[ \u00a0\u202f']")
_CURRENCY = re.compile(r"^([+-]?)[$€£¥][ ]*|[ ]*[%$€£¥]$", re.ASCII)
_CURRENCY_HINT = re.compile(r"[$€£¥%]")
_DIGIT = re.compile(r"[0-9]", re.ASCII)
_DOT, _COMMA = re.compile(r"\."), re.compile(",")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?", re.ASCII)
_SMALL = 4096  # columns shorter than this use plain Python string operations


def _s_search(text: np.ndarray, pattern: re.Pattern[str]) -> np.ndarray:
    if len(text) < _SMALL:
        return np.fromiter((pattern.search(v) is not None for v in text), dtype=bool, count=len(text))
    return _bool(pd.Series(text, dtype="string").str.contains(pattern.pattern, regex=True))


def _s_fullmatch(text: np.ndarray, pattern: re.Pattern[str]) -> np.ndarray:
    if len(text) < _SMALL:
        return np.fromiter((pattern.fullmatch(v) is not None for v in text), dtype=bool, count=len(text))
    return _bool(pd.Series(text, dtype="string").str.fullmatch(pattern.pattern))


def _s_sub(text: np.ndarray, pattern: re.Pattern[str], repl: str, hint: re.Pattern[str] | None = None) -> np.ndarray:
    """pattern.sub on every value (only where ``hint`` matches, when given)."""
    out = text.copy()
    where = _s_search(text, hint) if hint is not None else np.ones(len(text), dtype=bool)
    if not where.any():
        return out
    part = text[where]
    if len(part) < _SMALL:
        out[where] = np.array([pattern.sub(repl, v) for v in part], dtype=object)
    else:
        out[where] = pd.Series(part, dtype="string").str.replace(pattern.pattern, repl, regex=True).to_numpy(dtype=object)
    return out


def _s_lower_in(text: np.ndarray, tokens: frozenset[str]) -> np.ndarray:
    if len(text) < _SMALL:
        return np.fromiter((v.lower() in tokens for v in text), dtype=bool, count=len(text))
    return _bool(pd.Series(text, dtype="string").str.lower().isin(list(tokens)))


def _to_float(text: np.ndarray) -> np.ndarray:
    """Strings -> float64 (pandas' C parser), NaN where a string is not a number."""
    if len(text) == 0:
        return np.empty(0, dtype="float64")
    try:
        return np.asarray(pd.to_numeric(pd.Series(text, dtype=object), errors="coerce"), dtype="float64")
    except (ValueError, TypeError, OverflowError):
        return np.array([_float_or_nan(v) for v in text], dtype="float64")


def _float_or_nan(v: str) -> float:
    try:
        return float(pd.to_numeric(v))
    except (ValueError, TypeError, OverflowError):
        return np.nan


def _bool(values: pd.Series) -> np.ndarray:
    """A (nullable) boolean Series as a plain numpy bool array, NA -> False."""
    return values.to_numpy(dtype=bool, na_value=False)


class _Column:
    """One raw CSV column: stripped strings; its numeric readings are computed on demand.

    ``missing``: empty or an NA token ('nan', 'NA', '-', ...). ``us`` / ``eu``: float64
    values read with '.' decimal and ',' thousands, resp. ',' decimal and '.' thousands
    (NaN where a cell is not a number that way). Plain numbers ('12', '-1.5e3', 'inf')
    take pandas' C parser; the rest is matched against both patterns.
    """

    def __init__(self, text: np.ndarray) -> None:
        self.text = text

    @functools.cached_property
    def missing(self) -> np.ndarray:
        return _s_lower_in(self.text, _NA_TOKENS)

    @functools.cached_property
    def _numbers(self) -> tuple[np.ndarray, np.ndarray]:
        text = self.text
        fast = _to_float(text)
        dotted = _s_search(text, _DOT)
        us, eu = fast.copy(), np.where(dotted, np.nan, fast)
        # '1.234' is 1.234 read US-style but 1234 read European-style
        plain_dotted = np.flatnonzero(dotted & ~np.isnan(fast))
        if plain_dotted.size:
            amb = plain_dotted[_s_fullmatch(text[plain_dotted], _EU_AMBIGUOUS)]
            eu[amb] = _to_float(_s_sub(text[amb], _DOT, ""))
        # the rest (grouping commas, decimal commas, currency, junk): both patterns
        rest = np.flatnonzero(np.isnan(fast) & ~self.missing)
        if rest.size:
            sub = _s_sub(text[rest], _GROUP_SPACE, "", hint=_GROUP_SPACE_HINT)
            sub = _s_sub(sub, _CURRENCY, r"\1", hint=_CURRENCY_HINT)
            has_digit = _s_search(sub, _DIGIT)
            us_ok = has_digit & _s_fullmatch(sub, _US_NUM)
            eu_ok = has_digit & _s_fullmatch(sub, _EU_NUM)
            us[rest] = np.where(us_ok, _to_float(_s_sub(sub, _COMMA, "")), np.nan)
            eu[rest] = np.where(eu_ok, _to_float(_s_sub(_s_sub(sub, _DOT, ""), _COMMA, ".")), np.nan)
        return us, eu

    @property
    def us(self) -> np.ndarray:
        return self._numbers[0]

    @property
    def eu(self) -> np.ndarray:
        return self._numbers[1]

    @property
    def n_present(self) -> int:
        return int((~self.missing).sum())

    def numeric_fraction(self) -> float:
        """Fraction of non-missing cells that read as numbers (either convention)."""
        n = self.n_present
        ok = (~np.isnan(self.us) | ~np.isnan(self.eu)) & ~self.missing
        return float(ok.sum()) / n if n else 0.0

    def as_float(self, col: str, eu_hint: bool) -> tuple[np.ndarray | None, str]:
        """float64 values (None when the column is not numeric) and a note on what changed."""
        present = ~self.missing
        n_present = int(present.sum())
        if n_present == 0:
            return None, ""
        us_ok, eu_ok = ~np.isnan(self.us) & present, ~np.isnan(self.eu) & present
        us_only, eu_only = int((us_ok & ~eu_ok).sum()), int((eu_ok & ~us_ok).sum())
        eu = eu_only > us_only or (eu_only == us_only and eu_hint)
        values = (self.eu if eu else self.us).copy()
        values[self.missing] = np.nan
        junk = present & np.isnan(values)
        n_junk = int(junk.sum())
        if n_junk / n_present > _MAX_JUNK_FRACTION:
            return None, ""
        notes = []
        if eu and _s_search(self.text[present], _COMMA).any():
            notes.append(f"column {col!r}: read ',' as the decimal separator")
        if n_junk:
            examples = ", ".join(repr(str(v)) for v in list(dict.fromkeys(self.text[junk][:1000]))[:3])
            notes.append(f"column {col!r}: {n_junk} non-numeric value(s) set to missing (e.g. {examples})")
        return values, "; ".join(notes)


def _is_header_row(cells: list[str]) -> bool:
    """The first row is a header unless every non-empty cell is a number or a date."""
    filled = [c for c in cells if c]
    if not filled or any(not _DIGIT.search(c) for c in filled):
        return True  # a cell without any digit is neither a number nor a date
    col = _Column(np.array(filled, dtype=object))
    if col.missing.any():
        return True
    numeric = ~np.isnan(col.us) | ~np.isnan(col.eu)
    for c in np.array(filled, dtype=object)[~numeric]:
        if _best_date_parse(np.array([c], dtype=object), by_name=False)[1] < 1.0:
            return True
    return False


# -- time ---------------------------------------------------------------------

_DATE_METHODS: tuple[dict[str, Any], ...] = (
    {},  # format inferred from the first value
    {"format": "ISO8601"},
    {"dayfirst": True},  # 31.12.2020, 31/12/2020
    {"format": "mixed"},  # each value on its own (slowest; tried last)
)


_DOTTED_DATE = re.compile(r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{2,4}\b")


def _to_datetime(values: np.ndarray, kw: dict[str, Any]) -> tuple[np.ndarray, bool]:
    """pd.to_datetime with NaT for failures; tz-aware -> UTC naive. Returns (datetime64[ns], had_tz)."""
    s = pd.Series(values, dtype=object)
    nat = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = pd.to_datetime(s, errors="coerce", **kw)
            if not pd.api.types.is_datetime64_any_dtype(out.dtype):  # mixed offsets, old pandas
                raise ValueError("mixed time zones")
        except (ValueError, TypeError, OverflowError):
            try:
                out = pd.to_datetime(s, errors="coerce", utc=True, **kw)
            except (ValueError, TypeError, OverflowError):
                return nat, False
    had_tz = isinstance(out.dtype, pd.DatetimeTZDtype)
    if had_tz:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    out = out.where((out >= _TS_LO) & (out <= _TS_HI))  # keep within datetime64[ns] range
    return out.to_numpy(dtype="datetime64[ns]"), had_tz


def _best_date_parse(text: np.ndarray, *, by_name: bool) -> tuple[dict[str, Any] | None, float]:
    """Pick the date-parsing method that parses most of a sample; returns (kwargs, fraction)."""
    present = [v for v in text[:2000] if v.lower() not in _NA_TOKENS][:400]
    if not present:
        return None, 0.0
    sample = np.array(present, dtype=object)
    if all(_PLAIN_NUMBER.fullmatch(v) for v in present):
        # plain numbers are dates only in a time-named column: years or yyyymmdd
        if by_name and all(re.fullmatch(r"[12]\d{3}", v) for v in present):
            return {"format": "%Y"}, 1.0
        if by_name and all(re.fullmatch(r"[12]\d{3}[01]\d[0-3]\d", v) for v in present):
            kw = {"format": "%Y%m%d"}
            return kw, float((~np.isnat(_to_datetime(sample, kw)[0])).mean())
        return None, 0.0
    if not any(_DIGIT.search(v) for v in present):
        return None, 0.0  # words alone ('monday', 'march') would parse relative to today
    methods = _DATE_METHODS
    if all(_DOTTED_DATE.match(v) for v in present):  # 01.02.2020 is always day-first
        methods = ({"dayfirst": True}, *_DATE_METHODS)
    best, best_frac = None, 0.0
    for kw in methods:
        frac = float((~np.isnat(_to_datetime(sample, kw)[0])).mean())
        if frac > best_frac:
            best, best_frac = kw, frac
        if best_frac == 1.0:
            break
    return best, best_frac


def _find_time_column(
    table: dict[str, _Column], time_col: str | None, notes: list[str], name: str
) -> tuple[str | None, np.ndarray | None]:
    """Return (column name, parsed datetime64[ns] values) or (None, None).

    Order: the explicit ``time_col`` (must parse for >= 50% of rows, else DataError); a
    column named date/time/datetime/timestamp/ds/... (>= 50%); the first non-numeric
    column that parses as dates for > 90% of rows.
    """
    cols = list(table)

    def parse(col: str, kw: dict[str, Any]) -> np.ndarray:
        values, had_tz = _to_datetime(table[col].text, kw)
        if had_tz:
            notes.append(f"timezone-aware timestamps in {col!r} converted to UTC and made naive")
        return values

    def share(col: str, frac_present: float) -> float:  # parsed fraction of *all* rows
        c = table[col]
        return frac_present * c.n_present / max(len(c.text), 1)

    if time_col is not None:
        match = [c for c in cols if c == time_col] or [c for c in cols if c.lower() == str(time_col).strip().lower()]
        if not match:
            raise DataError(f"time column {time_col!r} not found in {name!r}; columns: {', '.join(cols)}")
        col = match[0]
        kw, frac = _best_date_parse(table[col].text, by_name=True)
        if kw is None or share(col, frac) < _NAMED_TIME_MIN_FRACTION:
            raise DataError(
                f"time column {col!r} of {name!r} does not parse as dates "
                f"(needs >= {_NAMED_TIME_MIN_FRACTION:.0%} of rows, got {share(col, frac):.0%})"
            )
        return col, parse(col, kw)

    for col in cols:  # by name
        if _snake(col) in _TIME_NAMES:
            kw, frac = _best_date_parse(table[col].text, by_name=True)
            if kw is not None and share(col, frac) >= _NAMED_TIME_MIN_FRACTION:
                return col, parse(col, kw)
            notes.append(f"column {col!r} is named like a time column but does not parse as dates")
    for col in cols:  # by content: text columns where > 90% of rows are dates
        if table[col].numeric_fraction() > 0.5:
            continue
        kw, frac = _best_date_parse(table[col].text, by_name=False)
        if kw is not None and share(col, frac) > _CONTENT_TIME_MIN_FRACTION:
            return col, parse(col, kw)
    return None, None


def _infer_freq(index: pd.DatetimeIndex) -> str | None:
    """pandas offset alias of a regular index ('D', 'h', 'MS', 'W-SUN', ...) or None."""
    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            f = pd.infer_freq(index)
        except (TypeError, ValueError):
            return None
    if f is None:
        return None
    return str(getattr(f, "freqstr", f))


def _irregular_note(index: pd.DatetimeIndex) -> str:
    """Explain a None freq; trading-day calendars get a more specific message."""
    steps = np.diff(index.asi8)
    day = 86_400 * 10**9
    if len(steps) and (index.day_of_week < 5).all() and (steps % day == 0).all() and steps.max() <= 10 * day:
        return "irregular spacing (trading days: weekends and holidays skipped); windows assume equal steps"
    return "irregular spacing; windows assume equal steps"


def _freq_words(freq: str | None, index: pd.DatetimeIndex) -> str:
    words = {"D": "daily", "h": "hourly", "B": "business days", "MS": "monthly", "ME": "monthly",
             "min": "minutely", "s": "secondly", "QS": "quarterly", "QE": "quarterly", "YS": "yearly", "YE": "yearly"}
    if freq is None:
        trading = "trading days" in _irregular_note(index)
        return "trading days (irregular)" if trading else "irregular"
    base = freq.split("-")[0].lstrip("0123456789")
    if base == "W":
        return f"weekly ({freq})"
    return f"{words.get(base, freq)} ({freq})"


# -----------------------------------------------------------------------------
# Yahoo Finance (optional, online)

_TICKER_RE = re.compile(r"^[A-Za-z0-9.^=\-]{1,24}$")


def _cache_dir(cache_dir: str | Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("RNNLAB_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "yfinance"
    return Path.home() / ".cache" / "rnnlab" / "yfinance"


def fetch_yfinance(
    ticker: str,
    start: str | None = None,
    end: str | None = None,
    *,
    timeout: float = 15.0,
    cache_dir: str | Path | None = None,
) -> Dataset:
    """Daily prices of ``ticker`` from Yahoo Finance, with a hard deadline and a disk cache.

    The download runs in a daemon thread; after ``timeout`` seconds we give up (a dead
    network can otherwise block for minutes). Successful downloads are cached as csv.gz
    (``cache_dir``, else $RNNLAB_CACHE_DIR/yfinance, else ~/.cache/rnnlab/yfinance); when
    the live fetch fails the cached copy is used with a warning. ``start``/``end`` are
    dates (YYYY-MM-DD); no start means the full history.
    """
    ticker = str(ticker).strip().upper()
    if not _TICKER_RE.fullmatch(ticker):
        raise DataError(f"invalid ticker {ticker!r}: use letters, digits and . ^ = - only (e.g. AAPL, ^GSPC)")
    start_ts = _parse_date_arg(start, "start")
    end_ts = _parse_date_arg(end, "end")
    if start_ts is not None and end_ts is not None and start_ts >= end_ts:
        raise DataError(f"start {start} must be before end {end}")
    name = f"yf:{ticker}"
    cache = _cache_dir(cache_dir) / (
        f"{ticker.replace('^', '_')}_{start_ts.date() if start_ts is not None else 'min'}_"
        f"{end_ts.date() if end_ts is not None else 'max'}.csv.gz"
    )
    hint = "use a built-in dataset such as sp500 (offline)"
    try:
        raw = _download_with_deadline(ticker, start_ts, end_ts, timeout)
        frame = _tidy_yfinance(raw, ticker, start_ts, end_ts)
    except DataError as e:
        failure = str(e)
        if cache.is_file():
            try:
                frame = pd.read_csv(cache, index_col="time", parse_dates=["time"])
            except (OSError, ValueError, EOFError, zlib.error, pd.errors.ParserError):
                raise DataError(f"{failure}; the cached copy {cache} is unreadable; {hint}") from e
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(cache.stat().st_mtime))
            notes = [f"live download failed ({failure}); using the cached copy from {stamp}"]
            return _finish(frame, name=name, origin=f"Yahoo Finance via yfinance (cached {stamp})",
                           notes=notes, description=f"{ticker} daily prices (Yahoo Finance)",
                           licence="Yahoo Finance terms of use (personal use)", target=_yf_target(frame))
        raise DataError(f"{failure}; {hint}") from e
    _write_cache(frame, cache)
    return _finish(frame, name=name, origin="Yahoo Finance via yfinance", notes=[],
                   description=f"{ticker} daily prices (Yahoo Finance)",
                   licence="Yahoo Finance terms of use (personal use)", target=_yf_target(frame))


def _parse_date_arg(value: str | None, what: str) -> pd.Timestamp | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        ts = pd.Timestamp(str(value).strip())
    except (ValueError, TypeError, OverflowError) as e:
        raise DataError(f"{what} date {value!r} is not a date (use YYYY-MM-DD)") from e
    if ts is pd.NaT or pd.isna(ts):
        raise DataError(f"{what} date {value!r} is not a date (use YYYY-MM-DD)")
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def _download_with_deadline(
    ticker: str, start: pd.Timestamp | None, end: pd.Timestamp | None, timeout: float
) -> pd.DataFrame:
    """Run yfinance in a daemon thread; DataError on timeout, exception or missing package."""
    try:
        import yfinance as yf  # optional dependency, imported only here
    except ImportError as e:
        raise DataError("yfinance is not installed (pip install yfinance)") from e

    box: dict[str, Any] = {}

    def work() -> None:
        try:
            kw: dict[str, Any] = {"auto_adjust": False}
            if start is None:
                kw["period"] = "max"  # yfinance's own default would be one month
            else:
                kw["start"] = start.strftime("%Y-%m-%d")
                if end is not None:
                    kw["end"] = end.strftime("%Y-%m-%d")
            box["frame"] = yf.Ticker(ticker).history(**kw)
        except BaseException as e:  # noqa: BLE001 - reported to the caller as DataError
            box["error"] = e

    worker = threading.Thread(target=work, name=f"yfinance-{ticker}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise DataError(f"could not download {ticker!r} from Yahoo Finance (offline?): no answer within {timeout:g} s")
    if "error" in box:
        err = box["error"]
        raise DataError(
            f"could not download {ticker!r} from Yahoo Finance (offline?): {type(err).__name__}: {str(err)[:200]}"
        )
    frame = box.get("frame")
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise DataError(f"could not download {ticker!r} from Yahoo Finance: no rows (unknown ticker or offline?)")
    return frame


def _tidy_yfinance(raw: pd.DataFrame, ticker: str, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """yfinance frame -> lower_snake float columns on a tz-naive index named time."""
    frame = raw.copy()
    if isinstance(frame.columns, pd.MultiIndex):  # yf.download style (field, ticker)
        frame.columns = frame.columns.get_level_values(0)
    frame.columns = [_snake(c) for c in frame.columns]
    frame = frame.drop(columns=[c for c in ("dividends", "stock_splits", "capital_gains") if c in frame.columns])
    keep = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    frame = frame[keep]
    try:
        idx = pd.DatetimeIndex(frame.index)
    except (ValueError, TypeError) as e:
        raise DataError(f"Yahoo Finance returned an unusable index for {ticker!r}") from e
    if idx.tz is not None:
        idx = idx.tz_localize(None)  # daily bars: keep the exchange's calendar date
    frame.index = idx.as_unit("ns")
    frame.index.name = "time"
    if end is not None:
        frame = frame[frame.index < end]
    if frame.empty or frame.shape[1] == 0:
        raise DataError(f"could not download {ticker!r} from Yahoo Finance: no price rows in the requested range")
    return frame.astype("float64")


def _yf_target(frame: pd.DataFrame) -> str | None:
    for c in ("adj_close", "close"):
        if c in frame.columns and frame[c].notna().sum() >= MIN_ROWS:
            return c
    return None


def _write_cache(frame: pd.DataFrame, path: Path) -> None:
    """Best-effort cache write (atomic rename); an unwritable cache dir is not an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with gzip.open(tmp, "wt", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index_label="time")
        os.replace(tmp, path)
    except OSError:
        pass


# -----------------------------------------------------------------------------
# one entry point for the CLI and the dashboard


def load_dataset(spec: str, *, time_col: str | None = None) -> Dataset:
    """Load by spec: a built-in name, a CSV path (.csv/.csv.gz) or 'yf:TICKER[:START[:END]]'."""
    spec = str(spec).strip()
    if spec.lower().startswith("yf:"):
        parts = spec[3:].split(":")
        if len(parts) > 3 or not parts[0]:
            raise DataError(f"bad Yahoo spec {spec!r}; use yf:TICKER or yf:TICKER:START:END (dates YYYY-MM-DD)")
        parts += [""] * (3 - len(parts))
        return fetch_yfinance(parts[0], parts[1] or None, parts[2] or None)
    if spec in _BUILTINS:
        return load_builtin(spec)
    path = Path(spec).expanduser()
    if path.is_file():
        return load_csv(path, time_col=time_col)
    raise DataError(
        f"unknown dataset {spec!r}: not a built-in ({', '.join(_BUILTINS)}), not an existing CSV file, "
        "and not yf:TICKER"
    )
