"""Sequence classification, prepared: split by sequence, fit on the training sequences only, batch.

* split: stratified by class and seeded; a published test partition (``given_split``) is kept
  as the test set and validation is drawn from its training part;
* numeric frames are scaled with statistics of the training sequences' frames only
  (:class:`FrameScaler`); texts become character ids of a vocabulary of the training texts
  (:class:`Vocabulary`: id 0 is padding, 1 an unknown character);
* sequences longer than ``max_steps`` keep their first ``max_steps`` steps (counted, reported);
* a batch is padded to its longest sequence, before or after the steps (``padding``), with a
  mask that is true at the valid steps (:func:`pad_batch`).

Torch-free (numpy only), so the Data page can describe the split without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnlab.errors import ConfigError, DataError
from rnnlab.sequences import SequenceDataset
from rnnlab.settings import ResolvedConfig, RunConfig

AUTO_MAX_STEPS = 2_000  # max_steps=None keeps this many steps of each sequence
PAD, UNKNOWN = 0, 1  # token ids of padding and of a character the training texts never had
SPLITS = ("train", "val", "test")


@dataclass
class FrameScaler:
    """Per-feature centre and scale of the training frames (all steps of all training sequences)."""

    method: str = "standard"  # standard | minmax | none
    center_: list[float] = field(default_factory=list)
    scale_: list[float] = field(default_factory=list)

    def fit(self, frames: list[np.ndarray]) -> FrameScaler:
        x = np.concatenate(frames).astype(np.float64)  # (sum T_i, F)
        if self.method == "standard":
            center, scale = x.mean(0), x.std(0)
        elif self.method == "minmax":
            center, scale = x.min(0), x.max(0) - x.min(0)
        else:
            center, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
        scale = np.where(scale > 1e-12, scale, 1.0)  # a constant feature is centred, not divided by 0
        self.center_, self.scale_ = center.tolist(), scale.tolist()
        return self

    def transform(self, frames: np.ndarray) -> np.ndarray:
        return ((frames - np.asarray(self.center_)) / np.asarray(self.scale_)).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "frames", "method": self.method, "center": self.center_, "scale": self.scale_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrameScaler:
        if len(d["center"]) != len(d["scale"]):
            raise ValueError("the scaler's centre and scale differ in length")
        return cls(str(d["method"]), [float(v) for v in d["center"]], [float(v) for v in d["scale"]])


@dataclass
class Vocabulary:
    """Characters of the training texts, most frequent first; id 0 pads, id 1 is any other character."""

    chars_: list[str] = field(default_factory=list)

    def fit(self, texts: list[str]) -> Vocabulary:
        counts: dict[str, int] = {}
        for t in texts:
            for ch in t:
                counts[ch] = counts.get(ch, 0) + 1
        self.chars_ = sorted(counts, key=lambda c: (-counts[c], c))
        return self

    @property
    def size(self) -> int:
        return len(self.chars_) + 2

    def encode(self, text: str) -> np.ndarray:
        index = {c: i + 2 for i, c in enumerate(self.chars_)}
        return np.array([index.get(c, UNKNOWN) for c in text], dtype=np.int64)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "texts", "chars": self.chars_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Vocabulary:
        chars = [str(c) for c in d["chars"]]
        if any(len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
            raise ValueError("the vocabulary must list distinct single characters")
        return cls(chars)


def stratified_split(labels: np.ndarray, val_share: float, test_share: float, seed: int,
                     given_test: np.ndarray | None = None) -> np.ndarray:
    """Part of each sequence (0 train, 1 val, 2 test), stratified by class, seeded. With
    ``given_test`` (a boolean mask) those sequences are the test set and the rest is split into
    training and validation (``val_share`` of it). Every class keeps a training sequence."""
    rng = np.random.default_rng(seed)
    part = np.zeros(len(labels), dtype=np.int64)
    if given_test is not None:
        part[given_test] = 2
    for c in np.unique(labels):
        idx = np.flatnonzero((labels == c) & (part != 2))
        idx = idx[rng.permutation(len(idx))]
        n = len(idx)
        n_test = 0 if given_test is not None else int(round(n * test_share))
        n_val = int(round(n * val_share))
        n_test = min(n_test, max(0, n - 1))
        n_val = min(n_val, max(0, n - 1 - n_test))
        part[idx[:n_test]] = 2
        part[idx[n_test:n_test + n_val]] = 1
    return part


def pad_batch(items: list[np.ndarray], side: str = "post") -> tuple[np.ndarray, np.ndarray]:
    """``(X, mask)``: the items padded with zeros to the longest, ``(B, T, F)`` float32 for frames
    or ``(B, T)`` int64 for token ids; ``mask (B, T)`` true at the valid steps."""
    if not items:
        raise ConfigError("a batch needs at least one sequence")
    T = max(len(s) for s in items)
    first = items[0]
    X = np.zeros((len(items), T, *first.shape[1:]), dtype=first.dtype)
    mask = np.zeros((len(items), T), dtype=bool)
    for i, s in enumerate(items):
        n = len(s)
        if side == "pre":
            X[i, T - n:], mask[i, T - n:] = s, True
        else:
            X[i, :n], mask[i, :n] = s, True
    return X, mask


@dataclass
class ClassifyPrepared:
    """What :func:`prepare` returns; ``items`` are the model inputs (scaled frames or token ids)."""

    config: ResolvedConfig
    dataset: SequenceDataset
    part: np.ndarray  # 0 train, 1 val, 2 test per sequence
    items: list[np.ndarray]  # per sequence: (T_i, F) float32 scaled frames or (T_i,) int64 ids, truncated
    encoder: FrameScaler | Vocabulary  # fitted on the training sequences
    n_truncated: int = 0  # sequences cut to max_steps
    warnings: list[str] = field(default_factory=list)

    @property
    def labels(self) -> np.ndarray:
        return np.asarray(self.dataset.labels, dtype=np.int64)

    def indices(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.part == SPLITS.index(split))

    def counts(self) -> dict[str, int]:
        return {f"n_{s}_sequences": int((self.part == i).sum()) for i, s in enumerate(SPLITS)} | {
            "n_truncated": self.n_truncated}

    def batch(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, mask, labels)`` of the sequences ``idx``, padded on the configured side."""
        X, mask = pad_batch([self.items[i] for i in idx], self.config.padding)
        return X, mask, self.labels[idx]

    def padding_share(self, batch_size: int | None = None) -> float:
        """Share of padding steps in the training batches of consecutive training sequences."""
        lengths = np.array([len(self.items[i]) for i in self.indices("train")])
        bs = batch_size or self.config.batch_size
        total = padded = 0
        for b in range(0, len(lengths), bs):
            chunk = lengths[b:b + bs]
            total += chunk.max() * len(chunk)
            padded += chunk.max() * len(chunk) - chunk.sum()
        return padded / total if total else 0.0


