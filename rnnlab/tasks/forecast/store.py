"""A forecasting run's own files in its run folder (the common ones are :mod:`rnnlab.runs`')::

    scaler.json            the fitted preprocessor (transform, per-column centre/scale)
    linear.json            the linear-AR baseline's coefficients
    data.csv.gz            the series the run was trained on, so a run reloads anywhere
    predictions.csv        (optional) test-span predictions of the model and the baselines
    intervals.json         (optional) conformal interval half-widths per forecaster, level and step
    evolution.safetensors  (optional) test-span anchor states at a few epochs of the training
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from rnnlab.baselines import LinearAR
from rnnlab.data import Dataset
from rnnlab.errors import ConfigError, RunError
from rnnlab.intervals import Calibration
from rnnlab.jsonfiles import read_json, write_json
from rnnlab.preprocessing import Preprocessor
from rnnlab.tasks.forecast.evolution import load_evolution, save_evolution
from rnnlab.tasks.forecast.run import ForecastRun

REQUIRED_FILES = ("scaler.json", "linear.json", "data.csv.gz")
OPTIONAL_FILES = ("predictions.csv", "evolution.safetensors", "intervals.json")


def describe_data(run: ForecastRun) -> dict[str, Any]:
    ds = run.dataset
    return {"kind": "series", "name": ds.name, "target": ds.target, "columns": ds.columns, "freq": ds.freq,
            "description": ds.description, "source": ds.source, "licence": ds.licence, "rows": len(ds.frame),
            "start": str(ds.frame.index[0]), "end": str(ds.frame.index[-1]), "steps": ds.steps}


def write_files(run: ForecastRun, folder: Path) -> None:
    write_json(folder / "scaler.json", run.preprocessor.to_dict())
    write_json(folder / "linear.json", run.linear.to_dict())
    if run.predictions is not None:
        run.predictions.to_csv(folder / "predictions.csv", index=False)
    if run.calibration is not None:
        write_json(folder / "intervals.json", run.calibration.to_dict())
    if run.evolution is not None:
        save_evolution(run.evolution, folder / "evolution.safetensors")
    frame = run.dataset.frame.copy()
    frame.index.name = "time"
    frame.to_csv(folder / "data.csv.gz", compression={"method": "gzip", "mtime": 0})


def read_run(folder: Path, doc: dict[str, Any], **common: Any) -> ForecastRun:
    model = common["model"]
    ds_doc = doc.get("dataset")
    if not isinstance(ds_doc, dict):
        raise RunError(f"config.json in '{folder}' has no dataset description (a mapping is expected)")
    try:
        preprocessor = Preprocessor.from_dict(read_json(folder, "scaler.json"))
        linear = LinearAR.from_dict(read_json(folder, "linear.json"))
    except (KeyError, TypeError, ValueError, AttributeError, ConfigError) as exc:
        raise RunError(f"the run in '{folder}' has an invalid scaler or linear baseline: {exc}") from exc
    cfg = common["config"]
    if preprocessor.n_features != model.shape.input_size or preprocessor.horizon != model.shape.output_size \
            or preprocessor.columns != [cfg.target, *cfg.features]:
        raise RunError(
            f"the run's files do not match each other: the scaler has columns {preprocessor.columns} and horizon "
            f"{preprocessor.horizon}, the model expects {model.shape.input_size} columns and horizon "
            f"{model.shape.output_size}, config.json names {[cfg.target, *cfg.features]}"
        )
    try:
        frame = pd.read_csv(folder / "data.csv.gz", index_col=0, parse_dates=[0]).astype("float64")
    except (OSError, ValueError, EOFError, pd.errors.ParserError) as exc:
        raise RunError(f"data.csv.gz in '{folder}' cannot be read ({exc})") from exc
    frame.index.name = "time"
    if list(frame.columns) != preprocessor.columns:
        raise RunError(f"data.csv.gz has columns {list(frame.columns)}, the scaler expects {preprocessor.columns}")
    dataset = Dataset(name=str(ds_doc.get("name", "run data")), frame=frame, target=preprocessor.target,
                      freq=ds_doc.get("freq") if isinstance(ds_doc.get("freq"), str) else None,
                      steps=ds_doc.get("steps") is True,
                      description=str(ds_doc.get("description", "")), source=str(ds_doc.get("source", "")),
                      licence=str(ds_doc.get("licence", "")))
    predictions = None
    if (folder / "predictions.csv").is_file():
        try:
            predictions = pd.read_csv(folder / "predictions.csv", parse_dates=["anchor_time", "target_time"])
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise RunError(f"predictions.csv in '{folder}' cannot be read ({exc})") from exc
    evolution = None
    if (folder / "evolution.safetensors").is_file():  # runs saved before it existed have none
        evolution = load_evolution(folder / "evolution.safetensors", model.state_width, len(frame))
    calibration = None
    if (folder / "intervals.json").is_file():  # runs saved before intervals existed have none
        calibration = Calibration.from_dict(read_json(folder, "intervals.json"))
    return ForecastRun(**common, dataset=dataset, preprocessor=preprocessor, linear=linear,
                       predictions=predictions, evolution=evolution, calibration=calibration)
