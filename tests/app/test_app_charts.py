"""ui/charts.py: downsampling keeps shape and extremes; every builder copes with empty and
large inputs and yields a valid Vega-Lite spec."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ui import charts


def _series(n: int) -> pd.DataFrame:
    t = pd.date_range("2020-01-01", periods=n, freq="h")
    return pd.DataFrame({"time": t, "value": np.sin(np.arange(n) / 40.0)})


def test_downsample_bounds_and_extremes() -> None:
    df = _series(20_000)
    df.loc[12_345, "value"] = 50.0  # a spike must survive
    out = charts.downsample(df, 1000, x="time", y="value")
    assert len(out) <= 1002
    assert out["value"].max() == 50.0 and out["value"].min() == df["value"].min()
    assert out["time"].iloc[0] == df["time"].iloc[0] and out["time"].iloc[-1] == df["time"].iloc[-1]
    assert out["time"].is_monotonic_increasing
    small = _series(50)
    assert len(charts.downsample(small, 1000, x="time", y="value")) == 50


def test_downsample_per_group_and_nan() -> None:
    a = _series(5000).assign(series="a")
    b = _series(5000).assign(series="b")
    b.loc[::7, "value"] = np.nan
    out = charts.downsample(pd.concat([a, b]), 500, x="time", y="value", group="series")
    assert set(out["series"]) == {"a", "b"}
    assert (out.groupby("series").size() <= 502).all()


def _spec(chart) -> dict:
    spec = chart.to_dict()
    assert isinstance(spec, dict) and ("layer" in spec or "mark" in spec)
    return spec


def _rows(spec: dict) -> int:
    return sum(len(v) for v in spec.get("datasets", {}).values())


@pytest.mark.parametrize("n", [0, 10, 50_000])
def test_builders_with_empty_small_and_large_inputs(n: int) -> None:
    s = _series(n)
    t = s["time"]
    spans = pd.DataFrame({"span": ["train", "validation", "test"], "start": [t.iloc[0]] * 3 if n else [pd.NaT] * 3,
                          "end": [t.iloc[-1]] * 3 if n else [pd.NaT] * 3, "rows": [1, 1, 1]}) if n else None
    _spec(charts.series_with_spans(s, spans, y_title="y"))
    pred = pd.DataFrame({"target_time": t, "actual": s["value"], "model": s["value"] + 0.1,
                         "naive": s["value"].shift(1), "linear": s["value"] * 0.9})
    spec = _spec(charts.predictions_chart(pred, ["model", "naive", "linear"]))
    assert _rows(spec) <= 4 * 2 * charts.MAX_POINTS + 10  # long lines + hover table, never 50k
    hist = pd.DataFrame({"epoch": np.arange(1, min(n, 30) + 1), "train_loss": 1.0, "val_loss": 0.5})
    batches = pd.DataFrame({"epoch": np.linspace(0, 30, n), "loss": np.abs(s["value"]) + 0.01})
    _spec(charts.loss_curves(hist, batches, best_epoch=1 if n else None))
    _spec(charts.live_preview(pd.DataFrame({"time": t, "actual": s["value"], "forecast": s["value"]})))
    fc = pd.DataFrame({"time": pd.date_range("2030-01-01", periods=3, freq="D"), "step": [1, 2, 3],
                       "forecast": [1.0, 2.0, 3.0]})
    _spec(charts.forecast_chart(s.tail(100), fc))
    per = pd.DataFrame({"step": [1, 2, 1, 2], "series": ["model", "model", "naive", "naive"],
                        "value": [1.0, 2.0, 1.5, 2.5]})
    _spec(charts.per_step_chart(per if n else per.iloc[:0]))
    cmp = pd.DataFrame({"run": ["a", "a", "b"], "epoch": [1, 2, 1], "train_loss": [1.0, 0.5, 0.8],
                        "val_loss": [0.9, 0.6, 0.7]})
    _spec(charts.compare_losses(cmp if n else cmp.iloc[:0]))


def test_known_series_keep_their_colours() -> None:
    scale = charts.color_scale(["actual", "model", "something else"])
    assert scale.range[0] == charts.SERIES_COLORS["actual"] and scale.range[1] == charts.SERIES_COLORS["model"]
