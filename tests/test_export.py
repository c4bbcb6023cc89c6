"""ONNX and TorchScript exports match torch, with a batch size not seen at export."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from rnnlab.errors import ExportError
from rnnlab.export import export_model, export_run, forecast_spec, max_abs_diff
from tests.helpers import make_forecaster


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_onnx_matches_torch(cell, tmp_path):
    torch.manual_seed(0)
    model = make_forecaster(cell=cell, input_size=2, hidden_size=16, num_layers=2, horizon=4).eval()
    X = np.random.default_rng(0).standard_normal((37, 20, 2)).astype(np.float32)  # batch 37: dynamic axis
    data = export_model(model, 20, "onnx", tmp_path / "m.onnx", check=X)
    assert (tmp_path / "m.onnx").read_bytes() == data
    assert max_abs_diff(forecast_spec(model, 20), data, "onnx", (X,)) < 1e-4


def test_bidirectional_onnx_and_torchscript():
    model = make_forecaster(cell="lstm", input_size=1, hidden_size=8, num_layers=1, horizon=2,
                            bidirectional=True).eval()
    X = np.random.default_rng(1).standard_normal((5, 9, 1)).astype(np.float32)
    spec = forecast_spec(model, 9)
    assert max_abs_diff(spec, export_model(model, 9, "onnx"), "onnx", (X,)) < 1e-4
    ts = export_model(model, 9, "torchscript", check=X)
    assert max_abs_diff(spec, ts, "torchscript", (X,)) < 1e-5
    loaded = torch.jit.load(io.BytesIO(ts))
    assert loaded(torch.from_numpy(X)).shape == (5, 2)


def test_a_run_exports_through_its_task(sine_dataset, tiny_config):
    from rnnlab import pipeline

    run = pipeline.fit(sine_dataset, tiny_config.replace(epochs=1))
    for fmt in ("onnx", "torchscript"):
        assert len(export_run(run, fmt)) > 1000


def test_unknown_format():
    with pytest.raises(ExportError, match="format='tflite'"):
        export_model(make_forecaster(), 5, "tflite")
