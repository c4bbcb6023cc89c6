"""Tests of the data layer: built-in snapshots, the CSV loader's rules, select, yfinance.

All offline and fast; yfinance is replaced by a fake module in sys.modules.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import re
import sys
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab import data as rd
from rnnlab.data import (
    MIN_ROWS,
    Dataset,
    DatasetInfo,
    fetch_yfinance,
    list_datasets,
    load_builtin,
    load_csv,
    load_dataset,
)
from rnnlab.errors import DataError, RnnlabError

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

# name -> (columns, default target, freq, rows)
BUILTINS = {
    "sp500": (["open", "high", "low", "close", "adj_close", "volume"], "adj_close", "B", 5031),
    "nasdaq": (["open", "high", "low", "close", "adj_close", "volume"], "adj_close", "B", 5031),
    "seattle-weather": (["precipitation", "temp_max", "temp_min", "wind"], "temp_max", "D", 1461),
    "seattle-temps": (["temp"], "temp", "h", 8760),
    "sf-temps": (["temp"], "temp", "h", 8760),
    "stocks-monthly": (["aapl", "amzn", "goog", "ibm", "msft"], "msft", "MS", 123),
    "stocks-daily": (["aapl", "goog", "ibm", "msft"], "aapl", "B", 3270),
}


def assert_valid(ds: Dataset, *, strict: bool = False) -> None:
    """The Dataset invariants every loader promises (strict: no NaN anywhere, as after select)."""
    f = ds.frame
    assert isinstance(f.index, pd.DatetimeIndex) and f.index.name == "time"
    assert f.index.tz is None
    assert f.index.is_monotonic_increasing and f.index.is_unique
    assert not f.index.isna().any()
    assert len(f) >= MIN_ROWS
    assert all(dt == np.float64 for dt in f.dtypes)
    assert not np.isinf(f.to_numpy()).any()
    assert ds.target in f.columns and ds.columns == list(f.columns)
    assert not f[ds.target].isna().any()
    assert f[ds.target].nunique() > 1
    if strict:
        assert not f.isna().any().any()
    else:  # NaN only at the edges of non-target columns
        for c in f.columns:
            valid = f[c].notna().to_numpy()
            if valid.any():
                first, last = valid.argmax(), len(valid) - 1 - valid[::-1].argmax()
                assert valid[first : last + 1].all(), c
    assert ds.freq is None or isinstance(ds.freq, str)
    assert all(isinstance(w, str) for w in ds.warnings)


def csv_bytes(header: str, rows: list[str], sep: str = ",", encoding: str = "utf-8") -> bytes:
    return (header + "\n" + "\n".join(rows) + "\n").encode(encoding)


def daily_rows(n: int = 20, sep: str = ",", fmt=lambda i: f"{i * 1.5}") -> list[str]:
    days = pd.date_range("2021-01-01", periods=n, freq="D")
    return [f"{d.date()}{sep}{fmt(i)}" for i, d in enumerate(days)]


def has_warning(ds: Dataset, pattern: str) -> bool:
    return any(re.search(pattern, w, re.IGNORECASE) for w in ds.warnings)


# -----------------------------------------------------------------------------
# built-ins


@pytest.mark.parametrize("name", list(BUILTINS))
def test_builtin_loads_with_documented_layout(name: str) -> None:
    cols, target, freq, rows = BUILTINS[name]
    ds = load_builtin(name)
    assert_valid(ds)
    assert ds.name == name and ds.columns == cols and ds.target == target
    assert ds.freq == freq and len(ds.frame) == rows
    assert ds.source and ds.licence and ds.description
    assert ds.warnings == []
    if name not in ("stocks-monthly", "stocks-daily"):
        assert not ds.frame.isna().any().any()


def test_list_datasets_lists_every_builtin() -> None:
    infos = list_datasets()
    assert [i.name for i in infos] == list(BUILTINS)
    for info in infos:
        assert isinstance(info, DatasetInfo)
        cols, target, _, rows = BUILTINS[info.name]
        assert info.columns == tuple(cols) and info.target == target and info.rows == rows
        assert info.frequency and info.source and info.licence
    by_name = {i.name: i for i in infos}
    assert by_name["sp500"].frequency == "business days (B)"  # trading days: weekends and holidays skipped
    assert by_name["seattle-temps"].frequency == "hourly (h)"


def test_builtin_cache_cannot_be_corrupted_by_callers() -> None:
    a = load_builtin("seattle-weather")
    fp = a.fingerprint()
    a.frame.iloc[:, :] = 0.0
    a.warnings.append("mutated")
    b = load_builtin("seattle-weather")
    assert b.fingerprint() == fp and b.warnings == []


def test_fingerprint_is_stable_and_sensitive() -> None:
    a, b = load_builtin("stocks-monthly"), load_builtin("stocks-monthly")
    assert a.fingerprint() == b.fingerprint()
    assert re.fullmatch(r"[0-9a-f]{64}", a.fingerprint())
    b.frame.iloc[3, 0] += 1e-9
    assert a.fingerprint() != b.fingerprint()
    assert a.select("msft").fingerprint() != a.fingerprint()


def test_unknown_builtin_lists_valid_names() -> None:
    with pytest.raises(DataError, match="sp500.*seattle-weather"):
        load_builtin("sp5000")


def _sources_table() -> dict[str, dict[str, str]]:
    text = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    first_table = text[text.index("\n| ") + 1 :].split("\n\n")[0]  # the series table (corpora follow later)
    lines = [ln for ln in first_table.splitlines() if ln.startswith("| ")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    rows = {}
    for ln in lines[1:]:
        cells = [c.strip().strip("`") for c in ln.strip().strip("|").split("|")]
        rows[cells[0]] = dict(zip(header, cells))
    return rows


def test_snapshot_checksums_match_sources_md() -> None:
    table = _sources_table()
    assert set(table) == set(BUILTINS)
    for name, row in table.items():
        path = DATA / row["file"]
        assert path.stat().st_size < 1024 * 1024, f"{path.name} should stay under 1 MiB"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"], f"{path.name} was edited"
        assert int(row["rows"]) == BUILTINS[name][3]


# -----------------------------------------------------------------------------
# CSV: encodings, separators, numbers


def test_csv_plain_utf8_from_path_bytes_filelike_and_text(tmp_path: Path) -> None:
    blob = csv_bytes("date,value", daily_rows())
    path = tmp_path / "prices.csv"
    path.write_bytes(blob)

    class Upload(io.BytesIO):  # what Streamlit's UploadedFile looks like
        name = "upload.csv"

    up = Upload(blob)
    up.read(5)  # a previous reader moved the position; we read from the start anyway
    results = [
        load_csv(path),
        load_csv(str(path)),
        load_csv(blob),
        load_csv(up),
        load_csv(io.StringIO(blob.decode())),
        load_dataset(str(path)),
    ]
    for ds in results:
        assert_valid(ds, strict=True)
        assert ds.columns == ["value"] and ds.freq == "D" and len(ds.frame) == 20
        assert ds.frame["value"].iloc[3] == 4.5
    assert results[0].name == "prices.csv" and results[3].name == "upload.csv"
    assert load_csv(blob, name="mine").name == "mine"
    assert len({ds.fingerprint() for ds in results}) == 1


def test_csv_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(csv_bytes("date,value", daily_rows())))
    assert_valid(load_dataset(str(path)))


def test_csv_utf8_bom_and_latin1_and_utf16() -> None:
    bom = b"\xef\xbb\xbf" + csv_bytes("date,value", daily_rows())
    ds = load_csv(bom)
    assert ds.columns == ["value"] and ds.warnings == []

    latin = csv_bytes("date,température", daily_rows(), encoding="latin-1")
    ds = load_csv(latin)
    assert ds.columns == ["température"]
    assert has_warning(ds, "latin-1")

    cp1252 = csv_bytes("date;Preis €", daily_rows(sep=";"), encoding="cp1252")
    ds = load_csv(cp1252)
    assert ds.columns == ["Preis €"] and has_warning(ds, "Windows-1252")

    utf16 = csv_bytes("date\tvalue", daily_rows(sep="\t")).decode().encode("utf-16")
    assert load_csv(utf16).columns == ["value"]


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_separators_are_sniffed(sep: str) -> None:
    rows = [f"{r}{sep}{i % 7}" for i, r in enumerate(daily_rows(sep=sep))]
    ds = load_csv(csv_bytes(f"date{sep}a{sep}b", rows))
    assert ds.columns == ["a", "b"]
    assert ds.frame["a"].iloc[2] == 3.0


def test_csv_decimal_comma_with_semicolons() -> None:
    rows = daily_rows(sep=";", fmt=lambda i: f"{i},5;{i * 2}")
    ds = load_csv(csv_bytes("date;a;b", rows))
    assert ds.frame["a"].iloc[:3].tolist() == [0.5, 1.5, 2.5]
    assert ds.frame["b"].iloc[2] == 4.0
    assert has_warning(ds, "decimal separator")
    assert ds.reading_notes and not any("decimal" in w for w in ds.changes)  # how it was read, not a change
    assert ds.target == "a"  # no price-like name: the first usable column


def test_csv_thousands_separators_both_conventions() -> None:
    us = daily_rows(fmt=lambda i: f'"1,{i:03d}.5"')
    assert load_csv(csv_bytes("date,v", us)).frame["v"].iloc[:2].tolist() == [1000.5, 1001.5]
    eu = daily_rows(sep=";", fmt=lambda i: f"1.{i:03d},25")
    assert load_csv(csv_bytes("date;v", eu)).frame["v"].iloc[:2].tolist() == [1000.25, 1001.25]


def test_csv_quoted_numbers_and_headers() -> None:
    rows = daily_rows(fmt=lambda i: f'"{i}.25"')
    ds = load_csv(csv_bytes('"date","value"', [f'"{r.split(",")[0]}",{r.split(",")[1]}' for r in rows]))
    assert ds.frame["value"].iloc[1] == 1.25


def test_csv_mixed_column_few_junk_values_coerced() -> None:
    rows = daily_rows(fmt=lambda i: "oops" if i == 4 else str(i))  # 1 of 20 = 5% junk
    ds = load_csv(csv_bytes("date,v", rows))
    assert has_warning(ds, r"'v': 1 non-numeric value.*oops")
    assert ds.frame["v"].iloc[4] == pytest.approx(4.0)  # interior gap interpolated in time
    assert has_warning(ds, "interpolation")


def test_csv_mostly_text_column_is_dropped_with_its_name() -> None:
    rows = daily_rows(fmt=lambda i: f"{i},{'x' if i % 3 else i}")  # 2/3 junk: not numeric
    ds = load_csv(csv_bytes("date,v,notes", rows))
    assert ds.columns == ["v"]
    assert has_warning(ds, "dropped non-numeric column.*'notes'")


def test_csv_inf_values_become_missing() -> None:
    rows = daily_rows(fmt=lambda i: "inf" if i == 5 else ("-Infinity" if i == 6 else str(i)))
    ds = load_csv(csv_bytes("date,v", rows))
    assert_valid(ds, strict=True)
    assert has_warning(ds, "2 infinite")
    assert ds.frame["v"].iloc[5] == pytest.approx(5.0)


# -----------------------------------------------------------------------------
# CSV: time column and index


def test_csv_duplicate_and_unsorted_timestamps() -> None:
    rows = daily_rows(12)
    rows = rows[::-1] + ["2021-01-03,99"]  # reversed, plus a later duplicate of Jan 3
    ds = load_csv(csv_bytes("date,v", rows))
    assert ds.frame.index.is_monotonic_increasing
    assert has_warning(ds, "sorted") and has_warning(ds, "1 row.*duplicate")
    assert ds.frame.loc["2021-01-03", "v"] == 99.0  # keep last
    assert len(ds.frame) == 12


def test_csv_irregular_spacing_has_no_freq() -> None:
    days = pd.to_datetime("2021-01-01") + pd.to_timedelta(np.cumsum([1, 2, 1, 5, 1, 1, 3, 1, 1, 2, 1, 1]), "D")
    ds = load_csv(csv_bytes("date,v", [f"{d.date()},{i}" for i, d in enumerate(days)]))
    assert ds.freq is None
    assert has_warning(ds, "irregular spacing; windows assume equal steps")


@pytest.mark.parametrize(
    "stamp, freq",
    [
        (lambda i: f"2021-01-01 {i:02d}:00", "h"),
        (lambda i: f"2021-{i % 12 + 1:02d}-01" if i < 12 else f"2022-{i - 11:02d}-01", "MS"),
        (lambda i: f"{(pd.Timestamp('2021-01-03') + pd.Timedelta(weeks=i)).date()}", "W-SUN"),
    ],
)
def test_csv_freq_inference(stamp, freq: str) -> None:
    ds = load_csv(csv_bytes("time,v", [f"{stamp(i)},{i % 5}" for i in range(20)]))
    assert ds.freq == freq


def test_csv_timezone_aware_timestamps_become_utc_naive() -> None:
    rows = [f"2021-03-01T{i:02d}:00:00+02:00,{i}" for i in range(20)]
    ds = load_csv(csv_bytes("timestamp,v", rows))
    assert ds.frame.index.tz is None
    assert ds.frame.index[0] == pd.Timestamp("2021-02-28 22:00")
    assert has_warning(ds, "UTC")


def test_csv_time_column_detected_by_content_and_day_first() -> None:
    rows = [f"{i},{d.strftime('%d.%m.%Y')},{i * i}" for i, d in enumerate(pd.date_range("2021-01-01", periods=20))]
    ds = load_csv(csv_bytes("id,when,v", rows))
    assert ds.frame.index[0] == pd.Timestamp("2021-01-01") and ds.frame.index[-1] == pd.Timestamp("2021-01-20")
    assert ds.freq == "D" and "v" in ds.columns


def test_csv_dotted_dates_are_day_first_even_when_ambiguous() -> None:
    rows = [f"{d.strftime('%d.%m.%Y')};{i},5" for i, d in enumerate(pd.date_range("2021-01-01", periods=12, freq="MS"))]
    ds = load_csv(csv_bytes("Datum;Wert", rows))
    assert ds.frame.index[1] == pd.Timestamp("2021-02-01") and ds.freq == "MS"
    assert ds.frame["Wert"].iloc[1] == 1.5


def test_csv_single_column_with_decimal_commas() -> None:
    ds = load_csv(csv_bytes("wert", [f"{i},{i % 3}" for i in range(12)]))
    assert ds.columns == ["wert"] and ds.frame["wert"].iloc[4] == 4.1


def test_csv_year_column() -> None:
    rows = [f"{1950 + i},{i * 3 % 11}" for i in range(30)]
    ds = load_csv(csv_bytes("Year,value", rows))
    assert ds.frame.index[0] == pd.Timestamp("1950-01-01") and ds.freq in ("YS-JAN", "YS", "AS-JAN")


def test_csv_explicit_time_col() -> None:
    rows = [f"{r},2020-05-{i + 1:02d}" for i, r in enumerate(daily_rows())]
    ds = load_csv(csv_bytes("date,v,other_date", rows), time_col="other_date")
    assert ds.frame.index[0] == pd.Timestamp("2020-05-01")
    with pytest.raises(DataError, match=r"time column 'nope' not found.*date, v, other_date"):
        load_csv(csv_bytes("date,v,other_date", rows), time_col="nope")
    with pytest.raises(DataError, match="does not parse as dates"):
        load_csv(csv_bytes("date,v,other_date", rows), time_col="v")


@pytest.mark.parametrize("n", [15, 100_000])
def test_csv_without_time_column_uses_numbered_steps(n: int) -> None:
    """Issue 18 item 6: no invented dates (days from 2000 overran pandas' range at ~96k rows): numbered
    steps on a placeholder clock, with no calendar and no season."""
    ds = load_csv(csv_bytes("a,b", [f"{i},{i * i % 7}" for i in range(n)]))
    assert len(ds.frame) == n and ds.steps and ds.freq is None
    assert has_warning(ds, "no time column found: rows are numbered steps")
    assert ds.select("b").freq is None


def test_csv_without_header_row() -> None:
    ds = load_csv("\n".join(daily_rows()).encode())
    assert ds.columns == ["column_2"] and len(ds.frame) == 20
    assert has_warning(ds, "not a header")


def test_csv_unparseable_times_dropped_and_blank_lines_ignored() -> None:
    rows = daily_rows(20)
    rows[7] = "not a date,3"
    ds = load_csv(csv_bytes("date,v", ["", *rows[:10], "", "   ", *rows[10:]]))
    assert len(ds.frame) == 19 and has_warning(ds, "1 row.*could not be parsed")


# -----------------------------------------------------------------------------
# CSV: errors (always DataError, naming the rule)


@pytest.mark.parametrize(
    "blob, pattern",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"date,value\n", "no data rows"),
        (b"a,b\x00,c\n1,2,3\n" * 20, "NUL bytes"),
        (bytes(range(1, 32)) * 50, "binary"),
        (b"PK\x03\x04" + b"\x01" * 200, "ZIP"),
        (b"\x1f\x8b\x08garbage", "gzip"),
        (csv_bytes("date,v", daily_rows(1)), "at least 10 rows, got 1"),
        (csv_bytes("date,v", daily_rows(9)), "at least 10 rows, got 9"),
        (csv_bytes("date,name", daily_rows(20, fmt=lambda i: f"n{i}x")), "no numeric column"),
        (csv_bytes("date,v", daily_rows(20, fmt=lambda i: "nan")), "no numeric column"),
        (csv_bytes("date,v", daily_rows(20, fmt=lambda i: "3.5")), "constant"),
        (csv_bytes("date,v,w", daily_rows(20, fmt=lambda i: "1,2")), "constant"),
        (b'date,v\n"2021-01-01,1\n' * 3, "not a well-formed CSV"),
    ],
)
def test_csv_bad_inputs_raise_data_error(blob: bytes, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        load_csv(blob)


def test_csv_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="not a regular file"):
        load_csv(tmp_path)


def test_csv_size_limit_checked_before_reading(tmp_path: Path) -> None:
    blob = csv_bytes("date,value", daily_rows(200))
    path = tmp_path / "big.csv"
    path.write_bytes(blob)
    for src in (path, blob):
        with pytest.raises(DataError, match="size limit is 1,000 bytes"):
            load_csv(src, max_bytes=1000)

    class NoRead(io.BytesIO):
        def read(self, *a):  # the limit must be enforced from seek/tell alone
            raise AssertionError("read() called on an oversized upload")

    with pytest.raises(DataError, match="size limit"):
        load_csv(NoRead(blob), max_bytes=1000)
    # a gzip bomb: small file, large content
    bomb = gzip.compress(csv_bytes("date,value", daily_rows(2000)))
    assert len(bomb) < 20000
    with pytest.raises(DataError, match="decompresses to more than"):
        load_csv(bomb, max_bytes=20000)
    assert_valid(load_csv(blob, max_bytes=len(blob)))


def test_data_error_is_an_rnnlab_error() -> None:
    with pytest.raises(RnnlabError):
        load_csv(b"")


# -----------------------------------------------------------------------------
# select


def _frame_with_gaps() -> Dataset:
    idx = pd.date_range("2022-01-01", periods=30, freq="D", name="time")
    frame = pd.DataFrame({"a": np.arange(30.0), "b": np.sin(np.arange(30.0)), "c": np.ones(30)}, index=idx)
    frame.loc[idx[10], "a"] = np.nan
    frame.loc[idx[:5], "b"] = np.nan
    frame.loc[idx[20], "b"] = np.inf
    return Dataset(name="t", frame=frame, target="a", freq="D")


def test_select_trims_edges_interpolates_and_warns() -> None:
    ds = _frame_with_gaps()
    sel = ds.select("a", ["b"])
    assert_valid(sel, strict=True)
    assert sel.columns == ["a", "b"] and sel.target == "a"
    assert len(sel.frame) == 25 and sel.frame.index[0] == pd.Timestamp("2022-01-06")
    assert sel.frame.loc["2022-01-11", "a"] == pytest.approx(10.0)
    assert has_warning(sel, r"trimmed 5 leading row.*'b'")
    assert has_warning(sel, "time interpolation")
    assert sel.freq == "D"
    assert ds.columns == ["a", "b", "c"]  # the original is untouched
    assert len(ds.frame) == 30 and np.isnan(ds.frame["a"].iloc[10])


def test_select_errors() -> None:
    ds = _frame_with_gaps()
    with pytest.raises(DataError, match=r"unknown target column 'zz'.*available columns: a, b, c"):
        ds.select("zz")
    with pytest.raises(DataError, match=r"unknown feature column 'q'"):
        ds.select("a", ["q"])
    with pytest.raises(DataError, match="constant"):
        ds.select("c")
    frame = ds.frame.copy()
    frame["empty"] = np.nan
    with pytest.raises(DataError, match="no values"):
        Dataset(name="t", frame=frame, target="a", freq="D").select("empty")
    sel = ds.select("a", ["c"])
    assert has_warning(sel, "feature 'c' is constant")


def test_select_builtin_goog_trims_pre_ipo_rows() -> None:
    ds = load_builtin("stocks-monthly")
    assert ds.frame["goog"].isna().sum() == 55
    sel = ds.select("goog", ["msft", "msft"])
    assert_valid(sel, strict=True)
    assert sel.columns == ["goog", "msft"] and sel.frame.index[0] == pd.Timestamp("2004-08-01")
    assert has_warning(sel, "trimmed 55 leading")


# -----------------------------------------------------------------------------
# load_dataset dispatch


def test_load_dataset_dispatch(tmp_path: Path) -> None:
    assert load_dataset("seattle-weather").target == "temp_max"
    with pytest.raises(DataError, match="not a built-in.*sp500"):
        load_dataset("no-such-thing")
    with pytest.raises(DataError, match="bad Yahoo spec"):
        load_dataset("yf:")


# -----------------------------------------------------------------------------
# yfinance (faked)


def _yf_frame(n: int = 30) -> pd.DataFrame:
    idx = pd.date_range("2023-01-02", periods=n, freq="B", tz="America/New_York", name="Date")
    close = 100 + np.cumsum(np.linspace(-1, 1, n))
    return pd.DataFrame(
        {"Open": close, "High": close + 1, "Low": close - 1, "Close": close, "Adj Close": close * 0.98,
         "Volume": np.arange(n) * 1000, "Dividends": 0.0, "Stock Splits": 0.0},
        index=idx,
    )


def _fake_yfinance(monkeypatch: pytest.MonkeyPatch, behaviour) -> list[dict]:
    calls: list[dict] = []

    class Ticker:
        def __init__(self, ticker: str) -> None:
            self.ticker = ticker

        def history(self, **kw):
            calls.append({"ticker": self.ticker, **kw})
            return behaviour()

    module = types.ModuleType("yfinance")
    module.Ticker = Ticker  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "yfinance", module)
    return calls


def test_yfinance_success_writes_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = _fake_yfinance(monkeypatch, _yf_frame)
    ds = fetch_yfinance("aapl", "2023-01-01", "2023-03-01", cache_dir=tmp_path)
    assert_valid(ds, strict=True)
    assert ds.name == "yf:AAPL" and ds.target == "adj_close"
    assert ds.columns == ["open", "high", "low", "close", "adj_close", "volume"]
    assert ds.frame.index[0] == pd.Timestamp("2023-01-02")  # calendar date kept, tz dropped
    assert calls[0]["auto_adjust"] is False and calls[0]["start"] == "2023-01-01"
    assert list(tmp_path.glob("AAPL_2023-01-01_2023-03-01.csv.gz"))


def test_yfinance_offline_falls_back_to_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_yfinance(monkeypatch, _yf_frame)
    online = fetch_yfinance("MSFT", cache_dir=tmp_path)

    def offline():
        raise ConnectionError("Failed to perform, curl: (6) Could not resolve host")

    _fake_yfinance(monkeypatch, offline)
    cached = fetch_yfinance("MSFT", cache_dir=tmp_path)
    assert cached.fingerprint() == online.fingerprint()
    assert has_warning(cached, r"live download failed.*cached copy from \d{4}-\d\d-\d\d")
    with pytest.raises(DataError, match=r"could not download .IBM.*no network connection.*sp500"):
        fetch_yfinance("IBM", cache_dir=tmp_path)


def test_offline_yahoo_in_the_cli_is_one_plain_line(monkeypatch, tmp_path, capsys) -> None:
    """Bug: offline, yfinance's own log lines (with raw curl text) reached stderr before the CLI's
    error. Now only the CLI's one line, in plain words."""
    import logging

    from rnnlab.cli import main

    def offline():
        logging.getLogger("yfinance").error("Failed to get ticker 'AAPL' reason: curl: (6) Could not resolve host")
        raise ConnectionError("Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com. "
                              "See https://curl.se/libcurl/c/libcurl-errors.html")

    _fake_yfinance(monkeypatch, offline)
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path))
    handler = logging.StreamHandler(sys.stderr)  # what yfinance installs on import
    logging.getLogger("yfinance").addHandler(handler)
    try:
        assert main(["train", "--data", "yf:AAPL", "--out", str(tmp_path / "run")]) == 2
    finally:
        logging.getLogger("yfinance").removeHandler(handler)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: could not download 'AAPL'")
    assert "no network connection" in err[0] and "curl" not in err[0] and "http" not in err[0]