def encoder_from_dict(d: dict[str, Any]) -> FrameScaler | Vocabulary:
    return Vocabulary.from_dict(d) if d.get("kind") == "texts" else FrameScaler.from_dict(d)


def prepare(data: SequenceDataset, config: RunConfig, fitted: Any = None) -> ClassifyPrepared:
    """Split, fit the scaler or vocabulary on the training sequences (or reuse ``fitted``), encode, truncate."""
    if not isinstance(data, SequenceDataset):
        raise DataError(f"the classify task needs a sequence dataset, got {type(data).__name__}")
    cfg = config.validate()
    labels = np.asarray(data.labels, dtype=np.int64)
    counts = np.bincount(labels, minlength=data.n_classes)
    if data.n_classes < 2 or (counts > 0).sum() < 2:
        raise DataError(f"{data.name!r} has a single class ({data.classes[int(counts.argmax())]!r}); "
                        "classification needs at least 2 classes")
    warnings: list[str] = list(data.warnings)
    given = None
    if data.given_split is not None:
        given = np.asarray(data.given_split) == "test"
        warnings.append(f"the published split is kept: {int(given.sum())} test sequences; validation is "
                        f"{cfg.val_frac / (cfg.train_frac + cfg.val_frac):.0%} of the other {int((~given).sum())}")
        val_share = cfg.val_frac / (cfg.train_frac + cfg.val_frac)
    else:
        val_share = cfg.val_frac
    part = stratified_split(labels, val_share, 1 - cfg.train_frac - cfg.val_frac, cfg.seed, given)
    train = np.flatnonzero(part == 0)
    if fitted is not None:
        encoder = fitted
    elif data.kind == "frames":
        encoder = FrameScaler(cfg.scaling).fit([data.sequences[i] for i in train])
    else:
        encoder = Vocabulary().fit([data.texts[i] for i in train])
    if data.kind == "frames":
        if not isinstance(encoder, FrameScaler) or len(encoder.center_) != data.n_features:
            raise DataError(f"{data.name!r} has {data.n_features} feature columns; the run's scaler expects "
                            f"{len(getattr(encoder, 'center_', []))} (numeric frames)")
        items = [encoder.transform(s) for s in data.sequences]
    else:
        if not isinstance(encoder, Vocabulary):
            raise DataError(f"{data.name!r} holds texts; the run was trained on numeric frames")
        items = [encoder.encode(t) for t in data.texts]
    max_steps = cfg.max_steps or AUTO_MAX_STEPS
    n_truncated = sum(len(s) > max_steps for s in items)
    if n_truncated:
        items = [s[:max_steps] for s in items]
        warnings.append(f"{n_truncated} of {len(items)} sequences are longer than max_steps={max_steps} and keep "
                        f"their first {max_steps} steps")
    if (part == 1).sum() == 0:
        warnings.append("no validation sequences (too few per class): the best epoch is picked on the training loss")
    longest = max(len(s) for s in items)
    resolved = ResolvedConfig.resolved(cfg.replace(target=cfg.target or "label", seq_len=max(2, longest), horizon=1,
                                                   season=1, max_steps=max_steps))
    return ClassifyPrepared(resolved, data, part, items, encoder, n_truncated, warnings)
