"""Split-conformal intervals: the finite-sample quantile, coverage on exchangeable noise, no test value
in the calibration, MSIS, and the calibration's round trip through a saved run."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from rnnlab.errors import ConfigError
from rnnlab.intervals import (
    Calibration,
    calibrate,
    conformal_quantile,
    coverage_table,
    local_scale,
    msis,
    parse_levels,
)
from rnnlab.pipeline import fit
from rnnlab.runs import load_run, save_run
from rnnlab.settings import RunConfig
from tests.conftest import make_dataset


def test_conformal_quantile_is_the_finite_sample_rank():
    scores = np.arange(1.0, 11.0)  # n = 10
    assert conformal_quantile(scores, 0.8) == 9.0  # ceil(11 * 0.8) = 9th smallest
    assert conformal_quantile(scores, 0.5) == 6.0  # ceil(5.5) = 6
    assert math.isinf(conformal_quantile(scores, 0.95))  # rank 11 > n: no finite band is guaranteed


def test_levels_are_checked():
    assert parse_levels(["0.95", "0.8", 0.8]) == (0.8, 0.95)
    with pytest.raises(ConfigError, match="1.5"):
        parse_levels(["1.5"])
    with pytest.raises(ConfigError, match="interval_levels|level"):
        RunConfig(interval_levels=["0"]).validate()


def test_coverage_on_iid_noise_is_close_to_nominal():
    rng = np.random.default_rng(0)
    h = 3
    val_y, test_y = rng.standard_normal((2000, h)), rng.standard_normal((4000, h))
    point = {"zero": np.zeros((2000, h))}
    cal = calibrate(val_y, point, np.ones(2000), (0.8, 0.95), "absolute", 5)
    for level in (0.8, 0.95):
        lo, hi = cal.bands("zero", np.zeros((4000, h)), np.ones(4000), (level,))[level]
        cov = coverage_table(test_y, lo, hi)
        assert abs(cov["coverage"] - level) < 0.02
        assert all(abs(c - level) < 0.03 for c in cov["coverage_by_step"])
        assert cov["width"] == pytest.approx(2 * 1.2816 if level == 0.8 else 2 * 1.96, rel=0.06)


def test_adaptive_intervals_follow_the_volatility_and_use_the_window_only():
    rng = np.random.default_rng(1)
    vol = np.where(np.arange(3000) < 1500, 0.2, 2.0)
    y = np.cumsum(vol * rng.standard_normal(3000))
    anchors = np.arange(20, 2990)
    s = local_scale(y, anchors, 10)
    assert s[anchors < 1400].mean() < 0.5 < 1.0 < s[anchors > 1600].mean()
    y2 = y.copy()
    y2[anchors[100] + 1:] += 1000.0  # a change after the anchor cannot move its scale
    assert local_scale(y2, anchors[100:101], 10)[0] == s[100]


def test_msis_matches_the_definition():
    y = np.array([[0.0, 5.0, -5.0]])
    lo, hi = np.full((1, 3), -1.0), np.full((1, 3), 1.0)
    # widths 2 each; penalties 2/0.05 * 4 for the two outside points
    assert msis(y, lo, hi, scale=2.0) == pytest.approx((2 * 3 + 2 * 40 * 4) / 3 / 2.0)


def test_no_test_value_reaches_the_calibration(tiny_config):
    rng = np.random.default_rng(2)
    y = 10 + np.sin(np.arange(500) / 5) + 0.3 * rng.standard_normal(500)
    cfg = tiny_config.replace(epochs=1, transform="level")
    run = fit(make_dataset(y), cfg)
    y2 = y.copy()
    y2[run.prepared().split.val_end:] += 50 * rng.standard_normal(len(y) - run.prepared().split.val_end)
    run2 = fit(make_dataset(y2), cfg)
    assert run.calibration.quantiles == run2.calibration.quantiles
    assert run2.metrics["intervals"]["0.95"]["model"]["coverage"] < run.metrics["intervals"]["0.95"]["model"]["coverage"]


def test_intervals_in_metrics_and_a_saved_run(tmp_path, sine_dataset, tiny_config):
    run = fit(sine_dataset, tiny_config.replace(interval_levels=["0.9", "0.5"]))
    iv = run.metrics["intervals"]
    assert {"0.5", "0.9", "msis", "method"} <= set(iv)
    for who in ("model", "naive", "seasonal_naive", "linear"):
        assert 0.0 <= iv["0.9"][who]["coverage"] <= 1.0 and iv["0.9"][who]["width"] > iv["0.5"][who]["width"]
        assert len(iv["0.9"][who]["coverage_by_step"]) == 3 and iv["msis"][who] > 0
    fc = run.forecast()
    assert {"lower_50", "upper_50", "lower_90", "upper_90"} <= set(fc.columns)
    assert (fc["lower_90"] <= fc["lower_50"]).all() and (fc["upper_50"] <= fc["upper_90"]).all()
    folder = save_run(run, tmp_path / "run")
    saved = json.loads((folder / "intervals.json").read_text())
    assert saved["levels"] == [0.5, 0.9]
    again = load_run(folder)
    assert again.calibration.quantiles == run.calibration.quantiles
    pd.testing.assert_frame_equal(again.forecast(), fc)
    assert isinstance(Calibration.from_dict(saved), Calibration)