def test_yfinance_env_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_yfinance(monkeypatch, _yf_frame)
    monkeypatch.setenv("RNNLAB_CACHE_DIR", str(tmp_path))
    load_dataset("yf:AAPL:2023-01-01:2023-03-01")
    assert list((tmp_path / "yfinance").glob("AAPL_*.csv.gz"))


def test_yfinance_empty_frame_is_data_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_yfinance(monkeypatch, pd.DataFrame)
    with pytest.raises(DataError, match=r"no rows.*unknown ticker.*sp500"):
        fetch_yfinance("ZZZZZZ", cache_dir=tmp_path)


def test_yfinance_hang_hits_hard_deadline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def hang():
        time.sleep(5)
        return _yf_frame()

    _fake_yfinance(monkeypatch, hang)
    t0 = time.monotonic()
    with pytest.raises(DataError, match=r"no answer within 0.5 s"):
        fetch_yfinance("AAPL", timeout=0.5, cache_dir=tmp_path)
    assert time.monotonic() - t0 < 2.0


def test_yfinance_missing_package_and_bad_arguments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "yfinance", None)  # import yfinance -> ImportError
    with pytest.raises(DataError, match="yfinance is not installed"):
        fetch_yfinance("AAPL", cache_dir=tmp_path)
    with pytest.raises(DataError, match="invalid ticker"):
        fetch_yfinance("AA PL; rm", cache_dir=tmp_path)
    with pytest.raises(DataError, match="not a date"):
        fetch_yfinance("AAPL", "yesterday-ish", cache_dir=tmp_path)


