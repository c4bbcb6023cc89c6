"""The calendar: one rule for frequencies, seasons, trading days, window defaults and forecast dates."""

from __future__ import annotations

import pandas as pd
import pytest

from rnnlab.calendar import (
    calendar_freq,
    freq_words,
    future_index,
    infer_season,
    is_business_daily,
    parse_freq,
    suggest_window,
)
from rnnlab.data import load_dataset


def test_default_windows_follow_frequency():
    assert suggest_window("h", 8760) == (48, 24)
    assert suggest_window("D", 1461) == (30, 7)
    assert suggest_window("B", 5031) == (30, 5)  # a trading week ahead
    seq, h = suggest_window("MS", 123)
    assert seq <= 12 and h <= 3


@pytest.mark.parametrize("alias,season", [("h", 24), ("2h", 12), ("D", 7), ("B", 5), ("W-SUN", 52), ("MS", 12),
                                          ("ME", 12), ("QS-OCT", 4), ("min", 60), ("15min", 4), ("ms", 1),
                                          ("us", 1), ("YS", 1), ("5h", 1), (None, 1), ("nonsense", 1)])
def test_seasons_read_aliases_case_sensitively(alias, season):
    """'ms' is milliseconds (no season), 'MS' month starts (12): the case decides, as in pandas."""
    assert infer_season(alias) == season


def test_parse_freq_families():
    assert parse_freq("ms") == ("ms", 1) and parse_freq("MS") == ("M", 1) and parse_freq("3W-MON") == ("W", 3)
    assert parse_freq("H") == ("h", 1)  # the legacy spelling


def test_trading_days_have_a_trading_week_season():
    """Business days: 5, whether pandas sees a regular "B" index or trading days with holidays."""
    days = pd.bdate_range("2021-01-04", periods=120)
    holidays = days.delete([10, 50, 90])
    assert calendar_freq(days) == "B" and pd.infer_freq(holidays) is None and calendar_freq(holidays) == "B"
    assert infer_season(calendar_freq(holidays)) == 5
    assert infer_season(calendar_freq(pd.date_range("2021-01-01", periods=60, freq="D"))) == 7


def test_business_days_with_a_long_gap_are_still_business_days():
    """An exchange closed for 2-3 weeks leaves a trading-day series a trading-day series: the Data
    page, the season and the windows all say so (they once disagreed)."""
    days = pd.bdate_range("2021-01-04", periods=400)
    gap = days[(days > "2021-06-01") & (days < "2021-06-20")]
    idx = days.difference(gap)
    assert calendar_freq(idx) == "B" and freq_words(calendar_freq(idx)) == "business days (B)"
    assert suggest_window(calendar_freq(idx), len(idx)) == suggest_window("B", len(idx))


def test_a_stock_csv_and_the_builtin_get_the_same_calendar(tmp_path):
    from rnnlab.data import load_csv

    sp = load_dataset("sp500")
    csv = tmp_path / "stock.csv"
    sp.frame[["adj_close"]].iloc[:800].to_csv(csv)
    mine = load_csv(csv)
    assert sp.freq == mine.freq == "B"
    assert suggest_window(sp.freq, 800) == suggest_window(mine.freq, 800)


def test_real_stock_index_is_business_daily():
    idx = load_dataset("sp500").frame.index
    assert calendar_freq(idx) == "B"
    assert (future_index(idx, 10).day_of_week < 5).all()


def test_calendar_frequencies_are_kept():
    daily = pd.date_range("2022-01-01", periods=30, freq="D")
    assert calendar_freq(daily) == "D"
    assert future_index(daily, 7).equals(pd.date_range(daily[-1], periods=8, freq="D")[1:])  # weekends too
    monthly = pd.date_range("2020-01-01", periods=24, freq="MS")
    assert list(future_index(monthly, 2)) == [pd.Timestamp("2022-01-01"), pd.Timestamp("2022-02-01")]
    weekdays_only_briefly = pd.bdate_range("2022-01-03", periods=4).delete(1)  # Mon, Wed, Thu: no weekend yet
    assert not is_business_daily(weekdays_only_briefly)
    assert calendar_freq(weekdays_only_briefly, "D") == "D"  # a known frequency wins


def test_irregular_series_get_an_inferred_step():
    month_ends = pd.DatetimeIndex(["2020-01-31", "2020-02-29", "2020-04-30", "2020-05-31", "2020-06-30"])
    assert calendar_freq(month_ends) is None
    assert list(future_index(month_ends, 3)) == list(pd.to_datetime(["2020-07-31", "2020-08-31", "2020-09-30"]))
    mid_month = pd.DatetimeIndex(["2020-01-15", "2020-02-15", "2020-04-15", "2020-05-15", "2020-06-15"])
    assert list(future_index(mid_month, 2)) == list(pd.to_datetime(["2020-07-15", "2020-08-15"]))
    quarters = pd.DatetimeIndex(["2019-01-01", "2019-04-01", "2019-10-01", "2020-01-01", "2020-04-01"])
    assert future_index(quarters, 1)[0] == pd.Timestamp("2020-07-01")
    hours = pd.DatetimeIndex(["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 03:00", "2020-01-01 04:00"])
    assert list(future_index(hours, 2)) == list(pd.to_datetime(["2020-01-01 05:00", "2020-01-01 06:00"]))
    one = pd.DatetimeIndex(["2020-01-01"])
    assert future_index(one, 1)[0] == pd.Timestamp("2020-01-02")  # no step to infer: one day
