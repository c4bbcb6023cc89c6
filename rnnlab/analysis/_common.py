"""Shared helpers of the analysis package: windows of a span, split labels, anchor states.

Vocabulary (see :mod:`rnnlab.preprocessing`): an *anchor* ``t`` is the row of a window's
last input step; the state "at the anchor" is the summary vector the linear head reads
(top layer, last step; for a bidirectional encoder the forward direction's last step
concatenated with the backward direction's step 0, as in :meth:`RNNForecaster.forward`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from rnnlab.errors import ConfigError
from rnnlab.models import RNNForecaster
from rnnlab.preprocessing import Windows

if TYPE_CHECKING:  # pragma: no cover
    from rnnlab.pipeline import Prepared, Run

SPANS = ("train", "val", "test", "all")
DEFAULT_CHUNK = 1024  # windows per forward pass


def span_windows(prep: Prepared, span: str = "test") -> Windows:
    """Windows of ``span``: ``train`` / ``val`` / ``test`` as in the run, or ``all`` = every
    anchor of the series whose inputs exist, including the last row (targets beyond the data are NaN)."""
    if span == "all":
        pre = prep.preprocessor
        n = len(prep.dataset.frame)
        anchors = pre.valid_anchors(n, need_targets=False)
        return pre.windows(prep.dataset.frame, anchors, prep.inputs)
    if span not in SPANS:
        raise ConfigError(f"span={span!r} must be one of {', '.join(SPANS)}")
    return prep.span(span)


def split_labels(prep: Prepared, anchors: np.ndarray) -> np.ndarray:
    """Split of each window by its first target row ``t + 1``: train | val | test | future."""
    first = np.asarray(anchors, dtype=np.int64) + 1
    sp = prep.split
    out = np.full(len(first), "test", dtype=object)
    out[first < sp.val_end] = "val"
    out[first < sp.train_end] = "train"
    out[first >= sp.n_rows] = "future"
    return out


def summary_from_states(model: RNNForecaster, states: torch.Tensor) -> torch.Tensor:
    """``(B, T, H*D)`` top-layer outputs -> ``(B, H*D)`` the vector the head reads."""
    if model.num_directions == 2:
        H = model.config.hidden_size
        return torch.cat([states[:, -1, :H], states[:, 0, H:]], dim=-1)
    return states[:, -1, :]


@torch.no_grad()
def anchor_states(model: RNNForecaster, X: np.ndarray | torch.Tensor, chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    """State at the anchor of every window, in batched chunks: ``(n, H * directions)`` float32.

    Same values as ``pipeline.hidden_states(model, X)[:, -1]`` for a unidirectional model, without
    materialising every step of every window.
    """
    model.eval()
    Xt = torch.as_tensor(X, dtype=torch.float32)
    width = model.config.hidden_size * model.num_directions
    outs = []
    for i in range(0, len(Xt), chunk):
        states, _ = model.rnn(Xt[i : i + chunk])  # (B, T, H*D)
        outs.append(summary_from_states(model, states))
    return torch.cat(outs).numpy() if outs else np.empty((0, width), dtype=np.float32)


def target_values(prep: Prepared) -> np.ndarray:
    """Target in original units, ``(N,)`` float64."""
    return prep.y


def window_inputs_original(prep: Prepared, anchors: np.ndarray) -> np.ndarray:
    """Target values of each window's input rows in original units: ``(n, seq_len)``."""
    L = prep.preprocessor.seq_len
    idx = np.asarray(anchors, dtype=np.int64)[:, None] + np.arange(-L + 1, 1)[None, :]
    return prep.y[idx]


def times_of(prep: Prepared, rows: np.ndarray) -> pd.DatetimeIndex:
    """Timestamps of rows, extending past the end of the data with the inferred step."""
    from rnnlab.pipeline import future_index

    rows = np.asarray(rows, dtype=np.int64)
    idx = prep.index
    extra = int(max(0, rows.max() - (len(idx) - 1))) if len(rows) else 0
    ext = idx.append(future_index(idx, extra)) if extra else idx
    return pd.DatetimeIndex(ext[rows])


def run_parts(run: Run) -> tuple[Prepared, RNNForecaster]:
    """``(prepared, model)`` of a run, with the model in eval mode."""
    prep = run.prepared()
    run.model.eval()
    return prep, run.model


def finite_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation over rows where both are finite; NaN when undefined."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    m = np.isfinite(a) & np.isfinite(b)
    if m.sum() < 3:
        return float("nan")
    a, b = a[m] - a[m].mean(), b[m] - b[m].mean()
    den = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / den) if den > 1e-300 else float("nan")


def corr_matrix(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``A (n, p)`` with every column of ``B (n, q)``:
    ``(p, q)``. Rows where a column of ``B`` is not finite are skipped for that column;
    constant columns give NaN."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    out = np.full((A.shape[1], B.shape[1]), np.nan)
    for j in range(B.shape[1]):
        m = np.isfinite(B[:, j]) & np.isfinite(A).all(axis=1)
        if m.sum() < 3:
            continue
        a = A[m] - A[m].mean(axis=0)  # (m, p)
        b = B[m, j] - B[m, j].mean()  # (m,)
        den = np.sqrt((a * a).sum(axis=0) * (b @ b))  # (p,)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = np.where(den > 1e-300, (a.T @ b) / np.where(den > 0, den, 1.0), np.nan)
    return out
