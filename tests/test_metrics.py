"""Metrics and baselines on hand-checked numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnlab.baselines import LinearAR, naive_forecast, seasonal_naive_forecast
from rnnlab.errors import ConfigError
from rnnlab.metrics import forecast_metrics, mase_scale, per_step_errors, skill_score


def test_metrics_worked_example():
    y_true = np.array([[2.0, 4.0], [4.0, 2.0]])
    y_pred = np.array([[3.0, 4.0], [4.0, 0.0]])
    base = np.array([3.0, 3.0])
    m = forecast_metrics(y_true, y_pred, base, scale=2.0)
    assert m["mae"] == 0.75
    assert math.isclose(m["rmse"], math.sqrt(5 / 4))
    assert math.isclose(m["mape"], (0.5 + 0 + 0 + 1) / 4 * 100)
    assert math.isclose(m["mase"], 0.375)
    # changes from base: true (-1, +1, +1, -1), predicted (0, +1, +1, -3)
    assert math.isclose(m["directional_accuracy"], 3 / 4)
    assert math.isclose(m["r2"], 1 - 5 / 4)


def test_mape_ignores_zero_targets_and_smape_handles_zero_over_zero():
    m = forecast_metrics(np.array([[0.0, 2.0]]), np.array([[0.0, 1.0]]), np.array([1.0]), 1.0)
    assert math.isclose(m["mape"], 50.0)
    assert math.isclose(m["smape"], (0 + 2 * 1 / 3) / 2 * 100)


def test_all_zero_targets_give_nan_mape_not_an_error():
    m = forecast_metrics(np.zeros((3, 2)), np.ones((3, 2)), np.zeros(3), 1.0)
    assert math.isnan(m["mape"]) and m["mae"] == 1.0


def test_baselines():
    y = np.arange(20.0)
    anchors = np.array([10, 15])
    np.testing.assert_array_equal(naive_forecast(y[anchors], 3), [[10, 10, 10], [15, 15, 15]])
    sn = seasonal_naive_forecast(y, anchors, 3, season=2)
    np.testing.assert_array_equal(sn, [[9, 10, 9], [14, 15, 14]])  # y[t+k-2*ceil(k/2)]: the last full season repeats


def test_seasonal_naive_falls_back_before_series_start():
    sn = seasonal_naive_forecast(np.arange(10.0), np.array([1]), 2, season=7)
    np.testing.assert_array_equal(sn, [[1, 1]])


def test_per_step_skill_and_mase_scale():
    y_true = np.array([[1.0, 2.0], [1.0, 4.0]])
    pe = per_step_errors(y_true, y_true + np.array([[0.0, 1.0], [0.0, 3.0]]))
    assert pe["mae"] == [0.0, 2.0]
    assert skill_score(1.0, 2.0) == 0.5 and math.isnan(skill_score(1.0, 0.0))
    assert mase_scale(np.array([1.0, 3.0, 2.0])) == 1.5


def test_linear_ar_recovers_a_linear_rule():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 4, 1)).astype(np.float32)
    Y = (2 * X[:, -1, 0] - X[:, 0, 0] + 0.5)[:, None]
    lin = LinearAR(alpha=1e-8).fit(X, Y)
    np.testing.assert_allclose(lin.predict(X), Y, atol=1e-4)
    again = LinearAR.from_dict(lin.to_dict())
    np.testing.assert_array_equal(again.predict(X), lin.predict(X))


def test_an_unfitted_linear_baseline_is_an_rnnlab_error():
    """Bug: LinearAR.predict raised a bare RuntimeError, outside the RnnlabError tree."""
    with pytest.raises(ConfigError, match="not fitted"):
        LinearAR().predict(np.zeros((2, 3, 1)))
