"""The baselines a language model must beat, fitted on the training ids only (torch-free).

* :class:`NGram` with ``order=1``: unigram frequencies (add-one smoothed over the vocabulary);
* :class:`NGram` with ``order>=2``: an interpolated Witten-Bell n-gram model (Witten & Bell 1991;
  Chen & Goodman 1998): ``P(w|h) = (c(h, w) + T(h) P(w|h')) / (c(h) + T(h))`` with ``T(h)`` the
  number of distinct tokens seen after ``h`` and ``h'`` the history one token shorter.

:meth:`NGram.score` gives, for every target of a stream, its log-probability and whether it is
the model's top-1 / in its top-5 (exactly: the candidates are the followers of each history plus
the unigram's top five, which dominate every other token).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from rnnlab.tokenizer import PAD_ID


@dataclass
class NGram:
    """Interpolated Witten-Bell n-gram language model over token ids."""

    order: int = 3  # 1: unigram; 2: bigram; 3: trigram ...
    vocab_size: int = 0
    unigram_: np.ndarray = field(default_factory=lambda: np.empty(0))  # (V,) add-one probabilities
    follow_: list[dict[tuple[int, ...], Counter[int]]] = field(default_factory=list)  # per history length k>=1

    def fit(self, ids: np.ndarray, vocab_size: int) -> NGram:
        self.vocab_size = vocab_size
        ids = np.asarray(ids, dtype=np.int64)
        counts = np.bincount(ids, minlength=vocab_size).astype(np.float64)
        counts[PAD_ID] = 0.0
        smooth = np.ones(vocab_size)
        smooth[PAD_ID] = 0.0  # padding is never a target
        self.unigram_ = (counts + smooth) / (counts.sum() + smooth.sum())
        seq = ids.tolist()
        self.follow_ = []
        for k in range(1, self.order):
            table: dict[tuple[int, ...], Counter[int]] = defaultdict(Counter)
            for i in range(k, len(seq)):
                table[tuple(seq[i - k:i])][seq[i]] += 1
            self.follow_.append(dict(table))
        return self

    def _prob(self, history: tuple[int, ...], w: int) -> float:
        p = float(self.unigram_[w])
        for k in range(1, len(history) + 1):
            c = self.follow_[k - 1].get(history[-k:])
            if c is None:
                break
            total, types = sum(c.values()), len(c)
            p = (c.get(w, 0) + types * p) / (total + types)
        return p

    def score(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For targets ``ids[1:]`` (each predicted from up to ``order - 1`` tokens before it): natural
        log-probabilities, top-1 hits and top-5 hits, each ``(N - 1,)``."""
        seq = np.asarray(ids, dtype=np.int64).tolist()
        top5_uni = [int(i) for i in np.argsort(-self.unigram_, kind="stable")[:5]]
        n = max(0, len(seq) - 1)
        logp, top1, top5 = np.empty(n), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        cache: dict[tuple[int, ...], tuple[int, set[int]]] = {}
        for t in range(1, len(seq)):
            h = tuple(seq[max(0, t - self.order + 1):t])
            w = seq[t]
            logp[t - 1] = math.log(self._prob(h, w))
            if h not in cache:
                cands = set(top5_uni)
                for k in range(1, len(h) + 1):
                    c = self.follow_[k - 1].get(h[-k:])
                    if c is None:
                        break
                    cands.update(c)
                ranked = sorted(cands, key=lambda v: (-self._prob(h, v), v))[:5]
                cache[h] = (ranked[0], set(ranked))
                if len(cache) > 200_000:
                    cache.clear()
            best, five = cache[h]
            top1[t - 1], top5[t - 1] = w == best, w in five
        return logp, top1, top5


def lm_metrics(logp: np.ndarray, top1: np.ndarray, top5: np.ndarray, level: str) -> dict[str, float]:
    """Cross-entropy (nats per token), perplexity, bits per token (``bits_per_char`` at character level,
    ``bits_per_word`` at word level) and top-1 / top-5 accuracy of scored targets."""
    if not len(logp):
        return {}
    ce = float(-np.mean(logp))
    out = {"cross_entropy": ce, "perplexity": float(math.exp(min(ce, 700.0))),
           ("bits_per_char" if level == "char" else "bits_per_word"): ce / math.log(2),
           "accuracy": float(np.mean(top1)), "top5_accuracy": float(np.mean(top5)), "n_tokens": int(len(logp))}
    return out
