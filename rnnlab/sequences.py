"""The container of a sequence-classification dataset: sequences of frames or texts, one label each."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from rnnlab.errors import DataError


@dataclass(kw_only=True)
class SequenceDataset:
    """Labelled variable-length sequences: ``sequences`` (numeric) or ``texts``, never both."""

    name: str
    labels: np.ndarray  # int64 class index per sequence, into ``classes``
    classes: list[str]
    ids: list[str]
    sequences: list[np.ndarray] | None = None  # each (T_i, F) float32, finite
    texts: list[str] | None = None
    feature_names: list[str] = field(default_factory=list)  # empty for text sequences
    given_split: np.ndarray | None = None  # "train"/"test" per sequence where the source publishes a split
    description: str = ""
    source: str = ""
    licence: str = ""
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if (self.sequences is None) == (self.texts is None):
            raise DataError(f"sequence dataset {self.name!r} needs exactly one of sequences= or texts=")
        n = len(self.sequences if self.sequences is not None else self.texts)
        if not (len(self.labels) == len(self.ids) == n) or (self.given_split is not None and len(self.given_split) != n):
            raise DataError(f"sequence dataset {self.name!r}: labels, ids and given_split must have one entry per "
                            f"sequence ({n})")

    @property
    def kind(self) -> Literal["frames", "texts"]:
        return "frames" if self.sequences is not None else "texts"

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        """Steps per sequence (characters for text sequences), int64."""
        items = self.sequences if self.sequences is not None else self.texts
        return np.array([len(s) for s in items], dtype=np.int64)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def class_counts(self) -> dict[str, int]:
        """Sequences per class, in ``classes`` order."""
        counts = np.bincount(np.asarray(self.labels, dtype=np.int64), minlength=len(self.classes))
        return {c: int(k) for c, k in zip(self.classes, counts)}

    def fingerprint(self) -> str:
        """Short sha256 hex (16 digits) of the ids, labels, classes and values; stable across runs."""
        h = hashlib.sha256()
        for part in (self.ids, self.classes, self.feature_names):
            h.update("\x1f".join(part).encode("utf-8") + b"\x1e")
        h.update(np.ascontiguousarray(self.labels, dtype="<i8").tobytes())
        if self.sequences is not None:
            for s in self.sequences:
                h.update(np.asarray(s.shape, dtype="<i8").tobytes())
                h.update(np.ascontiguousarray(s, dtype="<f4").tobytes())
        else:
            h.update("\x1f".join(self.texts).encode("utf-8"))
        if self.given_split is not None:
            h.update("\x1f".join(map(str, self.given_split)).encode("utf-8"))
        return h.hexdigest()[:16]

    def copy(self) -> SequenceDataset:
        return replace(
            self, labels=self.labels.copy(), classes=list(self.classes), ids=list(self.ids),
            sequences=None if self.sequences is None else [s.copy() for s in self.sequences],
            texts=None if self.texts is None else list(self.texts), feature_names=list(self.feature_names),
            given_split=None if self.given_split is None else self.given_split.copy(), warnings=list(self.warnings),
        )
