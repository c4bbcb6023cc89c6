"""Rolling-origin backtest: origins over the test share, nothing after an origin in what is fitted
there, per-origin scores of the model and baselines with mean, spread and rank."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.backtest import backtest, origin_data, origin_rows
from rnnlab.errors import ConfigError
from rnnlab.pipeline import prepare
from tests.conftest import make_dataset


def series(n: int = 500, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 20 + np.sin(np.arange(n) / 4) + 0.2 * rng.standard_normal(n)


def test_origins_cut_the_test_share_into_blocks(tiny_config):
    rows = origin_rows(500, tiny_config, 3, horizon=3)
    assert rows == [425, 450, 475]  # 75 test rows (15 %) in blocks of 25
    with pytest.raises(ConfigError, match="origins=40"):
        origin_rows(500, tiny_config, 40, horizon=3)


def test_nothing_after_an_origin_reaches_its_fit(tiny_config):
    y = series()
    cfg = tiny_config.replace(transform="auto", epochs=1)
    origin, end = 450, 475
    changed = y.copy()
    changed[origin:] = 1e4 * (1 + np.arange(len(y) - origin))  # wild values from the origin on
    fitted = []
    for values in (y, changed):
        cut, c = origin_data(make_dataset(values), cfg, origin, end)
        prep = prepare(cut, c)
        assert prep.split.val_end == origin and len(prep.dataset.frame) == end
        fitted.append((prep.preprocessor.to_dict(), prep.linear.coef_, prep.train.X, prep.val.X))
    assert fitted[0][0] == fitted[1][0]
    for a, b in zip(fitted[0][1:], fitted[1][1:]):
        np.testing.assert_array_equal(a, b)
    res = [backtest(make_dataset(v), cfg, origins=3, refit="every") for v in (y, changed)]
    # origin 425's training, validation and test rows all lie before row 450: the same model, the same scores
    assert res[0].origins[0].scores == res[1].origins[0].scores
    assert res[0].origins[1].train_rows == res[1].origins[1].train_rows


@pytest.mark.parametrize("refit", ["every", "once", "finetune"])
def test_scores_mean_spread_and_rank(tiny_config, refit):
    res = backtest(make_dataset(series()), tiny_config.replace(epochs=1), origins=2, refit=refit)
    assert len(res.origins) == 2 and res.refit == refit
    for o in res.origins:
        assert {"model", "naive", "seasonal_naive", "linear", "ets", "theta"} <= set(o.scores)
        assert 1 <= o.rank <= len(o.scores) and o.test_rows == 37
        assert set(o.coverage) == {"0.8", "0.95"}
    s = res.summary()
    assert s["naive"]["rmse_std"] >= 0 and 1 <= s["model"]["rank_mean"] <= 6
    assert res.to_dict()["summary"] == s
