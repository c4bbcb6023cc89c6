"""The forecasting Task object: how the shared core prepares, trains, scores and stores a forecaster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnlab.baselines import LinearAR
from rnnlab.data import Dataset, list_datasets, load_dataset
from rnnlab.export import ExportSpec, forecast_spec
from rnnlab.models import ModelShape
from rnnlab.settings import RunConfig
from rnnlab.tasks.base import CatalogueEntry
from rnnlab.tasks.forecast import store
from rnnlab.tasks.forecast.evaluate import (
    evaluate,
)
from rnnlab.tasks.forecast.evolution import TrajectoryRecorder
from rnnlab.tasks.forecast.prepared import Prepared, prepare
from rnnlab.tasks.forecast.run import (
    ForecastRun,
    predict_original,
)
from rnnlab.training import Callback, TensorPairs


class ForecastTask:
    name = "forecast"
    data_kind = "series"
    required_files = store.REQUIRED_FILES
    optional_files = store.OPTIONAL_FILES

    def catalogue(self) -> list[CatalogueEntry]:
        return [CatalogueEntry(i.name, "series", f"{i.rows} rows, {i.frequency}", "columns: " + ", ".join(i.columns)
                               + f" (default target {i.target})", i.description, i.source, i.licence)
                for i in list_datasets()]

    def load_data(self, spec: str, config: RunConfig) -> Dataset:
        return load_dataset(spec, time_col=config.time_col, dayfirst=config.dayfirst)

    def prepare(self, data: Dataset, config: RunConfig, fitted: Any = None) -> Prepared:
        return prepare(data, config, fitted)

    def model_shape(self, prep: Prepared) -> ModelShape:
        return ModelShape("forecast", input_size=prep.preprocessor.n_features, output_size=prep.config.horizon)

    def initialise(self, model: nn.Module, prep: Prepared) -> None:
        """Start the autoregressive highway at the ridge fit of the training windows' last ``k`` target
        values (the linear AR on the target alone) and the network's head at zero: training begins
        from the linear forecast, and the network learns only what it misses (LSTNet's idea)."""
        highway = getattr(model, "highway", None)
        if highway is None:
            return
        k = min(highway.lags, prep.train.X.shape[1])
        lin = LinearAR().fit(prep.train.X[:, -k:, :1], prep.train.Y)  # coef_: (k + 1, h), bias last
        with torch.no_grad():
            weight = torch.zeros_like(highway.linear.weight)  # (h, lags), oldest lag first
            weight[:, highway.lags - k:] = torch.from_numpy(lin.coef_[:-1].T).to(weight.dtype)
            highway.linear.weight.copy_(weight)
            highway.linear.bias.copy_(torch.from_numpy(lin.coef_[-1]).to(weight.dtype))
            model.head.weight.zero_()
            model.head.bias.zero_()

    def objective(self, prep: Prepared) -> TensorPairs:
        return TensorPairs(*prep.tensors("train"), *prep.tensors("val"))

    def recorder(self, prep: Prepared, model: nn.Module) -> TrajectoryRecorder:
        return TrajectoryRecorder(prep).attach(model)  # type: ignore[arg-type]

    def make_run(self, prep: Prepared, model: nn.Module, *, history: list[dict[str, float]],
                 train_info: dict[str, Any], meta: dict[str, Any], recorder: Callback | None) -> ForecastRun:
        meta = {**meta, "data_fingerprint": prep.dataset.fingerprint(), "data_source": prep.dataset.source}
        evolution = recorder.evolution() if recorder is not None else None  # type: ignore[attr-defined]
        return ForecastRun(config=prep.config, model=model, dataset=prep.dataset, history=history,
                           train_info=train_info, meta=meta, preprocessor=prep.preprocessor, linear=prep.fit_linear(),
                           evolution=evolution, _prepared=prep)

    def evaluate(self, run: ForecastRun) -> ForecastRun:
        return evaluate(run)

    def preview(self, prep: Prepared, model: nn.Module, val_output: Any, epoch: int) -> dict[str, Any] | None:
        """Validation forecast (first step of each window) in original units. ``val_output``: the
        trainer's model-space predictions of the validation windows, else a forward pass now."""
        if val_output is not None:
            pred = prep.preprocessor.inverse_targets(val_output.numpy().astype(np.float64), prep.val.base)[:, 0]
        else:
            was_training = model.training
            pred = predict_original(model, prep.preprocessor, prep.val)[:, 0]  # type: ignore[arg-type]
            model.train(was_training)
        return {"time": prep.index[prep.val.anchors + 1], "actual": prep.val.y_true[:, 0].copy(),
                "forecast": pred, "epoch": epoch}

    def export_spec(self, run: ForecastRun) -> ExportSpec:
        return forecast_spec(run.model, run.preprocessor.seq_len, run.prepared().test.X[:64])

    validation_score_words = "validation RMSE (original units, every step)"

    def validation_score(self, prep: Prepared, val_output: Any) -> float:
        """What a sweep minimises: the validation RMSE in original units over every window and step,
        from the trainer's model-space validation predictions. Unlike the model-space loss it is
        comparable across transforms, scalings and window lengths."""
        pred = prep.preprocessor.inverse_targets(val_output.numpy().astype(np.float64), prep.val.base)
        return float(np.sqrt(np.nanmean((pred - prep.val.y_true) ** 2)))

    def describe_data(self, run: ForecastRun) -> dict[str, Any]:
        return store.describe_data(run)

    def write_files(self, run: ForecastRun, folder: Path) -> None:
        store.write_files(run, folder)

    def read_run(self, folder: Path, doc: dict[str, Any], **common: Any) -> ForecastRun:
        return store.read_run(folder, doc, **common)


FORECAST = ForecastTask()
TASK = FORECAST  # what rnnlab.tasks.get_task returns for "forecast"

