"""A classification run's own files in its run folder (the common ones are :mod:`rnnlab.runs`')::

    classes.json       the class names (in the order of the model's outputs), the data kind, feature names
    scaler.json        the fitted frame scaler (per-feature centre and scale) or the character vocabulary
    data.csv.gz        the sequences the run was trained on (long format, or text + label), so it reloads anywhere
    predictions.csv    (optional) one row per test sequence: model and logistic predictions, probabilities
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnlab.errors import RunError
from rnnlab.jsonfiles import read_json, write_json
from rnnlab.sequence_csv import parse_sequence_table
from rnnlab.sequences import SequenceDataset
from rnnlab.tasks.classify.prepared import FrameScaler, Vocabulary, encoder_from_dict
from rnnlab.tasks.classify.run import ClassifyRun

REQUIRED_FILES = ("classes.json", "scaler.json", "data.csv.gz")
OPTIONAL_FILES = ("predictions.csv",)


def describe_data(run: ClassifyRun) -> dict[str, Any]:
    ds = run.dataset
    return {"kind": "sequences", "name": ds.name, "data_kind": ds.kind, "classes": list(ds.classes),
            "features": list(ds.feature_names), "sequences": len(ds), "class_counts": ds.class_counts(),
            "description": ds.description, "source": ds.source, "licence": ds.licence}


def dataset_frame(ds: SequenceDataset) -> pd.DataFrame:
    """The dataset as the CSV it can be read back from (long format, or one text per row)."""
    split = list(ds.given_split) if ds.given_split is not None else None
    if ds.texts is not None:
        frame = pd.DataFrame({"text": ds.texts, "label": [ds.classes[k] for k in ds.labels]})
        if split is not None:
            frame["split"] = split
        return frame
    assert ds.sequences is not None
    lengths = [len(s) for s in ds.sequences]
    frame = pd.DataFrame(np.concatenate(ds.sequences).astype(np.float64), columns=ds.feature_names)
    frame.insert(0, "step", np.concatenate([np.arange(n) for n in lengths]))
    frame.insert(0, "sequence_id", np.repeat(ds.ids, lengths))
    frame["label"] = np.repeat([ds.classes[k] for k in ds.labels], lengths)
    if split is not None:
        frame["split"] = np.repeat(split, lengths)
    return frame


def write_files(run: ClassifyRun, folder: Path) -> None:
    ds = run.dataset
    write_json(folder / "classes.json", {"classes": list(ds.classes), "kind": ds.kind,
                                         "features": list(ds.feature_names)})
    write_json(folder / "scaler.json", run.encoder.to_dict())
    dataset_frame(ds).to_csv(folder / "data.csv.gz", index=False, float_format="%.9g",
                             compression={"method": "gzip", "mtime": 0})
    if run.predictions is not None:
        run.predictions.to_csv(folder / "predictions.csv", index=False)


def read_run(folder: Path, doc: dict[str, Any], **common: Any) -> ClassifyRun:
    model = common["model"]
    ds_doc = doc.get("dataset") if isinstance(doc.get("dataset"), dict) else {}
    info = read_json(folder, "classes.json")
    try:
        encoder = encoder_from_dict(read_json(folder, "scaler.json"))
        classes = [str(c) for c in info["classes"]]
        kind = str(info["kind"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RunError(f"the run in '{folder}' has an invalid classes.json or scaler.json: {exc}") from exc
    if len(classes) != model.shape.output_size:
        raise RunError(f"classes.json lists {len(classes)} classes, the model has {model.shape.output_size} outputs")
    if (kind == "texts") != isinstance(encoder, Vocabulary) or (
            isinstance(encoder, Vocabulary) and encoder.size != model.shape.vocab_size) or (
            isinstance(encoder, FrameScaler) and len(encoder.center_) != model.shape.input_size):
        raise RunError(f"the run's files do not match each other: classes.json says {kind}, the scaler and the "
                       f"model's input sizes disagree")
    try:
        text = (folder / "data.csv.gz").read_bytes()
        import gzip

        ds = parse_sequence_table(gzip.decompress(text).decode("utf-8"), name=str(ds_doc.get("name", "run data")),
                                  origin=str(folder / "data.csv.gz"), time_col="step" if kind == "frames" else None)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise RunError(f"data.csv.gz in '{folder}' cannot be read ({exc})") from exc
    if ds.classes != classes:  # the loader sorts classes; the run's order is the model's output order
        order = {c: i for i, c in enumerate(classes)}
        if set(ds.classes) - set(order):
            raise RunError(f"data.csv.gz has classes {ds.classes}, classes.json {classes}")
        ds.labels = np.array([order[ds.classes[k]] for k in ds.labels], dtype=np.int64)
        ds.classes = classes
    ds.description, ds.source, ds.licence = (str(ds_doc.get(k, "")) for k in ("description", "source", "licence"))
    ds.warnings = []
    predictions = None
    if (folder / "predictions.csv").is_file():
        try:
            predictions = pd.read_csv(folder / "predictions.csv", dtype={"id": str, "true": str, "predicted": str,
                                                                        "logistic": str})
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise RunError(f"predictions.csv in '{folder}' cannot be read ({exc})") from exc
    return ClassifyRun(**common, dataset=ds, encoder=encoder, predictions=predictions)
