"""Inside a sequence classifier: pooled states of the test sequences, one sequence's state
trajectory with its class probabilities step by step, the pooling weights, a padded batch with its
mask, the misclassified sequences and a per-step saliency (occlusion: the predicted class's
probability without that step). Batched; works for every cell, pooling and direction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from rnnlab.pca import pca
from rnnlab.tasks.classify.prepared import pad_batch
from rnnlab.tasks.classify.run import ClassifyRun, pooled_states


def test_indices(run: ClassifyRun) -> np.ndarray:
    return run.prepared().indices("test")


def sequence_words(run: ClassifyRun, i: int) -> str:
    """``"train-003 (class 4, 12 steps)"`` or ``"Mary (female, 4 characters)"``."""
    ds = run.dataset
    cls = ds.classes[int(ds.labels[i])]
    if ds.texts is not None:
        return f"{ds.texts[i]} ({cls}, {len(ds.texts[i])} characters)"
    return f"{ds.ids[i]} (class {cls}, {len(ds.sequences[i])} steps)"


def pooled_frame(run: ClassifyRun) -> tuple[pd.DataFrame, Any]:
    """Pooled state (what the head reads) of every test sequence in 2-D PCA, with the true and the
    predicted class and whether it is right; and the PCA basis."""
    prep = run.prepared()
    test = test_indices(run)
    items = [prep.items[i] for i in test]
    states = pooled_states(run.model, items).astype(np.float64)
    basis = pca(states, 2)
    proba = run.predict_proba(items)
    classes = run.classes
    frame = pd.DataFrame({"index": test, "id": [prep.dataset.ids[i] for i in test],
                          "PC1": basis.scores[:, 0], "PC2": basis.scores[:, 1] if basis.scores.shape[1] > 1 else 0.0,
                          "true": [classes[k] for k in prep.labels[test]],
                          "predicted": [classes[k] for k in proba.argmax(1)], "confidence": proba.max(1),
                          "length": [len(s) for s in items]})
    frame["correct"] = np.where(frame["true"] == frame["predicted"], "right", "wrong")
    return frame, basis


@torch.no_grad()
def trajectory(run: ClassifyRun, i: int, basis: Any = None) -> pd.DataFrame:
    """Sequence ``i`` step by step: its top-layer state in the PCA plane of the pooled states
    (``basis``, else its own), the pooling weight of the step, and the class probabilities the
    classifier gives after reading the first ``step`` steps only (how early it knows)."""
    prep = run.prepared()
    item = prep.items[i]
    T = len(item)
    model = run.model.eval()
    X, mask = pad_batch([item])
    out = model(torch.from_numpy(X), torch.from_numpy(mask))
    states = out.states[0, :T].numpy().astype(np.float64)  # (T, W)
    xy = basis.padded(states, 2) if basis is not None else pca(states, 2).padded(states, 2)
    prefixes = run.predict_proba([item[:t] for t in range(1, T + 1)])  # (T, C)
    classes = run.classes
    frame = pd.DataFrame({"step": np.arange(1, T + 1), "PC1": xy[:, 0], "PC2": xy[:, 1],
                          "weight": out.weights[0, :T].numpy() if out.weights is not None else np.nan,
                          "predicted": [classes[k] for k in prefixes.argmax(1)]})
    if prep.dataset.texts is not None:
        frame["token"] = list(prep.dataset.texts[i][:T])
    for c, name in enumerate(classes):
        frame[f"p_{name}"] = prefixes[:, c]
    return frame


def probabilities_long(traj: pd.DataFrame) -> pd.DataFrame:
    """The class-probability columns of :func:`trajectory` in long format: step, class, probability."""
    cols = [c for c in traj.columns if c.startswith("p_")]
    long = traj.melt(id_vars=["step"], value_vars=cols, var_name="class", value_name="probability")
    long["class"] = long["class"].str[2:]
    return long


def first_sure_step(traj: pd.DataFrame, final: str) -> int | None:
    """The first step from which the prefix prediction stays ``final`` to the end (None if never)."""
    right = (traj["predicted"] == final).to_numpy()
    if not right[-1]:
        return None
    wrong = np.flatnonzero(~right)
    return int(wrong[-1] + 2) if len(wrong) else 1


def padding_frame(run: ClassifyRun, indices: np.ndarray) -> pd.DataFrame:
    """A batch of these sequences padded as in training (the run's padding side): one row per
    (row, step) with ``valid`` from the mask and the first feature's value (or the character)."""
    prep = run.prepared()
    X, mask = pad_batch([prep.items[i] for i in indices], run.config.padding)
    rows = []
    for r, i in enumerate(indices):
        text = prep.dataset.texts[i] if prep.dataset.texts is not None else None
        k = 0
        for t in range(X.shape[1]):
            valid = bool(mask[r, t])
            value = float(X[r, t, 0]) if X.ndim == 3 else float(X[r, t])
            label = (text[k] if valid and text is not None else ("·" if not valid else ""))
            rows.append({"row": f"{r + 1}: {prep.dataset.ids[i]}", "step": t + 1, "valid": valid,
                         "value": value if valid else 0.0, "token": label})
            k += valid
    return pd.DataFrame(rows)


def misclassified(run: ClassifyRun) -> pd.DataFrame:
    """Wrong test predictions, most confident first."""
    p = run.predictions
    if p is None:
        return pd.DataFrame()
    wrong = p[p["true"] != p["predicted"]].copy()
    if run.dataset.texts is not None:
        text = dict(zip(run.dataset.ids, run.dataset.texts))
        wrong.insert(1, "text", wrong["id"].map(text))
    return wrong.sort_values("confidence", ascending=False).reset_index(drop=True)


def index_of(run: ClassifyRun, seq_id: str) -> int:
    return run.dataset.ids.index(str(seq_id))


def occlusion_saliency(run: ClassifyRun, i: int) -> pd.DataFrame:
    """Per step: how much the probability of the predicted class drops when that step is removed."""
    item = run.prepared().items[i]
    T = len(item)
    full = run.predict_proba([item])[0]
    k = int(full.argmax())
    if T == 1:
        return pd.DataFrame({"step": [1], "saliency": [np.nan]})
    dropped = run.predict_proba([np.concatenate([item[:t], item[t + 1:]]) for t in range(T)])
    frame = pd.DataFrame({"step": np.arange(1, T + 1), "saliency": full[k] - dropped[:, k]})
    if run.dataset.texts is not None:
        frame["token"] = list(run.dataset.texts[i][:T])
    return frame


def frames_long(run: ClassifyRun, i: int) -> pd.DataFrame:
    """Sequence ``i``'s raw frames in long format: step, feature, value (numeric runs)."""
    s = run.dataset.sequences[i]
    names = run.dataset.feature_names
    return pd.DataFrame({"step": np.repeat(np.arange(1, len(s) + 1), len(names)),
                         "feature": np.tile(names, len(s)), "value": s.ravel().astype(np.float64)})
