"""Baselines of the classify task, fitted on the training sequences and scored on the same test
sequences as the network, and the classification metrics.

* ``majority``: always the most frequent training class (probabilities: the training class shares);
* ``logistic``: multinomial logistic regression (L2, full-batch L-BFGS) on per-sequence features
  that ignore the order of the steps beyond first and last: for numeric frames the mean, std,
  first and last value of every feature plus the length (:func:`summary_features`); for texts the
  counts of character 1-, 2- and 3-grams with word boundaries (:class:`NGrams`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from rnnlab.sequences import SequenceDataset


def summary_features(frames: list[np.ndarray]) -> np.ndarray:
    """``(n, 4 F + 1)``: mean, std, first, last of every feature, and the length."""
    rows = [np.concatenate([s.mean(0), s.std(0), s[0], s[-1], [len(s)]]) for s in frames]
    return np.asarray(rows, dtype=np.float64)


@dataclass
class NGrams:
    """Character n-gram counts (``^name$`` with boundary marks), vocabulary from the training texts."""

    n_max: int = 3
    min_count: int = 2  # n-grams seen fewer times in training are dropped
    grams_: list[str] = field(default_factory=list)

    def _grams(self, text: str) -> list[str]:
        t = f"^{text.lower()}$"
        return [t[i:i + n] for n in range(1, self.n_max + 1) for i in range(len(t) - n + 1)]

    def fit(self, texts: list[str]) -> NGrams:
        counts: dict[str, int] = {}
        for t in texts:
            for g in self._grams(t):
                counts[g] = counts.get(g, 0) + 1
        self.grams_ = sorted(g for g, c in counts.items() if c >= self.min_count)
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        index = {g: i for i, g in enumerate(self.grams_)}
        X = np.zeros((len(texts), len(self.grams_)), dtype=np.float64)
        for r, t in enumerate(texts):
            for g in self._grams(t):
                j = index.get(g)
                if j is not None:
                    X[r, j] += 1
        return X


@dataclass
class LogisticRegression:
    """Multinomial logistic regression on standardised features (statistics of the training rows)."""

    l2: float = 1e-3  # penalty on the weights (not the bias), per training row
    max_iter: int = 200
    mean_: np.ndarray | None = None
    scale_: np.ndarray | None = None
    coef_: np.ndarray | None = None  # (features + 1, classes), bias last

    def fit(self, X: np.ndarray, y: np.ndarray, n_classes: int) -> LogisticRegression:
        self.mean_ = X.mean(0)
        sd = X.std(0)
        self.scale_ = np.where(sd > 1e-12, sd, 1.0)
        Z = torch.from_numpy((X - self.mean_) / self.scale_)
        Z = torch.cat([Z, torch.ones(len(Z), 1, dtype=Z.dtype)], dim=1)
        yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
        W = torch.zeros(Z.shape[1], n_classes, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([W], lr=1.0, max_iter=self.max_iter, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(Z @ W, yt) + self.l2 * (W[:-1] ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        self.coef_ = W.detach().numpy()
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        assert self.coef_ is not None and self.mean_ is not None and self.scale_ is not None
        Z = np.hstack([(X - self.mean_) / self.scale_, np.ones((len(X), 1))])
        logits = Z @ self.coef_
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)


def baseline_probabilities(ds: SequenceDataset, train: np.ndarray, test: np.ndarray,
                           max_steps: int) -> dict[str, np.ndarray]:
    """``{"majority": (n_test, C), "logistic": (n_test, C)}`` class probabilities on ``test``."""
    y = np.asarray(ds.labels, dtype=np.int64)
    C = ds.n_classes
    prior = np.bincount(y[train], minlength=C) / len(train)  # its probabilities: the training class shares
    majority = np.tile(prior, (len(test), 1))
    if ds.kind == "frames":
        frames = [s[:max_steps].astype(np.float64) for s in ds.sequences]
        X = summary_features(frames)
    else:
        grams = NGrams().fit([ds.texts[i] for i in train])
        X = grams.transform(list(ds.texts))
    logistic = LogisticRegression().fit(X[train], y[train], C).predict_proba(X[test])
    return {"majority": majority, "logistic": logistic}


# ----------------------------------------------------------------------------- metrics
def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``(C, C)`` counts: row = true class, column = predicted class."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return m


def classification_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """accuracy, balanced accuracy (mean recall over the classes present), macro F1 (over the
    classes present or predicted), log loss (probabilities clipped at 1e-7)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    C = proba.shape[1]
    pred = proba.argmax(1)
    m = confusion(y_true, pred, C)
    support, predicted, hits = m.sum(1), m.sum(0), np.diag(m)
    present = support > 0
    recall = np.divide(hits, support, out=np.zeros(C), where=support > 0)
    precision = np.divide(hits, predicted, out=np.zeros(C), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(C), where=(precision + recall) > 0)
    used = present | (predicted > 0)
    p_true = np.clip(proba[np.arange(len(y_true)), y_true], 1e-7, 1.0)
    return {"accuracy": float((pred == y_true).mean()) if len(y_true) else float("nan"),
            "balanced_accuracy": float(recall[present].mean()) if present.any() else float("nan"),
            "macro_f1": float(f1[used].mean()) if used.any() else float("nan"),
            "log_loss": float(-np.log(p_true).mean()) if len(y_true) else float("nan")}


def per_class(y_true: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict[str, dict[str, float]]:
    """Per class: precision, recall, F1 and support."""
    C = len(classes)
    m = confusion(y_true, proba.argmax(1), C)
    out = {}
    for c, name in enumerate(classes):
        tp, support, predicted = m[c, c], m[c].sum(), m[:, c].sum()
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        out[name] = {"precision": float(p), "recall": float(r), "f1": float(2 * p * r / (p + r)) if p + r else 0.0,
                     "support": int(support)}
    return out
