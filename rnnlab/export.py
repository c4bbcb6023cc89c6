"""Export a trained model to ONNX or TorchScript, and check the export against torch.

The exported graph maps scaled input windows ``(batch, seq_len, features)`` to scaled
forecasts ``(batch, horizon)``; the batch dimension is dynamic. Use the run's
``scaler.json`` to go to and from original units (see README, "Export and reload").
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnnlab.errors import ExportError
from rnnlab.models import RNNForecaster

FORMATS = ("onnx", "torchscript")
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}


class _PredictionOnly(nn.Module):
    """Wraps the forecaster so the exported graph returns only the forecast."""

    def __init__(self, model: RNNForecaster) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[0]


def _example(model: RNNForecaster, seq_len: int, batch: int = 2) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn(batch, seq_len, model.shape.input_size, generator=g)


def export_onnx(model: RNNForecaster, seq_len: int, path: str | os.PathLike[str] | None = None) -> bytes:
    """Export to ONNX (opset 17, dynamic batch). Returns the model bytes; writes ``path`` if given."""
    wrapped = _PredictionOnly(model).eval()
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapped,
                (_example(model, seq_len),),
                buf,
                dynamo=False,
                input_names=["window"],
                output_names=["forecast"],
                dynamic_axes={"window": {0: "batch"}, "forecast": {0: "batch"}},
                opset_version=17,
            )
    except Exception as exc:  # torch raises many types from the exporter
        raise ExportError(f"ONNX export failed for {model.config.cell}: {exc}") from exc
    data = buf.getvalue()
    if path is not None:
        _write(path, data)
    return data


def export_torchscript(model: RNNForecaster, seq_len: int, path: str | os.PathLike[str] | None = None) -> bytes:
    """Export with ``torch.jit.trace``. Returns the archive bytes; writes ``path`` if given."""
    wrapped = _PredictionOnly(model).eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(wrapped, (_example(model, seq_len),), check_trace=False)
        buf = io.BytesIO()
        torch.jit.save(traced, buf)
    except Exception as exc:
        raise ExportError(f"TorchScript export failed for {model.config.cell}: {exc}") from exc
    data = buf.getvalue()
    if path is not None:
        _write(path, data)
    return data


def _write(path: str | os.PathLike[str], data: bytes) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    except OSError as exc:
        raise ExportError(f"cannot write '{path}': {exc.strerror or exc}") from exc


def onnx_max_abs_diff(model: RNNForecaster, onnx_bytes: bytes, X: np.ndarray) -> float:
    """Largest absolute difference between onnxruntime and torch on windows ``X``."""
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover - listed in requirements
        raise ExportError("onnxruntime is not installed; cannot check the ONNX export") from exc
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    out = sess.run(["forecast"], {"window": X.astype(np.float32)})[0]
    with torch.no_grad():
        ref = model.eval()(torch.from_numpy(X.astype(np.float32)))[0].numpy()
    return float(np.max(np.abs(out - ref)))


def torchscript_max_abs_diff(model: RNNForecaster, ts_bytes: bytes, X: np.ndarray) -> float:
    loaded = torch.jit.load(io.BytesIO(ts_bytes))
    with torch.no_grad():
        out = loaded(torch.from_numpy(X.astype(np.float32))).numpy()
        ref = model.eval()(torch.from_numpy(X.astype(np.float32)))[0].numpy()
    return float(np.max(np.abs(out - ref)))


def export_model(model: RNNForecaster, seq_len: int, fmt: str, path: str | os.PathLike[str] | None = None,
                 check: np.ndarray | None = None, tolerance: float = 1e-4) -> bytes:
    """Export in ``fmt`` ("onnx" or "torchscript") and, when ``check`` windows are given,
    verify the exported model against torch (max abs difference <= ``tolerance``)."""
    if fmt not in FORMATS:
        raise ExportError(f"format={fmt!r} is not supported; choose one of {', '.join(FORMATS)}")
    data = export_onnx(model, seq_len) if fmt == "onnx" else export_torchscript(model, seq_len)
    if check is not None and len(check):
        diff = onnx_max_abs_diff(model, data, check) if fmt == "onnx" else torchscript_max_abs_diff(model, data, check)
        if not diff <= tolerance:
            raise ExportError(f"the {fmt} export differs from torch by {diff:.2e} (> {tolerance:.0e}); not writing it")
    if path is not None:
        _write(path, data)
    return data
