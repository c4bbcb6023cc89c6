"""Principal component analysis by SVD (numpy only): the axes of every state-trajectory view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.errors import ConfigError


@dataclass
class PCAResult:
    """Principal components of ``X (n, d)`` by SVD of the centred data."""

    mean: np.ndarray  # (d,) column means removed before projecting
    components: np.ndarray  # (k, d) principal axes (rows, unit length), largest variance first
    explained_variance: np.ndarray  # (k,) variance along each axis (ddof=1)
    explained_variance_ratio: np.ndarray  # (k,) share of the total variance; sums to <= 1
    scores: np.ndarray  # (n, k) coordinates of the fitted rows

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Project rows of ``X (..., d)`` onto the axes: ``(..., k)``."""
        return (np.asarray(X, dtype=np.float64) - self.mean) @ self.components.T

    def padded(self, X: np.ndarray, k: int = 3) -> np.ndarray:
        """:meth:`transform` padded with zero columns up to ``k`` (for fewer units than ``k``)."""
        Z = self.transform(X)
        if Z.shape[-1] >= k:
            return Z[..., :k]
        pad = np.zeros(Z.shape[:-1] + (k - Z.shape[-1],))
        return np.concatenate([Z, pad], axis=-1)


def pca(X: np.ndarray, n_components: int = 3) -> PCAResult:
    """PCA via SVD. ``k = min(n_components, n, d)`` components are returned. Signs are fixed so
    each axis' largest-magnitude loading is positive (deterministic, like scikit-learn's svd_flip)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ConfigError(f"pca expects a 2-D array (rows x features), got shape {X.shape}")
    n, d = X.shape
    mean = X.mean(axis=0) if n else np.zeros(d)
    k = max(0, min(n_components, n, d))
    if n == 0 or k == 0:
        return PCAResult(mean, np.zeros((0, d)), np.zeros(0), np.zeros(0), np.zeros((n, 0)))
    Xc = X - mean  # (n, d)
    _, S, Vt = np.linalg.svd(Xc, full_matrices=False)  # S: (min(n,d),), Vt: (min(n,d), d)
    comps = Vt[:k]
    signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
    signs[signs == 0] = 1.0
    comps = comps * signs[:, None]
    var_all = S**2 / max(1, n - 1)
    total = float(var_all.sum())
    var = var_all[:k]
    ratio = var / total if total > 0 else np.zeros(k)
    return PCAResult(mean=mean, components=comps, explained_variance=var, explained_variance_ratio=ratio,
                     scores=Xc @ comps.T)
