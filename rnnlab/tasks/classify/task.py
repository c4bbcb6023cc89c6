"""The classify Task object: how the shared core prepares, trains, scores and stores a sequence classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnlab.corpora import list_sequence_datasets, load_sequence_csv, load_sequence_dataset
from rnnlab.errors import DataError
from rnnlab.export import ExportSpec
from rnnlab.models import ModelShape, RNNClassifier
from rnnlab.sequences import SequenceDataset
from rnnlab.settings import RunConfig
from rnnlab.tasks.base import CatalogueEntry
from rnnlab.tasks.classify import store
from rnnlab.tasks.classify.baselines import confusion
from rnnlab.tasks.classify.evaluate import evaluate
from rnnlab.tasks.classify.prepared import PAD, ClassifyPrepared, Vocabulary, pad_batch, prepare
from rnnlab.tasks.classify.run import ClassifyRun, SequenceBatches, predict_items
from rnnlab.training import Callback

EMBED_DIM = 16  # width of a character's vector for text sequences


class ClassifyExport(nn.Module):
    """The exported graph: post-padded ``sequences`` and their ``lengths`` -> class ``probabilities``."""

    def __init__(self, model: RNNClassifier) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model.classify(x, lengths)[0], dim=-1)


class ClassifyTask:
    name = "classify"
    data_kind = "sequences"
    required_files = store.REQUIRED_FILES
    optional_files = store.OPTIONAL_FILES

    def catalogue(self) -> list[CatalogueEntry]:
        return [CatalogueEntry(i.name, "sequences", f"{i.size:,} sequences, {len(i.classes)} classes",
                               "classes: " + ", ".join(i.classes[:12]) + (" ..." if len(i.classes) > 12 else ""),
                               i.description, i.source, i.licence) for i in list_sequence_datasets()]

    def load_data(self, spec: str, config: RunConfig) -> SequenceDataset:
        names = {i.name for i in list_sequence_datasets()}
        if spec in names:
            return load_sequence_dataset(spec)
        if not Path(spec).is_file():
            raise DataError(f"--data {spec!r} is neither a built-in sequence dataset ({', '.join(sorted(names))}) "
                            f"nor a CSV file")
        return load_sequence_csv(spec, id_col=config.id_col, target=config.target or "label",
                                 time_col=config.time_col)

    def prepare(self, data: SequenceDataset, config: RunConfig, fitted: Any = None) -> ClassifyPrepared:
        return prepare(data, config, fitted)

    def model_shape(self, prep: ClassifyPrepared) -> ModelShape:
        C = prep.dataset.n_classes
        if isinstance(prep.encoder, Vocabulary):
            return ModelShape("classify", input_size=EMBED_DIM, output_size=C, vocab_size=prep.encoder.size,
                              pad_index=PAD)
        return ModelShape("classify", input_size=prep.dataset.n_features, output_size=C)

    def objective(self, prep: ClassifyPrepared) -> SequenceBatches:
        return SequenceBatches(prep)

    def recorder(self, prep: ClassifyPrepared, model: nn.Module) -> Callback | None:
        return None

    def make_run(self, prep: ClassifyPrepared, model: nn.Module, *, history: list[dict[str, float]],
                 train_info: dict[str, Any], meta: dict[str, Any], recorder: Callback | None) -> ClassifyRun:
        meta = {**meta, "data_fingerprint": prep.dataset.fingerprint(), "data_source": prep.dataset.source}
        train_info = {**train_info, "padding_share": round(prep.padding_share(), 4)}
        return ClassifyRun(config=prep.config, model=model, dataset=prep.dataset, history=history,
                           train_info=train_info, meta=meta, encoder=prep.encoder, _prepared=prep)

    def evaluate(self, run: ClassifyRun) -> ClassifyRun:
        return evaluate(run)

    def preview(self, prep: ClassifyPrepared, model: nn.Module, val_output: Any, epoch: int) -> dict[str, Any] | None:
        """Validation accuracy and confusion matrix of this epoch."""
        val = prep.indices("val")
        if len(val) == 0:
            return None
        if val_output is None:
            was_training = model.training
            val_output = predict_items(model, [prep.items[i] for i in val], prep.config.padding)  # type: ignore[arg-type]
            model.train(was_training)
        pred = np.asarray(val_output).argmax(1)
        y = prep.labels[val]
        return {"epoch": epoch, "accuracy": float((pred == y).mean()), "classes": list(prep.dataset.classes),
                "confusion": confusion(y, pred, prep.dataset.n_classes)}

    validation_score_words = "validation cross-entropy (or 1 - accuracy with select_on=accuracy)"

    def validation_score(self, prep: ClassifyPrepared, val_output: Any) -> float:
        y = prep.labels[prep.indices("val")]
        p = np.asarray(val_output)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)).mean())

    def export_spec(self, run: ClassifyRun) -> ExportSpec:
        """``sequences`` post-padded ``(batch, steps, features)`` (token ids ``(batch, steps)`` for texts) and
        ``lengths (batch,)`` -> ``probabilities (batch, classes)``; checked on test sequences of mixed lengths."""
        prep = run.prepared()
        test = prep.indices("test")
        order = test[np.argsort([len(prep.items[i]) for i in test], kind="stable")]  # shortest first
        spread = np.unique(np.linspace(0, len(order) - 1, min(16, len(order))).astype(int)) if len(order) else []
        items = [prep.items[order[k]] for k in spread] or [prep.items[0], prep.items[-1]]
        X, mask = pad_batch(items[::-1] + items[:1])  # up to 16 lengths from the longest to the shortest
        lengths = mask.sum(1).astype(np.int64)
        example = (torch.from_numpy(X[:2]), torch.from_numpy(lengths[:2]))
        dims = {"sequences": {0: "batch", 1: "steps"}, "lengths": {0: "batch"}, "probabilities": {0: "batch"}}
        return ExportSpec(ClassifyExport(run.model).eval(), example, ["sequences", "lengths"], ["probabilities"],
                          dims, (X, lengths), name=run.config.cell)

    def describe_data(self, run: ClassifyRun) -> dict[str, Any]:
        return store.describe_data(run)

    def write_files(self, run: ClassifyRun, folder: Path) -> None:
        store.write_files(run, folder)

    def read_run(self, folder: Path, doc: dict[str, Any], **common: Any) -> ClassifyRun:
        return store.read_run(folder, doc, **common)


CLASSIFY = ClassifyTask()
TASK = CLASSIFY  # what rnnlab.tasks.get_task returns for "classify"
