"""ETS and Theta: fitted on the training span, state carried forward with the fitted parameters, scored
on the model's windows; a failure is a note, not a crash."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.pipeline import fit
from rnnlab.statpeers import fit_peers


@pytest.fixture
def seasonal_series() -> np.ndarray:
    rng = np.random.default_rng(0)
    n, m = 700, 12
    return 50 + np.cumsum(rng.normal(0, 0.3, n)) + 3 * np.sin(2 * np.pi * np.arange(n) / m) + rng.normal(0, 0.5, n)


def test_forecasts_match_statsmodels_at_the_end_of_training(seasonal_series):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y, te = seasonal_series, 500
    peers, notes = fit_peers(y, te, 12)
    assert notes == [] and set(peers) == {"ets", "theta"}
    ets = ETSModel(y[:te], error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=12,
                   initialization_method="heuristic").fit(disp=False)
    np.testing.assert_allclose(peers["ets"].forecast(np.array([te - 1]), 5)[0], ets.forecast(5), atol=1e-8)
    theta = ThetaModel(y[:te], period=12).fit()
    np.testing.assert_allclose(peers["theta"].forecast(np.array([te - 1]), 5)[0], theta.forecast(5), atol=1e-8)
    # after training: the fitted parameters, the states filtered through the new data (no refit)
    smoothed = ETSModel(y, error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=12,
                        initialization_method="heuristic").smooth(ets.params)
    np.testing.assert_allclose(peers["ets"].level[te:], np.asarray(smoothed.level)[te:], atol=1e-8)


def test_a_forecast_uses_no_value_after_its_anchor(seasonal_series):
    y, te, anchor = seasonal_series, 500, 600
    changed = y.copy()
    changed[anchor + 1:] += 100.0
    a, _ = fit_peers(y, te, 12)
    b, _ = fit_peers(changed, te, 12)
    for name in ("ets", "theta"):
        np.testing.assert_array_equal(a[name].forecast(np.array([anchor]), 7), b[name].forecast(np.array([anchor]), 7))


def test_failure_is_a_note_not_a_crash():
    y = np.array([1.0, 2.0, np.nan, 3.0] * 10)
    peers, notes = fit_peers(y, 30, 4)
    assert peers == {} and "missing values" in notes[0]


def test_peers_sit_beside_the_baselines(sine_dataset, tiny_config):
    run = fit(sine_dataset, tiny_config)
    m = run.metrics
    for key in ("ets", "theta"):
        assert key in m["test"] and key in m["val"] and key in m["intervals"]["0.8"] and f"skill_vs_{key}" in m
        assert m["test"][key]["mase"] > 0
    assert {"ets", "theta"} <= set(run.predictions.columns)
