"""User CSV files: bytes -> text -> string table -> numeric frame -> Dataset."""

from __future__ import annotations

import csv
import gzip
import io
import os
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnlab.data.csv_columns import MAX_JUNK_FRACTION, Column, find_time_column, is_header_row
from rnnlab.data.dataset import MIN_ROWS, STEP_CLOCK_START, Dataset, finish_dataset
from rnnlab.errors import DataError

MAX_CSV_BYTES = 50 * 1024 * 1024  # stated upload/file size limit (compressed and decompressed)


_SEPARATORS = (",", ";", "\t", "|")


def load_csv(
    source: Any,
    *,
    name: str | None = None,
    time_col: str | None = None,
    max_bytes: int = MAX_CSV_BYTES,
    dayfirst: bool | None = None,
) -> Dataset:
    """Load a user CSV (path, bytes, or binary/text file-like such as a Streamlit upload).

    Handles UTF-8 (with or without BOM), UTF-16 (with or without BOM) and latin-1; separators , ; tab |
    (sniffed); decimal commas and thousands separators; gzip. The time column is
    ``time_col`` or auto-detected (a column named date/time/datetime/timestamp/ds/...,
    else the first column parsing as dates for >90% of rows; else rows are numbered steps
    with no calendar, ``Dataset.steps``). Numeric dates (31/12/2020 or 12/31/2020) are read day-first or
    month-first as all rows decide (:func:`~rnnlab.data.csv_columns.numeric_date_order`);
    ``dayfirst`` True/False forces a reading. Returns a Dataset or raises DataError; never
    anything else.
    """
    raw, default_name, origin = _read_source(source, max_bytes)
    name = name or default_name
    raw = _maybe_gunzip(raw, max_bytes, name)
    notes: list[str] = []
    text = _decode(raw, notes, name)
    return _dataset_from_text(text, name=name, origin=origin, time_col=time_col, notes=notes, dayfirst=dayfirst)


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
        elif (enc := _bomless_utf16(raw)) is not None:
            text = raw.decode(enc)
            notes.append(f"file has no byte-order mark but is {enc.upper()}; decoded as such")
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


def _bomless_utf16(raw: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' for UTF-16 text written without a byte-order mark (every other byte
    NUL, as ASCII text in UTF-16 is), else None."""
    sample = raw[:65536]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    sample = sample[: len(sample) // 2 * 2]
    even, odd = sample[0::2], sample[1::2]
    for enc, zeros in (("utf-16-le", odd), ("utf-16-be", even)):
        if zeros.count(0) >= 0.9 * len(zeros):
            try:
                text = raw.decode(enc)
            except UnicodeDecodeError:
                return None
            return enc if "\x00" not in text and _control_fraction(text) <= 0.01 else None
    return None


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


def column_names(source: Any, *, name: str | None = None, max_bytes: int = MAX_CSV_BYTES) -> list[str]:
    """The column names :func:`load_csv` will use for this CSV (for a time-column picker): the
    same reading, decoding, separator and header rules, on the first lines only."""
    raw, default_name, _ = _read_source(source, max_bytes)
    name = name or default_name
    text = _decode(_maybe_gunzip(raw, max_bytes, name), [], name)
    head = "\n".join(text.splitlines()[:200])
    sep = _sniff_separator(head)
    names, _ = _header(_read_table(head, sep, [], name), [], name)
    return names


def _header(cols: list[np.ndarray], notes: list[str], name: str) -> tuple[list[str], list[np.ndarray]]:
    """The column names and the data cells: the first row when it is a header, else generated names."""
    if not cols or len(cols[0]) == 0:
        raise DataError(f"{name!r} is empty: a CSV needs a header and at least {MIN_ROWS} data rows")
    first = [str(c[0]) for c in cols]
    if is_header_row(first):
        return _unique_names(first), [c[1:] for c in cols]
    notes.append("first line looks like data, not a header; columns are named column_1, column_2, ...")
    return [f"column_{i + 1}" for i in range(len(cols))], cols


def _dataset_from_text(text: str, *, name: str, origin: str, time_col: str | None, notes: list[str],
                       dayfirst: bool | None = None) -> Dataset:
    """The CSV pipeline after decoding: sniff, parse, header, time column, numbers, clean."""
    sep = _sniff_separator(text)
    names, cols = _header(_read_table(text, sep, notes, name), notes, name)
    # rows that are entirely empty (e.g. ";;;") carry nothing
    keep = np.zeros(len(cols[0]), dtype=bool)
    for c in cols:
        keep |= c != ""
    if not keep.any():
        raise DataError(
            f"{name!r} has a header but no data rows; it needs at least {MIN_ROWS} rows "
            f"(columns: {', '.join(names)})"
        )
    table = {n: Column(c[keep]) for n, c in zip(names, cols)}

    # time column: explicit, by name, or by content
    tcol, times = find_time_column(table, time_col, notes, name, dayfirst)

    # numeric columns (everything but the time column)
    eu_hint = sep == ";"  # ambiguous '1.234' / '1,234' read the European way only with ';'
    columns: dict[str, np.ndarray] = {}
    dropped: list[str] = []
    why: dict[str, str] = {}
    for col, raw in table.items():
        if col == tcol:
            continue
        values, note = raw.as_float(col, eu_hint)
        if values is None:
            dropped.append(col)
            why[col] = ("has no values (every cell empty)" if raw.n_present == 0 else
                        "holds true/false values, not numbers" if _is_boolean(raw.text) else
                        f"is not numeric (more than {MAX_JUNK_FRACTION:.0%} of its cells are text, "
                        f"e.g. {next((v for v in raw.text if v), '')!r})")
            continue
        if note:
            notes.append(note)
        columns[col] = values
    if dropped:
        notes.append(f"dropped non-numeric column(s): {', '.join(repr(c) for c in dropped)}")
    if not columns:
        raise DataError(
            f"{name!r} has no numeric column (a column needs >= {1 - MAX_JUNK_FRACTION:.0%} numeric cells); "
            f"columns: {', '.join(names)}"
        )

    # the index: parsed times, or numbered steps (on a placeholder clock, shown as steps) without a time column
    if times is None:
        index = pd.date_range(STEP_CLOCK_START, periods=int(keep.sum()), freq="s", unit="ns")
        notes.append(f"no time column found: rows are numbered steps 0 to {len(index) - 1:,} in file order, with no "
                     "calendar and no season")
        frame = pd.DataFrame(columns, index=index)
    else:
        frame = pd.DataFrame(columns, index=pd.DatetimeIndex(times))
        bad = frame.index.isna()
        if bad.any():
            notes.append(f"dropped {int(bad.sum())} row(s) whose time in {tcol!r} could not be parsed")
            frame = frame[~bad]
    frame.index.name = "time"
    return finish_dataset(frame, name=name, origin=origin, notes=notes, description=f"CSV file {name!r}",
                          steps=times is None, dropped=why)


_BOOLEAN = frozenset({"true", "false", "yes", "no", "t", "f", "y", "n"})


def _is_boolean(text: np.ndarray) -> bool:
    present = [str(v).lower() for v in text[:2000] if v]
    return bool(present) and all(v in _BOOLEAN for v in present)