# -----------------------------------------------------------------------------
# property: any text is a valid Dataset or a DataError, never anything else

_JUNK = ["", "nan", "NA", "inf", "-inf", "null", "junk", '"', '""', "1e999", "0x1F", " ", "\u00a0", "2021", "-", "€5", "5%"]
_dates = st.dates(min_value=pd.Timestamp("1990-01-01").date(), max_value=pd.Timestamp("2030-12-31").date())
_any_cell = st.one_of(
    _dates.map(str),
    _dates.map(lambda d: d.strftime("%d.%m.%Y")),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(_JUNK),
    st.text(max_size=8),
)


def _number(x: float, style: str) -> str:
    if style == "us":
        return f"{x:.3f}"
    if style == "us-thousands":
        return f'"{x:,.2f}"'
    if style == "eu":
        return f"{x:.2f}".replace(".", ",")
    return f'"{x:,.2f}"'.replace(",", "_").replace(".", ",").replace("_", ".")  # eu-thousands


_STAMPS = {
    "iso": lambda t: t.strftime("%Y-%m-%d"),
    "iso-hour": lambda t: t.strftime("%Y-%m-%d %H:%M:%S"),
    "tz": lambda t: t.strftime("%Y-%m-%dT%H:%M:%S+01:00"),
    "day-first": lambda t: t.strftime("%d.%m.%Y"),
    "us": lambda t: t.strftime("%m/%d/%Y"),
}


