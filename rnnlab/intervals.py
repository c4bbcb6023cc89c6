"""Split-conformal prediction intervals per forecast step, calibrated on the validation span.

For a forecaster (the model or a baseline) and each horizon step ``k``, the nonconformity score
of a validation window is ``|y - yhat| / s`` where ``s`` is 1 (``absolute``) or a local scale of
the window (``adaptive``: the mean absolute one-step change of the target over the *input
window*, so no value after the anchor is used). The half-width at level ``1 - a`` is the
``ceil((n + 1)(1 - a))``-th smallest of the ``n`` scores (the finite-sample correction of split
conformal prediction; infinite when that rank exceeds ``n``). The band of a new window is
``yhat +- q_k * s``.

Validation windows overlap and errors are serially correlated, so the exchangeability behind the
guarantee holds only approximately; the test-span coverage is measured and reported, never assumed.

Scores on the test span: empirical coverage and mean width per level (overall and per step), and
the mean scaled interval score (MSIS, the M4 competition's interval metric) at ``alpha = 0.05``::

    MSIS = mean(U - L + 2/a (L - y) 1{y < L} + 2/a (y - U) 1{y > U}) / scale

with ``scale`` the in-sample MAE of the seasonal-naive forecast on the training span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnlab.errors import ConfigError, RunError

DEFAULT_LEVELS = (0.8, 0.95)
METHODS = ("absolute", "adaptive")
MSIS_ALPHA = 0.05  # the M4 competition's level: the 95 % interval


def level_key(level: float) -> str:
    """``0.8 -> "0.8"`` (the key in metrics.json and intervals.json)."""
    return f"{float(level):g}"


def level_label(level: float) -> str:
    """``0.8 -> "80"``, ``0.975 -> "97.5"`` (column names ``lower_80``, ``upper_80``)."""
    return f"{float(level) * 100:g}"


def parse_levels(values: Any) -> tuple[float, ...]:
    """Levels from text or numbers, each in (0, 1), sorted and unique; :class:`ConfigError` otherwise."""
    out = []
    for v in values:
        try:
            level = float(v)
        except (TypeError, ValueError):
            raise ConfigError(f"interval level {v!r} is not a number; give levels in (0, 1) such as 0.8,0.95") from None
        if not (0.0 < level < 1.0):
            raise ConfigError(f"interval level {v!r} must lie in (0, 1) (0.8 is an 80 % interval)")
        out.append(level)
    return tuple(sorted(set(out)))


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ``ceil((n + 1) * level)``-th smallest finite score (inf when that rank exceeds ``n``)."""
    s = np.sort(np.asarray(scores, dtype=np.float64)[np.isfinite(scores)])
    n = len(s)
    rank = math.ceil((n + 1) * level - 1e-12)
    if n == 0 or rank > n:
        return math.inf
    return float(s[max(rank, 1) - 1])


def local_scale(y: np.ndarray, anchors: np.ndarray, seq_len: int) -> np.ndarray:
    """Mean absolute one-step change of ``y`` over each input window ``y[t - seq_len + 1 .. t]``: ``(n,)``.

    Uses only values up to the anchor. Windows without any change get the median of the others
    (or 1 when no window moves), so a flat window cannot give a zero-width band."""
    y = np.asarray(y, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.int64)
    d = np.abs(np.diff(y))
    d = np.where(np.isfinite(d), d, 0.0)
    csum = np.concatenate([[0.0], np.cumsum(d)])  # csum[j] = sum(d[:j])
    # window rows t-L+1..t hold the changes d[t-L+1 .. t-1]
    lo = np.clip(anchors - seq_len + 1, 0, None)
    hi = np.clip(anchors, 0, None)
    count = np.maximum(hi - lo, 1)
    scale = (csum[hi] - csum[lo]) / count
    good = scale > 0
    fill = float(np.median(scale[good])) if good.any() else 1.0
    return np.where(good, scale, fill)


@dataclass
class Calibration:
    """Per-step conformal half-widths of every forecaster, from the validation span."""

    method: str  # absolute | adaptive (half-width = q * local_scale of the window)
    levels: tuple[float, ...]  # nominal coverages, e.g. (0.8, 0.95)
    seq_len: int  # input window of the local scale (adaptive)
    quantiles: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # who -> level key -> (h,)
    n_windows: int = 0  # validation windows the quantiles come from
    reason: str = ""  # why this method (shown to the user)

    def scale(self, y: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        """The windows' scale ``s``: ones (absolute) or :func:`local_scale` (adaptive): ``(n,)``."""
        if self.method == "adaptive":
            return local_scale(y, anchors, self.seq_len)
        return np.ones(len(anchors))

    def bands(self, who: str, point: np.ndarray, scale: np.ndarray,
              levels: tuple[float, ...] | None = None) -> dict[float, tuple[np.ndarray, np.ndarray]]:
        """``level -> (lower, upper)`` around ``point (n, h)`` for forecaster ``who``."""
        if who not in self.quantiles:
            raise ConfigError(f"no interval calibration for {who!r}; calibrated: {', '.join(self.quantiles)}")
        out = {}
        for level in levels or self.levels:
            q = np.asarray(self.quantiles[who][level_key(level)], dtype=np.float64)  # (h,)
            half = q[None, :] * np.asarray(scale, dtype=np.float64)[:, None]
            out[level] = (point - half, point + half)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "levels": list(self.levels), "seq_len": self.seq_len,
                "n_windows": self.n_windows, "reason": self.reason,
                "quantiles": {w: {k: [v if math.isfinite(v) else None for v in q] for k, q in by.items()}
                              for w, by in self.quantiles.items()}}

    @classmethod
    def from_dict(cls, d: Any) -> Calibration:
        try:
            quantiles = {str(w): {str(k): [math.inf if v is None else float(v) for v in q] for k, q in by.items()}
                         for w, by in d["quantiles"].items()}
            out = cls(method=str(d["method"]), levels=parse_levels(d["levels"]), seq_len=int(d["seq_len"]),
                      quantiles=quantiles, n_windows=int(d.get("n_windows", 0)), reason=str(d.get("reason", "")))
        except (KeyError, TypeError, ValueError, AttributeError, ConfigError) as exc:
            raise RunError(f"intervals.json is not a valid interval calibration: {exc}") from exc
        if out.method not in METHODS:
            raise RunError(f"intervals.json: method={out.method!r} must be one of {', '.join(METHODS)}")
        return out


