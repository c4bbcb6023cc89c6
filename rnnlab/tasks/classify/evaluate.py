"""Scoring a classification run: the network and the baselines on the same test sequences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rnnlab.tasks.classify.baselines import baseline_probabilities, classification_metrics, confusion, per_class
from rnnlab.tasks.classify.run import ClassifyRun

BASELINES = {"majority": "majority class", "logistic": "logistic regression (summary features / n-grams)"}


def evaluate(run: ClassifyRun) -> ClassifyRun:
    """Fill ``run.metrics``: ``{"test": {"model"|"majority"|"logistic": {accuracy, balanced_accuracy,
    macro_f1, log_loss}}, "per_class", "confusion", "classes", "n_test_sequences", "verdict"}`` and
    ``run.predictions`` (one row per test sequence)."""
    prep = run.prepared()
    test, train = prep.indices("test"), prep.indices("train")
    y = prep.labels[test]
    proba = run.predict_proba([prep.items[i] for i in test])
    base = baseline_probabilities(prep.dataset, train, test, run.config.max_steps)
    table = {"model": classification_metrics(y, proba)}
    for name, p in base.items():
        table[name] = classification_metrics(y, p)
    classes = run.classes
    run.metrics = {
        "test": table,
        "per_class": {"model": per_class(y, proba, classes), "logistic": per_class(y, base["logistic"], classes)},
        "confusion": {"model": confusion(y, proba.argmax(1), len(classes)).tolist(),
                      "logistic": confusion(y, base["logistic"].argmax(1), len(classes)).tolist()},
        "classes": classes,
        "n_test_sequences": int(len(test)),
        "verdict": verdict(table),
    }
    ds = prep.dataset
    frame = pd.DataFrame({"id": [ds.ids[i] for i in test], "length": [len(prep.items[i]) for i in test],
                          "true": [classes[k] for k in y], "predicted": [classes[k] for k in proba.argmax(1)],
                          "confidence": proba.max(1), "logistic": [classes[k] for k in base["logistic"].argmax(1)]})
    for c, name in enumerate(classes):
        frame[f"p_{name}"] = proba[:, c]
    run.predictions = frame
    return run


def verdict(table: dict[str, dict[str, float]]) -> str:
    """The model against the baselines in one plain sentence (accuracy, then macro F1)."""
    m = table["model"]
    best = max((k for k in table if k != "model"), key=lambda k: table[k]["accuracy"])
    b = table[best]
    if m["accuracy"] > b["accuracy"]:
        return (f"the network beats every baseline: accuracy {m['accuracy']:.3f} vs {b['accuracy']:.3f} "
                f"({BASELINES[best]})")
    if m["accuracy"] == b["accuracy"]:
        return f"the network ties the best baseline ({BASELINES[best]}) at accuracy {m['accuracy']:.3f}"
    return (f"a baseline wins: {BASELINES[best]} reaches accuracy {b['accuracy']:.3f}, the network "
            f"{m['accuracy']:.3f}")


def metrics_table(run: Any) -> pd.DataFrame:
    """Rows model + baselines, columns the four test metrics."""
    rows = run.metrics.get("test", {})
    return pd.DataFrame([{"who": who, **vals} for who, vals in rows.items()]).set_index("who")


def accuracy_by_length(run: ClassifyRun, bins: int = 5) -> pd.DataFrame:
    """Test accuracy of the model and the logistic baseline per length bin (quantiles)."""
    p = run.predictions
    if p is None or p.empty:
        return pd.DataFrame(columns=["lengths", "n", "model", "logistic"])
    edges = np.unique(np.quantile(p["length"], np.linspace(0, 1, bins + 1)))
    cut = pd.cut(p["length"], edges, include_lowest=True, duplicates="drop")
    g = p.assign(bin=cut, ok=p["true"] == p["predicted"], ok_lr=p["true"] == p["logistic"]).groupby(
        "bin", observed=True)
    lo, hi = g["length"].min().to_numpy(), g["length"].max().to_numpy()  # the lengths each bin holds, in steps
    names = [f"{a}" if a == b else f"{a}-{b}" for a, b in zip(lo.astype(int), hi.astype(int), strict=True)]
    return pd.DataFrame({"lengths": names, "n": g.size().to_numpy(),
                         "model": g["ok"].mean().to_numpy(), "logistic": g["ok_lr"].mean().to_numpy()})