@st.composite
def csv_texts(draw) -> str:
    """CSV-ish text: mostly well-formed tables with perturbations, sometimes pure noise."""
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(st.text(max_size=300))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    ncols = draw(st.integers(1, 4))
    nrows = draw(st.integers(0, 40))
    if shape == 1:  # free-form cells
        rows = draw(st.lists(st.lists(_any_cell, min_size=ncols, max_size=ncols), max_size=nrows))
        return "\n".join(sep.join(r) for r in rows)
    style = draw(st.sampled_from(["us", "us-thousands"] + (["eu", "eu-thousands"] if sep != "," else [])))
    stamp = draw(st.sampled_from([None, *_STAMPS]))
    step = draw(st.sampled_from(["1D", "1h", "7D", "MS"]))
    times = pd.date_range("2015-01-01", periods=nrows, freq=step)
    order = draw(st.permutations(range(nrows))) if draw(st.integers(0, 4)) == 0 else list(range(nrows))
    junk_rate = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3]))
    kinds = draw(st.lists(st.sampled_from(["walk", "walk", "const", "text", "sparse"]), min_size=ncols, max_size=ncols))
    header = ([f"{'date' if draw(st.booleans()) else 'when'}"] if stamp else []) + [
        draw(st.sampled_from(["value", "x", "close", "", "temp", "a b"])) for _ in kinds
    ]
    lines = [sep.join(header)] if draw(st.integers(0, 5)) else []
    # per-cell noise from a seeded RNG: cheap to generate, reproducible from the seed
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    level = 0.0
    for i in order:
        cells = [_STAMPS[stamp](times[i])] if stamp else []
        if stamp and rng.random() < 0.03:
            cells[0] = cells[0][:4]  # a truncated (unparseable or colliding) time
        for kind in kinds:
            level += rng.uniform(-5, 5)
            if kind == "text":
                cell = rng.choice(["red", "blue", "n/a", "x1"])
            elif kind == "sparse" and rng.random() < 0.25:
                cell = ""
            elif rng.random() < junk_rate:
                cell = rng.choice(_JUNK + ["".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(1, 6)))])
            else:
                cell = _number(3.0 if kind == "const" else level, style)
            cells.append(cell)
        lines.append(sep.join(cells))
        if rng.random() < 0.05:
            lines.append(rng.choice(["", "   ", sep * ncols]))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=csv_texts(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "str"]))
