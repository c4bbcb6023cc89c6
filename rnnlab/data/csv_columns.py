"""CSV columns: numbers written either way (1,234.5 / 1.234,5, currency, percent) and the time column."""

from __future__ import annotations

import functools
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from rnnlab.data.dataset import snake
from rnnlab.errors import DataError

# CSV parsing policy knobs (stated in error messages and warnings)
MAX_JUNK_FRACTION = 0.10  # a column with more non-numeric cells than this is not numeric


_NAMED_TIME_MIN_FRACTION = 0.50  # a column *named* like a time column must parse this well


_CONTENT_TIME_MIN_FRACTION = 0.90  # an unnamed column must parse this well to be the time


_TIME_NAMES = ("date", "time", "datetime", "timestamp", "ds", "date_time", "dt", "year", "month", "period")


NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "--", "?", "#n/a", "nat", "missing", "."})


_TS_LO, _TS_HI = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")  # datetime64[ns] range


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


class Column:
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
        return _s_lower_in(self.text, NA_TOKENS)

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
        if n_junk / n_present > MAX_JUNK_FRACTION:
            return None, ""
        notes = []
        if eu and _s_search(self.text[present], _COMMA).any():
            notes.append(f"column {col!r}: read ',' as the decimal separator")
        if n_junk:
            examples = ", ".join(repr(str(v)) for v in list(dict.fromkeys(self.text[junk][:1000]))[:3])
            notes.append(f"column {col!r}: {n_junk} non-numeric value(s) set to missing (e.g. {examples})")
        return values, "; ".join(notes)


def is_header_row(cells: list[str]) -> bool:
    """The first row is a header unless every non-empty cell is a number or a date."""
    filled = [c for c in cells if c]
    if not filled or any(not _DIGIT.search(c) for c in filled):
        return True  # a cell without any digit is neither a number nor a date
    col = Column(np.array(filled, dtype=object))
    if col.missing.any():
        return True
    numeric = ~np.isnan(col.us) | ~np.isnan(col.eu)
    return any(_best_date_parse(np.array([c], dtype=object), by_name=False)[1] < 1.0
               for c in np.array(filled, dtype=object)[~numeric])


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
    present = [v for v in text[:2000] if v.lower() not in NA_TOKENS][:400]
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
    if all(_TIME_OF_DAY.fullmatch(v) for v in present):
        return None, 0.0  # times of day without a date ('13:45') would be put on today's date
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


_NUMERIC_DATE = re.compile(r"([0-9]{1,2})([/.\-])([0-9]{1,2})[/.\-]([0-9]{4}|[0-9]{2})((?:[ T].*)?)", re.ASCII)
_TIME_OF_DAY = re.compile(r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?: ?[AaPp][Mm])?", re.ASCII)


