"""A text run: the language model, its tokenizer and corpus, and the scores of model and baselines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnlab.corpora import TextCorpus
from rnnlab.run import Run
from rnnlab.tasks.text.ngram import NGram
from rnnlab.tasks.text.objective import item_scores, stream_scores
from rnnlab.tasks.text.prepared import TextParts, TextPrepared, prepare
from rnnlab.tasks.text.sample import Sample, sample
from rnnlab.tokenizer import BOS_ID, Tokenizer


@dataclass(kw_only=True)
class TextRun(Run):
    dataset: TextCorpus
    tokenizer: Tokenizer
    _prepared: TextPrepared | None = field(default=None, repr=False)

    @property
    def data_words(self) -> str:
        return f"{self.dataset.name} ({self.config.level})"

    def prepared(self) -> TextPrepared:
        """The split and encoded corpus with this run's vocabulary (rebuilt after a reload)."""
        if self._prepared is None:
            self._prepared = prepare(self.dataset, self.config, fitted=self.tokenizer)
        return self._prepared

    def sample(self, prime: str = "", length: int = 200, temperature: float = 0.8, top_k: int = 0,
               seed: int = 0) -> Sample:
        return sample(self.model, self.tokenizer, prime, length, temperature, top_k, seed)


def part_scores(model: Any, part: TextParts, lines: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's log-probability, top-1 and top-5 hit of every target of a part."""
    return item_scores(model, part.items) if lines else stream_scores(model, part.ids)


def baseline_scores(ngram: NGram, part: TextParts, lines: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same targets as :func:`part_scores` under an n-gram model (line corpora: no ``<bos>`` targets)."""
    logp, top1, top5 = ngram.score(part.ids)
    if lines:
        keep = part.ids[1:] != BOS_ID
        return logp[keep], top1[keep], top5[keep]
    return logp, top1, top5