def test_load_csv_property_dataset_or_data_error(text: str, encoding: str) -> None:
    if encoding == "str":
        source = io.StringIO(text)
    else:
        try:
            source = text.encode(encoding)
        except UnicodeEncodeError:
            source = text.encode("utf-8", errors="surrogatepass")
    try:
        ds = load_csv(source)
    except DataError as e:
        assert str(e)
        return
    assert_valid(ds)
    try:  # selecting every column may trim below MIN_ROWS: that too must be a DataError
        sel = ds.select(ds.target, ds.columns)
    except DataError:
        return
    assert_valid(sel, strict=True)


def test_number_reading_small_and_large_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small columns use Python's re, large ones pandas/Arrow kernels: same results."""
    cells = ["1,234.5", "1.234,5", "$1,234", "5%", "-€5", "1 234,5", "1\u00a0234,5", "1'234.5", "x", "1.234",
             "1,5", "1e5", "e5", ".", "nan", "NA", "-", "inf", "-Infinity", "2020-01-01", "12", " ", "1.2.3",
             "+.5", "0x1F", "١٢", "1,23", "12,345,678.9", "12.345.678,9"]
    text = np.array(cells * 3, dtype=object)
    small = rd.csv_columns.Column(text)
    monkeypatch.setattr(rd.csv_columns, "_SMALL", 0)
    large = rd.csv_columns.Column(text)
    np.testing.assert_array_equal(small.missing, large.missing)
    np.testing.assert_array_equal(small.us, large.us)
    np.testing.assert_array_equal(small.eu, large.eu)
    got = dict(zip(cells, zip(small.us, small.eu)))
    assert got["1,234.5"][0] == 1234.5 and np.isnan(got["1,234.5"][1])
    assert got["1.234,5"][1] == 1234.5 and got["1 234,5"][1] == 1234.5 and got["1'234.5"][0] == 1234.5
    assert got["1.234"] == (1.234, 1234.0) and got["$1,234"][0] == 1234.0 and got["-€5"] == (-5.0, -5.0)
    assert all(np.isnan(got[c]).all() for c in ("x", "e5", ".", "2020-01-01", "1.2.3", "0x1F", "١٢"))