def calibrate(y_true: np.ndarray, forecasts: dict[str, np.ndarray], scale: np.ndarray, levels: tuple[float, ...],
              method: str, seq_len: int, reason: str = "") -> Calibration:
    """Half-widths from validation windows: ``y_true (n, h)``, ``forecasts`` who -> ``(n, h)``,
    ``scale (n,)`` of each window (ones for ``absolute``). The MSIS level is always calibrated too."""
    if method not in METHODS:
        raise ConfigError(f"interval method={method!r} must be one of {', '.join(METHODS)}")
    levels = parse_levels(levels)
    all_levels = parse_levels((*levels, 1 - MSIS_ALPHA))
    yt = np.asarray(y_true, dtype=np.float64)
    s = np.asarray(scale, dtype=np.float64)[:, None]
    quantiles = {}
    for who, f in forecasts.items():
        scores = np.abs(yt - np.asarray(f, dtype=np.float64)) / s  # (n, h)
        quantiles[who] = {level_key(a): [conformal_quantile(scores[:, k], a) for k in range(yt.shape[1])]
                          for a in all_levels}
    return Calibration(method=method, levels=levels, seq_len=int(seq_len), quantiles=quantiles,
                       n_windows=int(len(yt)), reason=reason)


def msis(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray, scale: float, alpha: float = MSIS_ALPHA) -> float:
    """Mean scaled interval score over all finite points (M4's MSIS; lower is better)."""
    yt, lo, hi = (np.asarray(a, dtype=np.float64) for a in (y_true, lower, upper))
    mask = np.isfinite(yt) & np.isfinite(lo) & np.isfinite(hi)
    if not mask.any() or not scale or not math.isfinite(scale) or scale <= 0:
        return float("nan")
    yt, lo, hi = yt[mask], lo[mask], hi[mask]
    score = (hi - lo) + 2 / alpha * (lo - yt) * (yt < lo) + 2 / alpha * (yt - hi) * (yt > hi)
    return float(np.mean(score) / scale)


def coverage_table(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict[str, Any]:
    """Empirical coverage and mean width, overall and per step (index 0 = one step ahead)."""
    yt, lo, hi = (np.asarray(a, dtype=np.float64) for a in (y_true, lower, upper))
    mask = np.isfinite(yt) & np.isfinite(lo) & np.isfinite(hi)
    inside = ((yt >= lo) & (yt <= hi) & mask).astype(np.float64)
    width = np.where(mask, hi - lo, 0.0)
    counts = mask.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov_k = inside.sum(axis=0) / counts
        wid_k = width.sum(axis=0) / counts
    total = int(mask.sum())
    return {"coverage": float(inside.sum() / total) if total else float("nan"),
            "width": float(width.sum() / total) if total else float("nan"),
            "coverage_by_step": [float(v) for v in cov_k], "width_by_step": [float(v) for v in wid_k]}


def score_intervals(cal: Calibration, y_true: np.ndarray, forecasts: dict[str, np.ndarray], scale: np.ndarray,
                    msis_scale: float) -> dict[str, Any]:
    """``{"0.8": {who: {"coverage", "width", ...}}, ..., "msis": {who: float}, "method", "n_calibration"}``."""
    out: dict[str, Any] = {}
    for level in cal.levels:
        out[level_key(level)] = {who: coverage_table(y_true, *cal.bands(who, f, scale, (level,))[level])
                                 for who, f in forecasts.items()}
    a95 = 1 - MSIS_ALPHA
    out["msis"] = {who: msis(y_true, *cal.bands(who, f, scale, (a95,))[a95], msis_scale)
                   for who, f in forecasts.items()}
    out["method"] = cal.method
    out["method_reason"] = cal.reason
    out["n_calibration"] = cal.n_windows
    return out


def level_keys(intervals: dict[str, Any]) -> list[str]:
    """The level entries of a metrics ``"intervals"`` mapping (``["0.8", "0.95"]``), sorted."""
    keys = []
    for k in intervals:
        try:
            float(k)
        except ValueError:
            continue
        keys.append(k)
    return sorted(keys, key=float)
