"""How the forecast depends on the input: gradient saliency, what-if edits, recursive vs direct."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from rnnlab.errors import ConfigError, DataError
from rnnlab.models import RNNForecaster
from rnnlab.pca import PCAResult
from rnnlab.preprocessing import Preprocessor
from rnnlab.tasks.forecast import ForecastRun, anchor_states, predict_scaled

from ._common import run_parts, times_of
from .states import PC_COLUMNS


# ----------------------------------------------------------------------------- saliency
def saliency(model: RNNForecaster, X: np.ndarray | torch.Tensor, steps: Sequence[int] | None = None,
             chunk: int = 512) -> np.ndarray:
    """``|d forecast_k / d x[t, f]|`` per window, averaged over the horizon steps ``steps``
    (0-based; ``None`` = all steps): ``(n, T, F)`` in units of the scaled model input.

    Computed in batched chunks: every window's forecast depends only on its own input, so the
    gradient of the batch sum gives each window's gradient.
    """
    model.eval()
    Xt = torch.as_tensor(X, dtype=torch.float32)
    h = model.shape.output_size
    ks = list(range(h)) if steps is None else [int(k) for k in steps]
    if not ks or min(ks) < 0 or max(ks) >= h:
        raise ConfigError(f"saliency steps must lie in 0..{h - 1}, got {list(steps or [])}")
    out = []
    with torch.enable_grad():
        for i in range(0, len(Xt), chunk):
            x = Xt[i : i + chunk].clone().requires_grad_(True)  # (B, T, F)
            pred = model(x)[0]  # (B, h)
            acc = torch.zeros_like(x)
            for j, k in enumerate(ks):
                (g,) = torch.autograd.grad(pred[:, k].sum(), x, retain_graph=j < len(ks) - 1)
                acc += g.abs()
            out.append((acc / len(ks)).detach())
    return torch.cat(out).numpy() if out else np.empty((0,) + tuple(Xt.shape[1:]), dtype=np.float32)


def saliency_frame(run: ForecastRun, span: str = "test", step: int | None = None, window: int | None = None) -> pd.DataFrame:
    """Saliency per input position and column: position (1 = oldest step), lag (steps before the
    anchor; 0 = last input step), feature, saliency, share (of the total over positions and
    columns). ``step``: 1-based horizon step or ``None`` for the average over all steps;
    ``window``: one window of the span (position) instead of the mean over the span."""
    prep, model = run_parts(run)
    w = prep.windows_of(span)
    X = w.X if window is None else w.X[[int(window)]]
    steps = None if step is None else [int(step) - 1]
    S = saliency(model, X, steps).mean(axis=0)  # (T, F)
    T, F = S.shape
    total = float(S.sum()) or 1.0
    cols = prep.preprocessor.columns
    pos = np.repeat(np.arange(1, T + 1), F)
    return pd.DataFrame({"position": pos, "lag": T - pos, "feature": np.tile(cols, T), "saliency": S.ravel(),
                         "share": S.ravel() / total})


# ----------------------------------------------------------------------------- what-if
@dataclass
class WhatIf:
    """Forecast and hidden trajectory of one input window, before and after an edit."""

    anchor: int  # row of the window's last input step
    inputs: pd.DataFrame  # time, lag, original, edited (target column, original units)
    forecast: pd.DataFrame  # time, step, original, edited, actual (NaN beyond the data)
    trajectory: pd.DataFrame  # version (original | edited), step, lag, PC1..PC3: top-layer state at each input step
    note: str = ""  # what was edited and how


def edit_window(values: np.ndarray, scale: float = 1.0, shift: float = 0.0, spike_lag: int | None = None,
                spike_size: float = 0.0) -> np.ndarray:
    """Edit a window of target values ``(L,)`` (original units): deviations from the window mean
    are multiplied by ``scale``, then ``shift`` is added, then ``spike_size`` is added at
    ``spike_lag`` steps before the anchor (0 = last input step)."""
    v = np.asarray(values, dtype=np.float64)
    m = v.mean()
    out = m + float(scale) * (v - m) + float(shift)
    if spike_lag is not None and spike_size:
        lag = int(spike_lag)
        if not 0 <= lag < len(v):
            raise ConfigError(f"spike_lag={lag} must be in 0..{len(v) - 1} (steps before the anchor)")
        out[len(v) - 1 - lag] += float(spike_size)
    return out


def _window_model_input(pre: Preprocessor, frame: pd.DataFrame, anchor: int, target_values: np.ndarray | None) -> tuple[np.ndarray, float]:
    """Scaled model input ``(1, L, F)`` of the window ending at ``anchor`` (target column optionally
    replaced by ``target_values (L,)``), through the fitted preprocessor; and the anchor value."""
    L = pre.seq_len
    start = anchor - L + 1 - pre.offset  # one extra row before the window for differenced inputs
    part = frame.iloc[start : anchor + 1].copy()
    if target_values is not None:
        col = part.columns.get_loc(pre.target)
        part.iloc[-L:, col] = np.asarray(target_values, dtype=np.float64)
    try:
        inputs = pre.transform_inputs(part)[-L:]  # (L, F)
    except DataError as exc:
        raise DataError(f"the edited window cannot be fed to the model: {exc}") from exc
    if not np.all(np.isfinite(inputs)):
        raise DataError("the edited window gives non-finite model inputs (e.g. log of a value <= 0); use a smaller edit")
    return inputs[None].astype(np.float32), float(part[pre.target].iloc[-1])


@torch.no_grad()
def _step_states(model: RNNForecaster, X: np.ndarray) -> np.ndarray:
    model.eval()
    states, _ = model.encode(torch.as_tensor(X, dtype=torch.float32))
    return states.numpy()  # (B, T, H*D)


def what_if(run: ForecastRun, scale: float = 1.0, shift: float = 0.0, spike_lag: int | None = None,
            spike_size: float = 0.0, anchor: int | None = None, basis: PCAResult | None = None) -> WhatIf:
    """Edit the target values of one input window (default: the last window, whose forecast
    lies beyond the data) in original units, push it through the run's fitted preprocessor
    (scaling and the level / diff / log-return transform, with the anchor value edited too, so
    relative forecasts start from the edited last value) and return the new forecast and the
    top-layer hidden trajectory in the ``basis`` PCA axes (default: PCA of the test-span anchor
    states). Extra feature columns are left unchanged.
    """
    from .states import pca

    prep, model = run_parts(run)
    pre = prep.preprocessor
    frame = prep.dataset.frame
    n, L, h = len(frame), pre.seq_len, pre.horizon
    a = n - 1 if anchor is None else int(anchor)
    if not pre.min_anchor() <= a < n:
        raise ConfigError(f"anchor={a} must lie in {pre.min_anchor()}..{n - 1}")
    y = prep.y
    orig_vals = y[a - L + 1 : a + 1]
    edited_vals = edit_window(orig_vals, scale, shift, spike_lag, spike_size)
    X0, base0 = _window_model_input(pre, frame, a, None)
    X1, base1 = _window_model_input(pre, frame, a, edited_vals)
    X = np.concatenate([X0, X1])  # (2, L, F)
    p = predict_scaled(model, X)  # (2, h)
    f0 = pre.inverse_targets(p[:1], np.array([base0]))[0]
    f1 = pre.inverse_targets(p[1:], np.array([base1]))[0]
    if basis is None:
        basis = pca(anchor_states(model, prep.test.X), 3)
    S = _step_states(model, X)  # (2, L, H*D)
    t_in = prep.index[a - L + 1 : a + 1]
    rows = np.arange(a + 1, a + h + 1)
    actual = np.where(rows < n, y[np.minimum(rows, n - 1)], np.nan)
    traj = []
    for version, s in (("original", S[0]), ("edited", S[1])):
        Z = basis.padded(s, 3)  # (L, 3)
        f = pd.DataFrame({"version": version, "step": np.arange(1, L + 1), "lag": np.arange(L - 1, -1, -1),
                          "time": t_in})
        for j, name in enumerate(PC_COLUMNS):
            f[name] = Z[:, j]
        traj.append(f)
    parts = []
    if scale != 1.0:
        parts.append(f"deviations from the window mean x{scale:g}")
    if shift:
        parts.append(f"shifted by {shift:+g}")
    if spike_lag is not None and spike_size:
        parts.append(f"spike {spike_size:+g} at {spike_lag} step(s) before the anchor")
    return WhatIf(
        anchor=a,
        inputs=pd.DataFrame({"time": t_in, "lag": np.arange(L - 1, -1, -1), "original": orig_vals, "edited": edited_vals}),
        forecast=pd.DataFrame({"time": times_of(prep, rows), "step": np.arange(1, h + 1), "original": f0, "edited": f1,
                               "actual": actual}),
        trajectory=pd.concat(traj, ignore_index=True),
        note="; ".join(parts) or "no edit",
    )


# ----------------------------------------------------------------------------- recursive vs direct
@dataclass
class RecursiveComparison:
    available: bool
    reason: str  # why recursive is unavailable, or how it was computed
    per_step: pd.DataFrame = field(default_factory=pd.DataFrame)  # step, direct_mae, recursive_mae, direct_rmse, recursive_rmse, naive_mae
    direct: np.ndarray | None = None  # (n, h) original units
    recursive: np.ndarray | None = None  # (n, steps) original units
    anchors: np.ndarray | None = None  # (n,)


def transform_target_rows(pre: Preprocessor, raw: np.ndarray) -> np.ndarray:
    """Scaled model input of the target column for rows of raw values ``(n, m)`` ->
    ``(n, m - offset)``: the same transform as :meth:`Preprocessor.transform_inputs`, vectorised over windows."""
    raw = np.asarray(raw, dtype=np.float64)
    kind = pre.column_kinds_[0]
    if kind == "level":
        v = raw
    elif kind == "diff":
        v = np.diff(raw, axis=1)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.diff(np.log(raw), axis=1)
    return (v - pre.centers_[0]) / pre.scales_[0]


def recursive_forecast(model: RNNForecaster, pre: Preprocessor, y: np.ndarray, anchors: np.ndarray,
                       steps: int) -> np.ndarray:
    """Feed the step-1 forecast back as the next input, ``steps`` times, for all windows at once
    (univariate models only): ``(n, steps)`` in original units."""
    if pre.n_features != 1:
        raise ConfigError("a recursive forecast needs a univariate model (the target is its only input)")
    L, off = pre.seq_len, pre.offset
    a = np.asarray(anchors, dtype=np.int64)
    raw = np.asarray(y, dtype=np.float64)[a[:, None] + np.arange(-L + 1 - off, 1)[None, :]]  # (n, L + off)
    out = np.empty((len(a), steps))
    for k in range(steps):
        X = transform_target_rows(pre, raw[:, -(L + off):])[:, :, None].astype(np.float32)  # (n, L, 1)
        p = predict_scaled(model, X)[:, :1]  # (n, 1) step-1 output in model space
        nxt = pre.inverse_targets(p, raw[:, -1])[:, 0]  # (n,)
        out[:, k] = nxt
        raw = np.concatenate([raw[:, 1:], nxt[:, None]], axis=1)
    return out


def recursive_vs_direct(run: ForecastRun, span: str = "test", steps: int | None = None) -> RecursiveComparison:
    """Error growth per horizon step of the direct forecast (the model's ``horizon`` outputs) and
    of a recursive forecast (step-1 output fed back as input). Multivariate runs get an
    explanation instead, since their extra inputs have no forecast to feed back."""
    prep, model = run_parts(run)
    pre = prep.preprocessor
    if pre.n_features != 1:
        return RecursiveComparison(
            available=False,
            reason=(f"This model reads {pre.n_features} input columns ({', '.join(pre.columns)}). A recursive "
                    f"forecast feeds each one-step forecast back as the next input, but the model forecasts "
                    f"only '{pre.target}', not the extra feature columns, so their future inputs do not exist. "
                    f"Only the direct forecast applies; train a univariate run to compare."))
    w = prep.windows_of(span)
    h = pre.horizon
    steps = h if steps is None else int(steps)
    if not 1 <= steps <= h:
        raise ConfigError(f"steps={steps} must be in 1..{h} (the horizon, where the truth is known for both)")
    direct = pre.inverse_targets(predict_scaled(model, w.X), w.base)  # (n, h)
    rec = recursive_forecast(model, pre, prep.y, w.anchors, steps)  # (n, steps)
    rows = []
    for k in range(steps):
        yt = w.y_true[:, k]
        m = np.isfinite(yt)
        de, re, ne = direct[m, k] - yt[m], rec[m, k] - yt[m], w.base[m] - yt[m]
        rows.append({"step": k + 1, "direct_mae": float(np.mean(np.abs(de))), "recursive_mae": float(np.mean(np.abs(re))),
                     "direct_rmse": float(np.sqrt(np.mean(de**2))), "recursive_rmse": float(np.sqrt(np.mean(re**2))),
                     "naive_mae": float(np.mean(np.abs(ne)))})
    return RecursiveComparison(
        available=True,
        reason="the step-1 forecast is appended to the window (in original units, then re-transformed "
               "and re-scaled like real data) and the model is run again, once per step",
        per_step=pd.DataFrame(rows), direct=direct, recursive=rec, anchors=w.anchors)