def test_column_names_are_the_loaders_names_for_a_blank_header_cell():
    """Bug: the Data page re-parsed the header with pandas and offered 'Unnamed: 0' for a blank
    header cell, which the loader calls 'column_1'; choosing it failed. The picker now asks the loader."""
    from rnnlab.data import column_names

    rows = [f"2021-01-{d:02d},{d}.5" for d in range(1, 21)]
    blob = ("," + "value\n" + "\n".join(rows)).encode()
    names = column_names(blob, name="blank.csv")
    assert names[1] == "value" and names[0] != "Unnamed: 0"
    ds = load_csv(blob, name="blank.csv", time_col=names[0])  # every offered name loads
    assert list(ds.frame.columns) == ["value"] and len(ds.frame) == 20


def test_value_title_names_units_of_builtins_only() -> None:
    from rnnlab.data.builtin import UNITS, value_title

    assert value_title("seattle-weather", "precipitation") == "precipitation (mm)"
    assert value_title("sf-temps", "temp") == "temp (°F)"
    assert value_title("my.csv", "temp") == "temp"  # an upload's unit is not known: no guess
    assert value_title("sp500", None) == ""
    for name, units in UNITS.items():  # every documented unit names a real column of the snapshot
        assert set(units) <= set(load_dataset(name).columns), name
