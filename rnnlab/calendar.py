"""The calendar of a series, in one place: frequency aliases, seasons, trading days, future dates
and the default window sizes that follow from them.

One rule for every caller (the loaders, the Data page, the pipeline, the baselines):

* :func:`calendar_freq` says what a series steps on: its regular pandas frequency, else ``"B"``
  for business days with gaps (trading days that also skip holidays: :func:`is_business_daily`),
  else ``None`` (irregular).
* :func:`parse_freq` reads an alias into ``(family, multiple)``, case-sensitively as pandas does
  (``"ms"`` is milliseconds, ``"MS"`` month starts).
* :func:`infer_season`, :func:`suggest_window`, :func:`future_index` and :func:`freq_words` all
  go through those two, so a stock CSV and the built-in S&P 500 get the same season, windows
  and forecast dates.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

# family of each pandas alias (pandas 3 spellings plus the legacy ones), case-sensitive
_FAMILIES = {
    "ns": "ns", "N": "ns", "us": "us", "U": "us", "ms": "ms", "L": "ms", "s": "s", "S": "s",
    "min": "min", "T": "min", "h": "h", "H": "h", "bh": "h", "BH": "h", "cbh": "h",
    "D": "D", "B": "B", "C": "B", "W": "W",
    "MS": "M", "ME": "M", "M": "M", "BMS": "M", "BME": "M", "BM": "M", "SMS": "SM", "SME": "SM", "SM": "SM",
    "QS": "Q", "QE": "Q", "Q": "Q", "BQS": "Q", "BQE": "Q", "BQ": "Q",
    "YS": "Y", "YE": "Y", "Y": "Y", "A": "Y", "AS": "Y", "BYS": "Y", "BYE": "Y", "BA": "Y", "BAS": "Y",
}
# steps per natural cycle of each family (1: none): hours in a day, days in a week, trading days
# in a week, weeks / months / quarters in a year; sub-hourly steps repeat each hour
_SEASONS = {"s": 60, "min": 60, "h": 24, "D": 7, "B": 5, "W": 52, "SM": 24, "M": 12, "Q": 4}
# default (seq_len, horizon) by family
_WINDOWS = {"min": (60, 15), "h": (48, 24), "D": (30, 7), "B": (30, 5), "W": (26, 4), "SM": (24, 4), "M": (12, 3),
            "Q": (8, 2), "Y": (8, 2)}
_FALLBACK_WINDOW = (30, 7)
_WORDS = {"ns": "nanosecondly", "us": "microsecondly", "ms": "millisecondly", "s": "secondly", "min": "minutely",
          "h": "hourly", "D": "daily", "B": "business days", "W": "weekly", "SM": "semi-monthly", "M": "monthly",
          "Q": "quarterly", "Y": "yearly"}
_ALIAS = re.compile(r"^([0-9]*)([A-Za-z]+)(?:-[A-Za-z]+)?$")


def parse_freq(freq: str | None) -> tuple[str, int]:
    """``(family, multiple)`` of a pandas alias: ``"2h"`` -> ``("h", 2)``, ``"W-SUN"`` -> ``("W", 1)``,
    ``"ms"`` -> ``("ms", 1)`` (milliseconds), ``"MS"`` -> ``("M", 1)``; ``("", 1)`` when unknown or None."""
    if not freq:
        return "", 1
    m = _ALIAS.match(str(freq).strip())
    if m is None:
        return "", 1
    mult = int(m.group(1)) if m.group(1) else 1
    return _FAMILIES.get(m.group(2), ""), max(1, mult)


def infer_season(freq: str | None) -> int:
    """Season length in steps for a calendar alias: hourly 24, daily 7, business days 5 (a trading
    week), weekly 52, monthly 12, quarterly 4, minutely and secondly 60; a multiple divides it when
    it can (``"2h"`` -> 12), else there is no season (1). 1 when unknown or irregular."""
    family, mult = parse_freq(freq)
    season = _SEASONS.get(family, 1)
    return season // mult if season > 1 and season % mult == 0 and season // mult > 1 else 1


def suggest_window(freq: str | None, n_rows: int, train_frac: float = 0.7) -> tuple[int, int]:
    """Default ``(seq_len, horizon)``: by calendar family (hourly 48 -> 24, daily 30 -> 7, business
    days 30 -> 5, weekly 26 -> 4, monthly 12 -> 3, ...), shrunk for short series so the training span
    keeps at least ~4 windows per input step and the test span ~3 horizons."""
    seq_len, horizon = _WINDOWS.get(parse_freq(freq)[0], _FALLBACK_WINDOW)
    n_train = int(n_rows * train_frac)
    while seq_len > 4 and n_train - seq_len - horizon < 4 * seq_len:
        seq_len //= 2
    while horizon > 1 and n_rows * (1 - train_frac) / 2 < 3 * horizon:
        horizon //= 2
    return max(2, seq_len), max(1, horizon)


def median_step(index: pd.Index) -> pd.Timedelta | None:
    """Median spacing of a DatetimeIndex; None with fewer than two timestamps or no positive step."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return None
    step = pd.Series(index).diff().median()
    return None if pd.isna(step) or step <= pd.Timedelta(0) else pd.Timedelta(step)


