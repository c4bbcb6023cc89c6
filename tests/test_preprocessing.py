"""Splits, transforms and windows: worked examples, no leakage, exact inversion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab.errors import ConfigError, DataError
from rnnlab.preprocessing import Preprocessor, chronological_split
from rnnlab.stationarity import adf_test, choose_transform, kpss_test


def frame_of(y, **extra) -> pd.DataFrame:
    idx = pd.date_range("2021-01-01", periods=len(y), freq="D", name="time")
    return pd.DataFrame({"y": np.asarray(y, float), **{k: np.asarray(v, float) for k, v in extra.items()}}, index=idx)


def test_chronological_split_worked_example():
    s = chronological_split(100, 0.7, 0.15)
    assert (s.train_end, s.val_end, s.n_test) == (70, 85, 15)


@pytest.mark.parametrize("train,val", [(0.0, 0.1), (0.9, 0.1), (0.95, 0.1), (0.5, 0.0)])
def test_split_rejects_empty_spans(train, val):
    with pytest.raises(ConfigError):
        chronological_split(100, train, val)


def test_level_windows_worked_example():
    y = np.arange(10.0)  # 0..9
    pre = Preprocessor("y", transform="level", scaling="none", seq_len=3, horizon=2).fit(frame_of(y), 10)
    anchors = pre.valid_anchors(10)
    assert list(anchors) == [2, 3, 4, 5, 6, 7]  # inputs rows t-2..t, targets t+1..t+2 within 10 rows
    w = pre.windows(frame_of(y), anchors)
    assert w.X.shape == (6, 3, 1)
    np.testing.assert_array_equal(w.X[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(w.y_true[0], [3, 4])
    np.testing.assert_array_equal(w.Y[-1], [8, 9])


def test_diff_windows_are_relative_to_last_value():
    y = np.array([1.0, 2, 4, 7, 11, 16, 22])
    pre = Preprocessor("y", transform="diff", scaling="none", seq_len=2, horizon=2).fit(frame_of(y), 7)
    anchors = pre.valid_anchors(7)
    assert anchors[0] == 2  # first diff exists at row 1, so a 2-step window ends at row 2 at the earliest
    w = pre.windows(frame_of(y), anchors)
    np.testing.assert_array_equal(w.X[0, :, 0], [1, 2])  # diffs at rows 1, 2
    np.testing.assert_array_equal(w.Y[0], [7 - 4, 11 - 4])  # changes from the anchor value y[2] = 4
    np.testing.assert_allclose(pre.inverse_targets(w.Y, w.base), w.y_true)


@pytest.mark.parametrize("transform", ["level", "diff", "log_return"])
@pytest.mark.parametrize("scaling", ["standard", "minmax", "none"])
def test_inverse_transform_is_exact(transform, scaling):
    rng = np.random.default_rng(3)
    y = 50 * np.exp(np.cumsum(0.01 * rng.standard_normal(300)))
    f = frame_of(y, x=rng.random(300) + 1)
    pre = Preprocessor("y", ["x"], transform=transform, scaling=scaling, seq_len=10, horizon=4).fit(f, 200)
    w = pre.windows(f, pre.valid_anchors(300))
    back = pre.inverse_targets(w.Y.astype(np.float64), w.base)
    np.testing.assert_allclose(back, w.y_true, rtol=1e-5)  # float32 targets: exact up to float32 rounding
    exact = pre.inverse_targets(pre.scale_targets(w.y_true, w.base), w.base)
    np.testing.assert_allclose(exact, w.y_true, rtol=1e-12)


def test_scaler_is_fitted_on_training_rows_only():
    """Changing anything after the training span must not change the fitted statistics."""
    y = np.concatenate([np.random.default_rng(0).normal(0, 1, 100), np.full(50, 1000.0)])
    f = frame_of(y)
    pre = Preprocessor("y", transform="level", scaling="standard", seq_len=5, horizon=1).fit(f, 100)
    assert abs(pre.centers_[0] - y[:100].mean()) < 1e-12
    assert abs(pre.scales_[0] - y[:100].std()) < 1e-12
    f2 = f.copy()
    f2.iloc[100:, 0] = -5e6  # a wildly different future
    pre2 = Preprocessor("y", transform="level", scaling="standard", seq_len=5, horizon=1).fit(f2, 100)
    assert pre2.to_dict() == pre.to_dict()


def test_column_kinds_are_chosen_from_training_rows_only():
    """Bug: with log-returns, whether a feature got log-returns or differences depended on the test
    span's values. Now only the training rows decide; a later non-positive value is an error that
    names the column and the fix, never a silent change of transform."""
    rng = np.random.default_rng(0)
    y = 100 * np.exp(np.cumsum(0.01 * rng.standard_normal(200)))
    x = 50 + np.cumsum(rng.standard_normal(200)) * 0.1
    x_neg = x.copy()
    x_neg[180] = -1.0  # in the test span only
    fit = lambda xs: Preprocessor("y", ["x"], transform="log_return", seq_len=5, horizon=1).fit(frame_of(y, x=xs), 140)
    assert fit(x).to_dict() == fit(x_neg).to_dict()
    assert fit(x).column_kinds_ == ["log_return", "log_return"]
    with pytest.raises(DataError, match=r"'x' has a value <= 0 \(-1 at row 180\).*transform='diff'"):
        fit(x_neg).transform_inputs(frame_of(y, x=x_neg))


def test_auto_transform_follows_stationarity():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(1000)
    assert choose_transform(noise)[0] == "level"
    walk = np.cumsum(rng.standard_normal(1000))
    assert choose_transform(walk)[0] == "diff"  # crosses zero: plain differences
    prices = 100 * np.exp(np.cumsum(0.002 + 0.01 * rng.standard_normal(1000)))
    transform, reason = choose_transform(prices)
    assert transform == "log_return" and "ADF" in reason


def test_kpss_matches_the_reference_implementation():
    """Statistic and data-chosen lags as statsmodels 0.14 ``kpss(y, "c", nlags="auto")`` gives them
    for these series (values computed once with statsmodels, which rnnlab does not depend on)."""
    rng = np.random.default_rng(3)
    noise = rng.standard_normal(1000)
    walk = np.cumsum(rng.standard_normal(500))
    ar = np.zeros(600)
    for t in range(1, 600):
        ar[t] = 0.5 * ar[t - 1] + rng.standard_normal()
    for y, stat, lags, stationary in [(noise, 0.08859684950079333, 0, True), (walk, 3.2645951138604694, 12, False),
                                      (ar, 0.19008625076396665, 12, True)]:
        res = kpss_test(y)
        assert res.statistic == pytest.approx(stat, rel=1e-9) and res.lags == lags and res.stationary is stationary


def test_mean_reverting_series_with_a_level_shift_is_not_modelled_in_levels():
    """ADF alone calls it stationary (strong mean reversion); KPSS sees the level move, and a
    level model could not follow such a move out of the training range: changes instead."""
    rng = np.random.default_rng(1)
    e = np.zeros(600)
    for t in range(1, 600):
        e[t] = 0.3 * e[t - 1] + rng.standard_normal()
    shifted = 50 + e + np.where(np.arange(600) < 300, 1.0, 0.0)  # positive: still diff, not log-returns
    assert adf_test(shifted).stationary and not kpss_test(shifted).stationary
    transform, reason = choose_transform(shifted)
    assert transform == "diff"
    assert "rejects a unit root but KPSS" in reason and "rejects stationarity" in reason
    kind, why = choose_transform(50 + e)  # the same noise without the shift: both tests agree, levels
    assert kind == "level" and "does not reject stationarity" in why


def test_adf_agrees_with_known_cases():
    rng = np.random.default_rng(5)
    ar = np.zeros(2000)
    for t in range(1, 2000):
        ar[t] = 0.5 * ar[t - 1] + rng.standard_normal()
    assert adf_test(ar).stationary
    assert not adf_test(np.cumsum(rng.standard_normal(2000))).stationary


def test_preprocessor_round_trips_through_dict():
    f = frame_of(np.linspace(1, 3, 100) + np.sin(np.arange(100)), x=np.arange(100.0))
    pre = Preprocessor("y", ["x"], seq_len=8, horizon=2).fit(f, 70)
    again = Preprocessor.from_dict(pre.to_dict())
    np.testing.assert_array_equal(pre.transform_inputs(f), again.transform_inputs(f))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_seq_len_must_be_positive_int(bad):
    with pytest.raises(ConfigError, match="seq_len"):
        Preprocessor("y", seq_len=bad, horizon=1)


def test_log_return_refuses_non_positive_target():
    with pytest.raises(ConfigError, match="strictly positive"):
        Preprocessor("y", transform="log_return", seq_len=3, horizon=1).fit(frame_of(np.linspace(-1, 1, 50)), 35)


def test_noiseless_periodic_series_is_level_with_a_readable_reason() -> None:
    t = np.arange(400)
    kind, reason = choose_transform(5.0 + np.sin(2 * np.pi * t / 24))
    assert kind == "level"
    assert "fits the training span exactly" in reason


def test_stationarity_tests_look_at_a_bounded_recent_part():
    from rnnlab.stationarity import MAX_TEST_ROWS

    rng = np.random.default_rng(7)
    recent = rng.standard_normal(MAX_TEST_ROWS)
    long = np.concatenate([np.cumsum(rng.standard_normal(3 * MAX_TEST_ROWS)), recent])
    assert kpss_test(long).statistic == kpss_test(recent).statistic
    assert adf_test(long).statistic == adf_test(recent).statistic
