"""End-to-end behaviour of prepare/train/evaluate on real and synthetic series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab import pipeline
from rnnlab.calendar import calendar_freq, future_index, is_business_daily
from rnnlab.data import load_dataset
from rnnlab.errors import ConfigError
from rnnlab.settings import RunConfig


def test_windows_of_each_span_keep_targets_inside_the_span(sine_dataset, tiny_config):
    prep = pipeline.prepare(sine_dataset, tiny_config)
    s, h = prep.split, prep.config.horizon
    assert prep.train.anchors.max() + h < s.train_end
    assert prep.val.anchors.min() + 1 >= s.train_end and prep.val.anchors.max() + h < s.val_end
    assert prep.test.anchors.min() + 1 >= s.val_end and prep.test.anchors.max() + h == s.n_rows - 1
    assert np.isfinite(prep.test.y_true).all()


def test_metrics_have_the_documented_shape(sine_dataset, tiny_config):
    run = pipeline.fit(sine_dataset, tiny_config)
    test = run.metrics["test"]
    assert set(test) == {"model", "naive", "seasonal_naive", "linear", "ets", "theta"}
    for row in test.values():
        assert set(row) == {"mae", "rmse", "mape", "smape", "mase", "directional_accuracy", "r2"}
    assert len(run.metrics["per_step"]["model"]["rmse"]) == 3
    n = run.metrics["n_test_windows"]
    assert len(run.predictions) == n * 3
    # the naive column of the predictions is the anchor value repeated
    first = run.predictions.iloc[:3]
    assert first["naive"].nunique() == 1


def test_baselines_use_the_same_windows_as_the_model(sine_dataset, tiny_config):
    run = pipeline.fit(sine_dataset, tiny_config)
    p = run.predictions
    err = np.sqrt(((p["naive"] - p["actual"]) ** 2).mean())
    assert err == pytest.approx(run.metrics["test"]["naive"]["rmse"])


def test_model_beats_naive_on_a_learnable_series(sine_dataset):
    cfg = RunConfig(seq_len=30, horizon=5, hidden_size=32, num_layers=1, epochs=40, patience=8)
    run = pipeline.fit(sine_dataset, cfg)
    assert run.metrics["skill_vs_naive"] > 0.3


def test_trending_series_gets_a_relative_target_and_beats_a_level_model(trend_dataset):
    """A growing series leaves its training range: the auto transform must not feed levels."""
    cfg = RunConfig(seq_len=20, horizon=1, hidden_size=16, num_layers=1, epochs=30, patience=8)
    auto = pipeline.fit(trend_dataset, cfg)
    assert auto.preprocessor.transform_ in ("diff", "log_return")
    level = pipeline.fit(trend_dataset, cfg.replace(transform="level"))
    assert auto.metrics["test"]["model"]["rmse"] < level.metrics["test"]["model"]["rmse"]
    assert auto.metrics["test"]["model"]["rmse"] < 1.5 * auto.metrics["test"]["naive"]["rmse"]


def test_multivariate_inputs(sine_dataset, tiny_config):
    ds = sine_dataset
    ds.frame["x"] = np.roll(ds.frame["y"].to_numpy(), 1)
    run = pipeline.fit(ds, tiny_config.replace(features=["x"]))
    assert run.model.shape.input_size == 2 and run.preprocessor.columns == ["y", "x"]


def test_forecast_beyond_the_end(sine_dataset, tiny_config):
    run = pipeline.fit(sine_dataset, tiny_config)
    fc = run.forecast()
    assert len(fc) == 3 and (fc["time"] > sine_dataset.frame.index[-1]).all()
    assert np.isfinite(fc["forecast"]).all()


def test_errors_name_the_value_and_rule(sine_dataset, tiny_config):
    with pytest.raises(ConfigError, match="seq_len=700 .* need at least 704 rows, got 600"):
        pipeline.prepare(sine_dataset, tiny_config.replace(seq_len=700))
    with pytest.raises(ConfigError, match="horizon=200 is longer than the test span"):
        pipeline.prepare(sine_dataset, tiny_config.replace(horizon=200, seq_len=10))
    with pytest.raises(ConfigError, match="seq_len=0"):
        pipeline.prepare(sine_dataset, tiny_config.replace(seq_len=0))
    with pytest.raises(ConfigError, match="leave no test span"):
        pipeline.prepare(sine_dataset, tiny_config.replace(train_frac=0.8, val_frac=0.2))


def test_batch_size_larger_than_the_data_is_clamped_with_a_warning(sine_dataset, tiny_config):
    prep = pipeline.prepare(sine_dataset, tiny_config.replace(batch_size=50_000))
    assert prep.config.batch_size == len(prep.train)
    assert any("batch_size=50000" in w for w in prep.warnings)


@pytest.mark.slow
def test_seattle_weather_lstm_beats_naive_at_horizon_7():
    """The README's promise: the default LSTM on seattle-weather beats persistence at step 7."""
    run = pipeline.fit(load_dataset("seattle-weather"), RunConfig(target="temp_max", cell="lstm"))
    # temp_max: ADF rejects a unit root, KPSS rejects stationarity (the yearly season drifts): changes
    assert run.config.horizon == 7 and run.preprocessor.transform_ == "diff"
    ps = run.metrics["per_step"]
    assert ps["model"]["rmse"][6] < ps["naive"]["rmse"][6]
    assert run.metrics["test"]["model"]["rmse"] < run.metrics["test"]["naive"]["rmse"]


