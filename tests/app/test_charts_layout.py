"""ui/charts_internals.py and ui/charts.py layout rules found in screenshots: rows keep a
readable height, integer steps get integer ticks, log axes few ticks, the worst-windows views
are separate charts (never a concat wider than its column)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ui import charts
from ui import charts_internals as ci


def _heat(n_units: int) -> pd.DataFrame:
    t = pd.date_range("2020-01-01", periods=30, freq="D")
    return pd.DataFrame([{"time": tt, "unit": u, "rank": u, "activation": np.sin(u + i / 5)}
                         for u in range(n_units) for i, tt in enumerate(t)])


@pytest.mark.parametrize("n_units", [2, 16, 64, 128])
def test_unit_heatmap_rows_keep_a_readable_height(n_units: int) -> None:
    spec = ci.unit_heatmap(_heat(n_units)).to_dict()
    per_row = (spec["height"] - 100) / n_units
    assert 8 <= per_row <= 18
    assert spec["height"] >= 16 * min(n_units, 30)  # never squeezed into a fixed box


def test_saturation_bars_and_window_heatmap_grow_with_rows() -> None:
    def sat(n: int) -> pd.DataFrame:
        return pd.DataFrame({"layer": np.arange(n) // 5 + 1, "gate": [f"g{i % 5}" for i in range(n)],
                             "range": "sigmoid", "frac_low": 0.1, "frac_high": 0.2})
    assert ci.saturation_bars(sat(10)).to_dict()["height"] > ci.saturation_bars(sat(4)).to_dict()["height"] >= 4 * 14
    frame = pd.DataFrame([{"quantity": "input", "unit": u, "lag": lag, "value": 0.5}
                          for u in range(32) for lag in range(10)])
    small = ci.window_heatmap(frame[frame["unit"] < 4], "input").to_dict()["height"]
    assert ci.window_heatmap(frame, "input").to_dict()["height"] > small


def test_integer_steps_and_saliency_bands() -> None:
    per = pd.DataFrame({"step": [1, 2, 3], "direct_mae": [1.0, 2.0, 3.0], "recursive_mae": [1.0, 2.5, 3.5],
                        "naive_mae": [1.5, 2.5, 3.0]})
    spec = ci.recursive_chart(per).to_dict()
    x = spec["layer"][0]["encoding"]["x"]
    assert x["type"] == "quantitative" and x["axis"]["tickMinStep"] == 1 and x["axis"]["format"] == "d"
    sal = pd.DataFrame({"feature": "y", "lag": range(10), "saliency": np.linspace(1, 0, 10), "share": 0.1})
    spec = ci.saliency_chart(sal, 10).to_dict()
    x = spec["layer"][0]["encoding"]["x"]
    assert x["type"] == "ordinal" and x["scale"]["domain"] == list(range(9, -1, -1))  # no padding beyond the window


def test_log_loss_axes_have_few_short_ticks() -> None:
    hist = pd.DataFrame({"run": ["a", "a", "b"], "epoch": [1, 2, 1], "train_loss": [1.0, 0.5, 0.8],
                         "val_loss": [0.9, 0.6, 0.7]})
    axis = charts.compare_losses(hist).to_dict()["encoding"]["y"]["axis"]
    assert axis["tickCount"] <= 5 and axis["format"] == "~g"


def test_worst_windows_are_two_charts_highlighting_the_picked_rank() -> None:
    traj = pd.DataFrame({"PC1": np.arange(20.0), "PC2": np.arange(20.0), "time": pd.date_range("2020", periods=20),
                         "window": range(20), "rank": [1.0, 2.0] + [np.nan] * 18})
    series = pd.DataFrame({"rank": [1, 1, 2, 2], "kind": ["input", "forecast"] * 2, "offset": [-1, 1, -1, 1],
                           "time": pd.date_range("2020", periods=4), "value": [1.0, 2.0, 3.0, 4.0]})
    for picked in (None, 2):
        for chart in (ci.worst_states(traj, picked=picked), ci.worst_series(series, picked=picked)):
            spec = chart.to_dict()
            assert "hconcat" not in spec and "vconcat" not in spec and spec["width"] == "container"
            assert ci.WINDOW_PICK in {p["name"] for p in spec["params"]}
            assert ("rank === 2" in str(spec)) == (picked == 2)
    assert ci.worst_states(traj.assign(rank=np.nan)).to_dict()["mark"]["type"] == "text"  # nothing to ring
