"""Shared helpers of the analysis package.

Vocabulary (see :mod:`rnnlab.preprocessing`): an *anchor* ``t`` is the row of a window's
last input step; the state "at the anchor" is the summary vector the linear head reads
(:meth:`rnnlab.models.RecurrentBackbone.summary`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnlab.calendar import extend_index
from rnnlab.models import RNNForecaster
from rnnlab.tasks.forecast import ForecastRun, Prepared

DEFAULT_CHUNK = 1024  # windows per forward pass


def window_inputs_original(prep: Prepared, anchors: np.ndarray) -> np.ndarray:
    """Target values of each window's input rows in original units: ``(n, seq_len)``."""
    L = prep.preprocessor.seq_len
    idx = np.asarray(anchors, dtype=np.int64)[:, None] + np.arange(-L + 1, 1)[None, :]
    return prep.y[idx]


def times_of(prep: Prepared, rows: np.ndarray) -> pd.DatetimeIndex:
    """Timestamps of rows, extending past the end of the data on the series' calendar."""
    return extend_index(prep.index, rows)


def run_parts(run: ForecastRun) -> tuple[Prepared, RNNForecaster]:
    """``(prepared, model)`` of a run, with the model in eval mode."""
    prep = run.prepared()
    run.model.eval()
    return prep, run.model


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
