"""ui/charts.py, the Train page's live charts: Vega-Lite dicts filled into templates look
exactly like the Altair charts, carry their data as named datasets, and a redraw builds no Altair chart."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ui import charts


def _snapshot(n_batches: int = 110, n_epochs: int = 2, n_val: int = 754) -> dict:
    rng = np.random.default_rng(0)
    return {
        "history": [{"epoch": e, "train_loss": 0.5 / e, "val_loss": 0.6 / e, "lr": 1e-3} for e in range(1, n_epochs + 1)],
        "batch_losses": [(i / 55, float(v)) for i, v in enumerate(rng.random(n_batches) + 0.1)],
        "preview": {"time": pd.date_range("2020-01-01", periods=n_val, freq="D").to_numpy(),
                    "actual": rng.random(n_val), "forecast": rng.random(n_val), "epoch": n_epochs},
    }


def _layout(spec: dict) -> str:
    """The spec without its data, with data references and generated names blanked."""
    def walk(o):
        if isinstance(o, dict):
            return {k: ("DATA" if k in ("data", "datasets") else "NAME" if k in ("name", "param", "views") else walk(v))
                    for k, v in o.items()}
        if isinstance(o, list):
            return [walk(v) for v in o]
        return o
    return json.dumps(walk(spec), sort_keys=True)


def _frames(snap: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    hist = pd.DataFrame(snap["history"])
    batches = pd.DataFrame(snap["batch_losses"], columns=["epoch", "loss"])
    pv = snap["preview"]
    return hist, batches, pd.DataFrame({k: pv[k] for k in ("time", "actual", "forecast")})


@pytest.mark.parametrize("best", [None, 2])
def test_live_dicts_match_the_altair_charts(best: int | None) -> None:
    snap = _snapshot()
    loss, preview = charts.live_training(snap["history"], snap["batch_losses"], snap["preview"], best_epoch=best,
                                         y_title="temp", height=280)
    hist, batches, frame = _frames(snap)
    alt_loss = charts.vega_lite_dict(charts.loss_curves(hist, batches, best_epoch=best, height=280))
    alt_prev = charts.vega_lite_dict(charts.live_preview(frame, y_title="temp", height=280))
    assert _layout(loss) == _layout(alt_loss)
    assert _layout(preview) == _layout(alt_prev)
    assert "config" not in loss  # no default-theme view size (Streamlit renders without it)
    # the data: named datasets holding DataFrames, referenced by the layers
    assert set(loss["datasets"]) == {"batch", "epochs"} | ({"best"} if best else set())
    assert set(preview["datasets"]) == {"data", "wide"}
    assert all(isinstance(v, pd.DataFrame) for v in [*loss["datasets"].values(), *preview["datasets"].values()])
    assert len(loss["datasets"]["batch"]) == 110 and len(preview["datasets"]["wide"]) == 754
    assert {layer["data"]["name"] for layer in loss["layer"]} == set(loss["datasets"])


def test_live_dicts_are_fresh_copies_and_handle_empty_snapshots() -> None:
    loss, preview = charts.live_training([], [], None)
    assert loss["mark"]["type"] == "text" and preview["mark"]["type"] == "text"
    snap = _snapshot()
    a, _ = charts.live_training(snap["history"], snap["batch_losses"], None)
    a["layer"][0]["mark"]["type"] = "bar"  # what a caller does to its copy never reaches the template
    b, _ = charts.live_training(snap["history"], snap["batch_losses"], None)
    assert b["layer"][0]["mark"]["type"] == "line"


def test_live_redraws_build_no_altair_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    """A redraw every second must not pay for Altair (building and validating a chart was
    ~250 ms per redraw): after the first call, only the template's copy gets new data. The
    cost itself is measured by ``python -m bench.live``, not here."""
    snap = _snapshot(n_batches=2000, n_epochs=40, n_val=3000)
    args = (snap["history"], snap["batch_losses"], snap["preview"])
    charts.live_training(*args, best_epoch=3)  # builds the templates
    built: list[str] = []
    original = charts.vega_lite_dict
    monkeypatch.setattr(charts, "vega_lite_dict", lambda chart, **kw: built.append(type(chart).__name__) or original(chart, **kw))
    sizes = []
    for epochs in (40, 41, 42):  # new losses and a new preview on every redraw
        snap = _snapshot(n_batches=2000, n_epochs=epochs, n_val=3000)
        loss, preview = charts.live_training(snap["history"], snap["batch_losses"], snap["preview"], best_epoch=3)
        sizes.append(len(loss["datasets"]["epochs"]))
        assert len(loss["datasets"]["batch"]) > 0 and len(preview["datasets"]["wide"]) > 0
    assert sizes[0] < sizes[1] < sizes[2]  # the redraws carry the new epochs
    assert built == []


def test_loss_axis_names_what_each_task_minimises() -> None:
    from ui import charts

    hist = [{"epoch": 1, "train_loss": 2.0, "val_loss": 2.1}]
    for task, words in (("forecast", "scaled MSE"), ("text", "cross-entropy"), ("classify", "cross-entropy")):
        loss, _ = charts.live_training(hist, [(0.5, 2.2)], None, task=task)
        assert words in json.dumps({k: v for k, v in loss.items() if k != "datasets"}), task