_TIME_TAILS = ("", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f", "T%H:%M", "T%H:%M:%S", "T%H:%M:%S.%f")


def _explicit_parse(text: np.ndarray, dayfirst: bool, sep: str, year4: bool) -> np.ndarray:
    """``text`` parsed as dd<sep>mm<sep>yyyy (``dayfirst``) or mm<sep>dd<sep>yyyy, with the time-of-day
    format that parses most values; NaT where a value does not parse."""
    date = ("%d{0}%m{0}" if dayfirst else "%m{0}%d{0}").format(sep) + ("%Y" if year4 else "%y")
    best = None
    for tail in _TIME_TAILS:
        out, _ = _to_datetime(text, {"format": date + tail})
        if best is None or (~np.isnat(out)).sum() > (~np.isnat(best)).sum():
            best = out
        if not np.isnat(best).any():
            break
    return best  # type: ignore[return-value]


def _order_score(values: np.ndarray) -> tuple[int, int, float]:
    """How plausible a reading of a time column is: (in time order either way, on a regular calendar,
    share of rows that stay in place when sorted). Higher is better."""
    from rnnlab.calendar import calendar_freq

    v = values[~np.isnat(values)]
    if len(v) < 2:
        return 0, 0, 0.0
    idx = pd.DatetimeIndex(v)
    monotonic = int(idx.is_monotonic_increasing or idx.is_monotonic_decreasing)
    sorted_idx = idx.sort_values().unique()
    regular = int(calendar_freq(sorted_idx) is not None)
    stay = float((np.argsort(v, kind="stable") == np.arange(len(v))).mean())
    stay = max(stay, float((np.argsort(v[::-1], kind="stable") == np.arange(len(v))).mean()))
    return monotonic, regular, stay


def numeric_date_order(text: np.ndarray, col: str, dayfirst: bool | None, notes: list[str]) -> np.ndarray | None:
    """Parse a column of numeric dates (31/12/2020, 12-31-2020, 31.12.20 10:00) deciding day-first vs
    month-first from *all* rows; None when the column is not written that way.

    A first number above 12 anywhere means day-first, a second number above 12 month-first. When no
    value decides it (every day of the month is 12 or less, e.g. monthly data on the first business
    day), both readings are parsed and the one that is in time order and on a regular calendar wins;
    a note states the reading taken and how to force the other (``dayfirst``). ``dayfirst`` True or
    False forces a reading (DataError when a value cannot be read that way)."""
    present = np.array([v for v in text if v.lower() not in NA_TOKENS], dtype=object)
    if len(present) == 0:
        return None
    matches = [_NUMERIC_DATE.fullmatch(v) for v in present]
    ok = [m for m in matches if m is not None]
    if len(ok) < 0.9 * len(present):
        return None
    seps = {m.group(2) for m in ok}
    years = {len(m.group(4)) for m in ok}
    if len(years) != 1:
        return None
    year4 = years.pop() == 4
    sep = seps.pop() if len(seps) == 1 else "/"
    if len(seps):  # mixed separators (31/12/2020 and 31-12-2020): read all with one
        text = np.array([re.sub(r"^([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]", r"\1/\2/", v) for v in text], dtype=object)
    first = np.array([int(m.group(1)) for m in ok])
    second = np.array([int(m.group(3)) for m in ok])
    can_dmy = bool((second <= 12).all() and (first <= 31).all() and (first >= 1).all())
    can_mdy = bool((first <= 12).all() and (second <= 31).all() and (second >= 1).all())
    example = ok[0].group(0)
    if dayfirst is not None:
        if (dayfirst and not can_dmy) or (not dayfirst and not can_mdy):
            bad = int(np.argmax(second > 12)) if dayfirst else int(np.argmax(first > 12))
            raise DataError(f"dayfirst={dayfirst} cannot read the dates of {col!r}: {ok[bad].group(0)!r} has no month "
                            f"there ({'second' if dayfirst else 'first'} number above 12); use dayfirst="
                            f"{not dayfirst} or auto")
        return _explicit_parse(text, dayfirst, sep, year4)
    if not can_dmy and not can_mdy:
        return None  # not dates either way: left to the general parser (which will drop what fails)
    if can_dmy != can_mdy:
        return _explicit_parse(text, can_dmy, sep, year4)
    dmy, mdy = _explicit_parse(text, True, sep, year4), _explicit_parse(text, False, sep, year4)
    s_dmy, s_mdy = _order_score(dmy), _order_score(mdy)
    if s_dmy == s_mdy:  # nothing in the data decides: dotted dates are day-first by convention, else month-first
        use_dmy, why = sep == ".", "both readings are equally regular"
    else:
        use_dmy = s_dmy > s_mdy
        why = ("only that reading is in time order" if max(s_dmy[0], s_mdy[0]) > min(s_dmy[0], s_mdy[0]) else
               "only that reading is on a regular calendar" if max(s_dmy[1], s_mdy[1]) > min(s_dmy[1], s_mdy[1])
               else "that reading keeps more rows in place")
    reading = f"dd{sep}mm{sep}yyyy (day first)" if use_dmy else f"mm{sep}dd{sep}yyyy (month first)"
    notes.append(f"dates in {col!r} such as {example!r} can be read either way (no day above 12); read as {reading} "
                 f"because {why}. To read them the other way use dayfirst={not use_dmy} (CLI "
                 f"{'--no-dayfirst' if use_dmy else '--dayfirst'}, or the Data page's date order)")
    return dmy if use_dmy else mdy


def find_time_column(
    table: dict[str, Column], time_col: str | None, notes: list[str], name: str, dayfirst: bool | None = None
) -> tuple[str | None, np.ndarray | None]:
    """Return (column name, parsed datetime64[ns] values) or (None, None).

    Order: the explicit ``time_col`` (must parse for >= 50% of rows, else DataError); a
    column named date/time/datetime/timestamp/ds/... (>= 50%); the first non-numeric
    column that parses as dates for > 90% of rows.
    """
    cols = list(table)

    def parse(col: str, kw: dict[str, Any]) -> np.ndarray:
        numeric = numeric_date_order(table[col].text, col, dayfirst, notes)
        if numeric is not None:
            return numeric
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
        if snake(col) in _TIME_NAMES:
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
