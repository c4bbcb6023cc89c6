"""Export a trained model to ONNX or TorchScript, and check the export against torch.

Each task says what its exported graph takes and returns (an :class:`ExportSpec`: the module,
example inputs, input/output names, dynamic axes and real inputs to check parity on);
:func:`export_run` does the rest for every task. Forecasting exports map scaled input windows
``(batch, seq_len, features)`` to scaled forecasts ``(batch, horizon)`` with a dynamic batch;
use the run's ``scaler.json`` to go to and from original units (README, "Export and reload").
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnlab.errors import ExportError
from rnnlab.jsonfiles import replace_file

FORMATS = ("onnx", "torchscript")
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}
TOLERANCE = 1e-4  # max abs difference between the export and torch on the check inputs


@dataclass
class ExportSpec:
    """What an exported graph is: a module returning only the exported outputs, and its inputs."""

    module: nn.Module  # in eval mode; forward(*inputs) -> tensor or tuple of tensors
    example: tuple[torch.Tensor, ...]  # inputs to trace with (any batch size)
    input_names: list[str]
    output_names: list[str]
    dynamic_axes: dict[str, dict[int, str]] = field(default_factory=dict)
    check: tuple[np.ndarray, ...] | None = None  # real inputs to compare the export with torch on
    name: str = "model"  # for messages


class ForecastOnly(nn.Module):
    """Wraps a forecaster so the exported graph returns only the forecast."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[0]


def forecast_spec(model: nn.Module, seq_len: int, check: np.ndarray | None = None) -> ExportSpec:
    """The forecaster's export: ``window (batch, seq_len, features)`` -> ``forecast (batch, horizon)``."""
    g = torch.Generator().manual_seed(0)
    example = torch.randn(2, seq_len, model.shape.input_size, generator=g)
    return ExportSpec(ForecastOnly(model).eval(), (example,), ["window"], ["forecast"],
                      {"window": {0: "batch"}, "forecast": {0: "batch"}},
                      None if check is None or not len(check) else (check.astype(np.float32),),
                      name=model.config.cell)


def _onnx_bytes(spec: ExportSpec) -> bytes:
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(spec.module, spec.example, buf, dynamo=False, input_names=spec.input_names,
                              output_names=spec.output_names, dynamic_axes=spec.dynamic_axes, opset_version=17)
    except Exception as exc:  # torch raises many types from the exporter
        raise ExportError(f"ONNX export failed for {spec.name}: {exc}") from exc
    return buf.getvalue()


def _torchscript_bytes(spec: ExportSpec) -> bytes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(spec.module, spec.example, check_trace=False)
        buf = io.BytesIO()
        torch.jit.save(traced, buf)
    except Exception as exc:
        raise ExportError(f"TorchScript export failed for {spec.name}: {exc}") from exc
    return buf.getvalue()


def _as_list(out: Any) -> list[np.ndarray]:
    items = out if isinstance(out, (tuple, list)) else (out,)
    return [np.asarray(o.detach().numpy() if isinstance(o, torch.Tensor) else o) for o in items]


def max_abs_diff(spec: ExportSpec, data: bytes, fmt: str, inputs: tuple[np.ndarray, ...]) -> float:
    """Largest absolute difference between the exported model and torch on ``inputs``."""
    tensors = tuple(torch.from_numpy(np.ascontiguousarray(x)) for x in inputs)
    with torch.no_grad():
        ref = _as_list(spec.module.eval()(*tensors))
        if fmt == "onnx":
            try:
                import onnxruntime as ort
            except ImportError as exc:  # pragma: no cover - listed in requirements
                raise ExportError("onnxruntime is not installed; cannot check the ONNX export") from exc
            sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
            got = sess.run(spec.output_names, dict(zip(spec.input_names, inputs)))
        else:
            got = _as_list(torch.jit.load(io.BytesIO(data))(*tensors))
    return max(float(np.max(np.abs(np.asarray(g, dtype=np.float64) - r))) if r.size else 0.0 for g, r in zip(got, ref))


def export_spec(spec: ExportSpec, fmt: str, path: str | os.PathLike[str] | None = None,
                tolerance: float = TOLERANCE) -> bytes:
    """Export ``spec`` in ``fmt`` ("onnx" or "torchscript"); with check inputs, verify the export
    against torch first (max abs difference <= ``tolerance``), then write ``path`` if given."""
    if fmt not in FORMATS:
        raise ExportError(f"format={fmt!r} is not supported; choose one of {', '.join(FORMATS)}")
    data = _onnx_bytes(spec) if fmt == "onnx" else _torchscript_bytes(spec)
    if spec.check is not None:
        diff = max_abs_diff(spec, data, fmt, spec.check)
        if not diff <= tolerance:
            raise ExportError(f"the {fmt} export differs from torch by {diff:.2e} (> {tolerance:.0e}); not writing it")
    if path is not None:
        try:
            replace_file(path, data)  # never through a link that already sits at path
        except OSError as exc:
            raise ExportError(f"cannot write '{path}': {exc.strerror or exc}") from exc
    return data


def export_run(run: Any, fmt: str, path: str | os.PathLike[str] | None = None) -> bytes:
    """Export a run's model the way its task defines (:meth:`rnnlab.tasks.base.Task.export_spec`),
    checked against torch on the run's own test inputs."""
    from rnnlab.tasks import get_task

    return export_spec(get_task(run.task).export_spec(run), fmt, path)


def export_model(model: nn.Module, seq_len: int, fmt: str, path: str | os.PathLike[str] | None = None,
                 check: np.ndarray | None = None) -> bytes:
    """A forecaster's export (:func:`forecast_spec`), checked on ``check`` windows when given."""
    return export_spec(forecast_spec(model, seq_len, check), fmt, path)
