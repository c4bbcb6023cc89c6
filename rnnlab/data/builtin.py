"""The built-in datasets: offline gzip CSV snapshots under ``data/`` (built by ``scripts/build_snapshots.py``)."""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from rnnlab.calendar import calendar_freq, freq_words
from rnnlab.data.dataset import Dataset, DatasetInfo
from rnnlab.errors import DataError

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


# Units of the built-in columns, as their sources document them (axis titles and tooltips show them)
_INDEX = {c: "index points" for c in ("adj_close", "open", "high", "low", "close")} | {"volume": "shares"}
UNITS: dict[str, dict[str, str]] = {
    "sp500": _INDEX,
    "nasdaq": _INDEX,
    "seattle-weather": {"temp_max": "°C", "temp_min": "°C", "precipitation": "mm", "wind": "m/s"},
    "seattle-temps": {"temp": "°F"},
    "sf-temps": {"temp": "°F"},
    "stocks-monthly": {c: "USD" for c in ("msft", "aapl", "amzn", "goog", "ibm")},
    "stocks-daily": {c: "USD" for c in ("aapl", "goog", "ibm", "msft")},
}


def value_title(dataset: str, column: str | None) -> str:
    """``column`` with its unit where the dataset documents one: ``"temp_max (°C)"``; else the name."""
    if not column:
        return ""
    unit = UNITS.get(dataset, {}).get(column)
    return f"{column} ({unit})" if unit else column


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


BUILTINS: dict[str, _BuiltinSpec] = {
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
    for name, spec in BUILTINS.items():
        if not (DATA_DIR / spec.file).is_file():
            continue
        ds = load_builtin_cached(name)
        infos.append(
            DatasetInfo(
                name=name,
                description=spec.description,
                frequency=freq_words(ds.freq),
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
    if name not in BUILTINS:
        raise DataError(f"unknown built-in dataset {name!r}; valid names: {', '.join(BUILTINS)}")
    return _copy_dataset(load_builtin_cached(name))


@functools.cache
def load_builtin_cached(name: str) -> Dataset:
    spec = BUILTINS[name]
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
        freq=calendar_freq(frame.index),
        description=spec.description,
        source=spec.source,
        licence=spec.licence,
    )


def _copy_dataset(ds: Dataset) -> Dataset:
    return replace(ds, frame=ds.frame.copy(deep=True), warnings=list(ds.warnings))
