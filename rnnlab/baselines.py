"""Forecast baselines, computed on the same windows as the model, in original units.

* ``naive``: persistence, every step predicts the window's last value ``y[t]``;
* ``seasonal_naive``: ``y[t + k - m * ceil(k / m)]``, the value one season before the target;
* ``linear``: a ridge-regularised linear autoregression on the *same* scaled input window
  predicting the *same* transformed targets, fitted on the training windows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnlab.errors import ConfigError


def naive_forecast(base: np.ndarray, horizon: int) -> np.ndarray:
    """Persistence: ``(n, horizon)`` copies of each window's last value."""
    return np.repeat(np.asarray(base, dtype=np.float64)[:, None], horizon, axis=1)

def seasonal_naive_forecast(y: np.ndarray, anchors: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """``y[t + k - m * ceil(k / m)]`` for k = 1..horizon; falls back to ``y[t]`` where the
    season reaches before the start of the series (or when ``season <= 1``)."""
    y = np.asarray(y, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.int64)
    k = np.arange(1, horizon + 1)
    if season <= 1:
        return naive_forecast(y[anchors], horizon)
    lag_back = season * np.ceil(k / season).astype(np.int64)  # (h,)
    idx = anchors[:, None] + k[None, :] - lag_back[None, :]  # (n, h)
    fallback = np.broadcast_to(anchors[:, None], idx.shape)
    idx = np.where(idx >= 0, idx, fallback)
    return y[idx]

@dataclass
class LinearAR:
    """Ridge regression from a flattened input window to the transformed targets.

    Fitted on training windows only. ``coef_`` is ``(L*F + 1, horizon)`` with the bias last.
    """

    alpha: float = 1e-3  # ridge penalty relative to the mean diagonal of X'X
    coef_: np.ndarray | None = None

    def fit(self, X: np.ndarray, Y: np.ndarray) -> LinearAR:
        A = np.hstack([X.reshape(len(X), -1).astype(np.float64), np.ones((len(X), 1))])
        Yd = Y.astype(np.float64)
        gram = A.T @ A
        reg = self.alpha * float(np.trace(gram)) / gram.shape[0] * np.eye(gram.shape[0])
        reg[-1, -1] = 0.0  # do not shrink the bias
        self.coef_ = np.linalg.solve(gram + reg, A.T @ Yd)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.coef_ is None:
            raise ConfigError("the linear baseline is not fitted; call fit() on the training windows first")
        A = np.hstack([X.reshape(len(X), -1).astype(np.float64), np.ones((len(X), 1))])
        return A @ self.coef_

    def to_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "coef_": None if self.coef_ is None else self.coef_.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LinearAR:
        obj = cls(alpha=float(d.get("alpha", 1e-3)))
        if d.get("coef_") is not None:
            obj.coef_ = np.asarray(d["coef_"], dtype=np.float64)
        return obj
