"""A classification run, its batched prediction and the objective the trainer runs."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from rnnlab.errors import ConfigError
from rnnlab.models import RNNClassifier
from rnnlab.run import Run
from rnnlab.tasks.classify.prepared import ClassifyPrepared, FrameScaler, Vocabulary, pad_batch, prepare
from rnnlab.training import Validation

CHUNK = 256  # sequences per forward pass when predicting


def to_tensors(X: np.ndarray, mask: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(X), torch.from_numpy(mask)


@torch.no_grad()
def predict_items(model: RNNClassifier, items: list[np.ndarray], side: str = "post",
                  chunk: int = CHUNK) -> np.ndarray:
    """Class probabilities ``(n, C)`` of encoded sequences, in padded chunks."""
    model.eval()
    out = []
    for i in range(0, len(items), chunk):
        X, mask = pad_batch(items[i:i + chunk], side)
        out.append(torch.softmax(model(*to_tensors(X, mask))[0], dim=-1))
    if not out:
        return np.empty((0, model.shape.output_size))
    return torch.cat(out).numpy().astype(np.float64)


@torch.no_grad()
def pooled_states(model: RNNClassifier, items: list[np.ndarray], chunk: int = CHUNK) -> np.ndarray:
    """What the head reads for each sequence, ``(n, W)`` float32."""
    model.eval()
    out = []
    for i in range(0, len(items), chunk):
        X, mask = pad_batch(items[i:i + chunk])
        x, m = to_tensors(X, mask)
        lengths = m.sum(1)
        states = model.encode(x, lengths=lengths)[0]
        valid = torch.arange(states.shape[1])[None, :] < lengths[:, None]
        out.append(model.pool(states, valid, lengths)[0])
    return torch.cat(out).numpy() if out else np.empty((0, model.state_width), dtype=np.float32)


class SequenceBatches:
    """Objective: shuffled mini-batches of whole sequences, padded to each batch's longest, with
    masks; cross-entropy (optionally class-weighted); validation loss, accuracy and probabilities."""

    def __init__(self, prep: ClassifyPrepared) -> None:
        self.prep = prep
        self.train = prep.indices("train")
        self.val = prep.indices("val")
        if len(self.train) == 0:
            raise ConfigError("no training sequences: the split left none")
        weight = None
        if prep.config.class_weights:
            counts = np.bincount(prep.labels[self.train], minlength=prep.dataset.n_classes).astype(np.float64)
            w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / (counts > 0).sum(), 0.0)
            weight = torch.tensor(w, dtype=torch.float32)
        self.weight = weight

    def n_batches(self, batch_size: int) -> int:
        return math.ceil(len(self.train) / min(batch_size, len(self.train)))

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[tuple[torch.Tensor, ...]]:
        bs = min(batch_size, len(self.train))
        perm = self.train[torch.randperm(len(self.train), generator=generator).numpy()]
        for b in range(self.n_batches(batch_size)):
            X, mask, y = self.prep.batch(perm[b * bs:(b + 1) * bs])
            yield torch.from_numpy(X), torch.from_numpy(mask), torch.from_numpy(y)  # (B, T[, F]), (B, T), (B,)

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, int]:
        x, mask, y = batch
        logits = model(x, mask)[0]  # (B, C)
        return nn.functional.cross_entropy(logits, y, weight=self.weight), len(y)

    @torch.no_grad()
    def validate(self, model: nn.Module) -> Validation:
        if len(self.val) == 0:
            return Validation(float("nan"), float("nan"))
        items = [self.prep.items[i] for i in self.val]
        proba = predict_items(model, items, self.prep.config.padding)  # type: ignore[arg-type]
        y = self.prep.labels[self.val]
        loss = float(-np.log(np.clip(proba[np.arange(len(y)), y], 1e-12, 1.0)).mean())
        acc = float((proba.argmax(1) == y).mean())
        score = loss if self.prep.config.select_on == "loss" else 1.0 - acc + 1e-3 * min(loss, 100.0)
        return Validation(loss, score, proba, len(y))


@dataclass(kw_only=True)
class ClassifyRun(Run):
    """A trained sequence classifier with its fitted scaler or vocabulary."""

    model: RNNClassifier
    encoder: FrameScaler | Vocabulary  # fitted on the training sequences
    predictions: pd.DataFrame | None = None  # one row per test sequence: model and baseline predictions
    _prepared: ClassifyPrepared | None = field(default=None, repr=False)

    @property
    def classes(self) -> list[str]:
        return list(self.dataset.classes)

    @property
    def data_words(self) -> str:
        return str(self.dataset.name)

    def prepared(self) -> ClassifyPrepared:
        """The run's data split and encoded again with its fitted encoder (cached)."""
        if self._prepared is None:
            self._prepared = prepare(self.dataset, self.config, self.encoder)
        return self._prepared

    def encode(self, ds: Any) -> list[np.ndarray]:
        """The model inputs of another dataset's sequences (same kind and features), truncated as in training."""
        n = self.config.max_steps
        if isinstance(self.encoder, Vocabulary):
            if ds.texts is None:
                raise ConfigError(f"{ds.name!r} holds numeric frames; this run classifies texts")
            return [self.encoder.encode(t)[:n] for t in ds.texts]
        if ds.sequences is None or ds.n_features != len(self.encoder.center_):
            raise ConfigError(f"{ds.name!r} must hold numeric frames of {len(self.encoder.center_)} features "
                              f"({', '.join(self.dataset.feature_names)}), like the run's training data")
        if list(ds.feature_names) != list(self.dataset.feature_names):
            raise ConfigError(f"{ds.name!r} has features {ds.feature_names}; the run was trained on "
                              f"{self.dataset.feature_names} (same names, same order)")
        return [self.encoder.transform(s)[:n] for s in ds.sequences]

    def predict_proba(self, items: list[np.ndarray]) -> np.ndarray:
        return predict_items(self.model, items, self.config.padding)

    def predict_texts(self, texts: list[str]) -> np.ndarray:
        """Class probabilities of raw strings (a text run): ``(n, C)``."""
        if not isinstance(self.encoder, Vocabulary):
            raise ConfigError("this run classifies numeric frames, not texts")
        items = [self.encoder.encode(t)[: self.config.max_steps] for t in texts]
        if any(len(i) == 0 for i in items):
            raise ConfigError("an empty text has no steps to classify")
        return self.predict_proba(items)