# ----------------------------------------------------------------------------- calendars of future dates
def trading_days(n: int, start: str = "2021-01-04") -> pd.DatetimeIndex:
    """Business days minus a few holidays: no regular pandas frequency, like a stock's trading days."""
    days = pd.bdate_range(start, periods=n + n // 40 + 1)
    return days.delete(np.arange(7, len(days), 40))[:n].rename("time")


def test_trading_day_series_forecast_on_business_days_with_a_weekly_season(tiny_config):
    from rnnlab.data import Dataset

    idx = trading_days(600)
    assert pd.infer_freq(idx) is None and pd.Timedelta(days=2) in set(idx[1:] - idx[:-1])  # mid-week holidays
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"y": 100 + np.cumsum(rng.standard_normal(len(idx)))}, index=idx)
    ds = Dataset(name="trading", frame=frame, target="y", freq=None)
    assert calendar_freq(idx) == "B" and is_business_daily(idx)
    prep = pipeline.prepare(ds, tiny_config.replace(horizon=7))
    assert prep.season == 5 and prep.config.season == 5  # a trading week
    run = pipeline.fit(ds, tiny_config.replace(horizon=7, epochs=1))
    assert run.metrics["season"] == 5
    fc = run.forecast()
    times = pd.DatetimeIndex(fc["time"])
    assert (times.day_of_week < 5).all() and times[0] > idx[-1]
    assert list(times) == list(pd.bdate_range(idx[-1], periods=8)[1:])
    friday = idx[idx.day_of_week == 4][-1]
    assert future_index(idx[idx <= friday], 2)[0] == friday + pd.Timedelta(days=3)  # Monday


def test_run_labels_come_from_the_run_not_from_slicing_strings(sine_dataset, tiny_config):
    """Bug: the Runs page rebuilt Run.label by slicing the timestamp string. The run says its parts."""
    run = pipeline.fit(sine_dataset, tiny_config)
    created = run.created
    assert created is not None and run.time_words == created.strftime("%H:%M:%S")
    assert run.label == f"lstm h16x1 · sine/y · {run.time_words}"
    run.meta["name"] = "my baseline"
    assert run.label.endswith("· my baseline")
    run.meta["created"] = "not a time"
    assert run.created is None and run.time_words == run.id[:6]


def test_auto_transform_is_checked_on_the_validation_span() -> None:
    """A training span that looks stationary (a clean cycle) while the series then drifts out of its
    range: the tests alone pick levels, which a model cannot follow there; the validation check of
    the linear AR switches to differences and says why. A series that stays stationary keeps levels."""
    from tests.conftest import make_dataset

    t = np.arange(600)
    cycle = 3 * np.sin(2 * np.pi * t / 12) + 0.05 * np.random.default_rng(0).standard_normal(600)
    drift = np.where(t < 420, 0.0, 0.4 * (t - 420))  # training span: rows 0..419 (70 %)
    prep = pipeline.prepare(make_dataset(10 + cycle + drift, "cycle then drift"), RunConfig())
    assert prep.preprocessor.transform_ == "diff"
    reason = prep.preprocessor.transform_reason_
    assert "on the validation span a linear AR on first differences errs" in reason, reason
    assert prep.preprocessor.to_dict()["transform"] == "auto"  # still the automatic choice
    steady = pipeline.prepare(make_dataset(10 + cycle, "cycle"), RunConfig())
    assert steady.preprocessor.transform_ == "level"
    assert "validation span" not in steady.preprocessor.transform_reason_
    chosen = pipeline.prepare(make_dataset(10 + cycle + drift, "cycle then drift"), RunConfig(transform="level"))
    assert chosen.preprocessor.transform_ == "level"  # the user's choice is never overruled
