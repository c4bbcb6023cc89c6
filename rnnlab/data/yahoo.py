"""Yahoo Finance (optional, online): a hard deadline, a disk cache, and the offline fallback."""

from __future__ import annotations

import gzip
import logging
import os
import re
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import pandas as pd

from rnnlab.data.dataset import MIN_ROWS, Dataset, finish_dataset, snake
from rnnlab.errors import DataError

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
    if not _TICKER_RE.fullmatch(ticker) or not any(ch.isalnum() for ch in ticker) or ".." in ticker:
        raise DataError(f"invalid ticker {ticker!r}: use letters, digits and . ^ = - only, with at least one "
                        f"letter or digit and no '..' (e.g. AAPL, ^GSPC)")
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
            return finish_dataset(frame, name=name, origin=f"Yahoo Finance via yfinance (cached {stamp})",
                           notes=notes, description=f"{ticker} daily prices (Yahoo Finance)",
                           licence="Yahoo Finance terms of use (personal use)", target=_yf_target(frame))
        raise DataError(f"{failure}; {hint}") from e
    _write_cache(frame, cache)
    return finish_dataset(frame, name=name, origin="Yahoo Finance via yfinance", notes=[],
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

    # yfinance reports failures on its own loggers (stderr) as well as by raising: the raise is enough
    for name in ("yfinance", "yfinance.utils", "peewee"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
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
        except BaseException as e:
            box["error"] = e

    worker = threading.Thread(target=work, name=f"yfinance-{ticker}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise DataError(f"could not download {ticker!r} from Yahoo Finance (offline?): no answer within {timeout:g} s")
    if "error" in box:
        raise DataError(f"could not download {ticker!r} from Yahoo Finance: {_network_words(box['error'])}")
    frame = box.get("frame")
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise DataError(f"could not download {ticker!r} from Yahoo Finance: no rows (unknown ticker or offline?)")
    return frame


_OFFLINE_HINTS = ("could not resolve host", "dnserror", "name or service not known", "temporary failure in name",
                  "failed to establish", "connection refused", "network is unreachable", "connecterror",
                  "connectionerror", "timed out", "curl: (6)", "curl: (7)", "curl: (28)")


def _network_words(err: BaseException) -> str:
    """A download error in plain words: no network, or the library's first line without URLs."""
    text = f"{type(err).__name__}: {err}"
    if any(h in text.lower() for h in _OFFLINE_HINTS):
        return "no network connection (the Yahoo Finance server could not be reached)"
    first = re.sub(r"https?://\S+", "", str(err).splitlines()[0] if str(err) else type(err).__name__).strip()
    return f"{type(err).__name__}: {first[:160]}"


def _tidy_yfinance(raw: pd.DataFrame, ticker: str, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """yfinance frame -> lower_snake float columns on a tz-naive index named time."""
    frame = raw.copy()
    if isinstance(frame.columns, pd.MultiIndex):  # yf.download style (field, ticker)
        frame.columns = frame.columns.get_level_values(0)
    frame.columns = [snake(c) for c in frame.columns]
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