def regular_freq(index: pd.Index) -> str | None:
    """The index's regular pandas frequency (``pd.infer_freq``), or None."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3:
        return None
    with warnings.catch_warnings():  # pandas 3 announces an offset return type; both work here
        warnings.simplefilter("ignore")
        try:
            inferred = pd.infer_freq(index)
        except (TypeError, ValueError):
            return None
    return None if inferred is None else str(getattr(inferred, "freqstr", inferred))


def is_business_daily(index: pd.Index) -> bool:
    """True for a daily series on business days only, like the trading days of a stock: no
    Saturday or Sunday, a median step of one day, and at least a week covered (so weekends were
    skipped, not merely absent). Gaps (holidays, a closed exchange for weeks) do not change it."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3 or index[-1] - index[0] < pd.Timedelta(days=7):
        return False
    return bool((index.day_of_week < 5).all()) and median_step(index) == pd.Timedelta(days=1)


def calendar_freq(index: pd.Index, freq: str | None = None) -> str | None:
    """What a series steps on: ``freq`` when given, else its regular frequency, else ``"B"`` for
    business days with gaps (:func:`is_business_daily`), else None (irregular)."""
    if freq:
        return freq
    return regular_freq(index) or ("B" if is_business_daily(index) else None)


def freq_words(freq: str | None) -> str:
    """A calendar in words with its alias: ``"daily (D)"``, ``"business days (B)"``, ``"irregular"``."""
    if not freq:
        return "irregular"
    family, _ = parse_freq(freq)
    return f"{_WORDS.get(family, freq)} ({freq})"


def irregular_note(index: pd.Index) -> str:
    """Why a series has no calendar, for the loader's notes."""
    return "irregular spacing; windows assume equal steps" if calendar_freq(index) is None else ""


# irregular series whose median step is about a month, a quarter or a year step in calendar months
_MONTHLY_STEPS = ((27, 32, 1), (88, 93, 3), (360, 370, 12))  # (min days, max days, months)


def future_index(index: pd.DatetimeIndex, horizon: int) -> pd.DatetimeIndex:
    """Timestamps of the ``horizon`` steps after ``index``, on the series' calendar
    (:func:`calendar_freq`): its regular frequency; business days for trading-day series, so no
    forecast falls on a weekend (holidays are not known, so they are not skipped); for other
    irregular series the median step, in calendar months when it is about a month, quarter or year
    (month ends stay month ends); one day when there is no step to infer."""
    if horizon <= 0:
        return pd.DatetimeIndex([])
    last = index[-1]
    freq = calendar_freq(index)
    if freq is not None:
        return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
    step = median_step(index) or pd.Timedelta(days=1)
    days = step / pd.Timedelta(days=1)
    for lo, hi, months in _MONTHLY_STEPS:
        if lo <= days <= hi:
            if index.is_month_end.all():
                return pd.date_range(last, periods=horizon + 1, freq=f"{months}ME")[1:]
            return pd.DatetimeIndex([last + pd.DateOffset(months=months * k) for k in range(1, horizon + 1)])
    return pd.DatetimeIndex([last + step * k for k in range(1, horizon + 1)])


def extend_index(index: pd.DatetimeIndex, rows: np.ndarray) -> pd.DatetimeIndex:
    """Timestamps of row numbers that may run past the end of ``index`` (continued on its calendar)."""
    rows = np.asarray(rows, dtype=np.int64)
    extra = int(max(0, rows.max() - (len(index) - 1))) if len(rows) else 0
    ext = index.append(future_index(index, extra)) if extra else index
    return pd.DatetimeIndex(ext[rows])
