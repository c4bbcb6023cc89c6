"""Hidden states: PCA trajectories, unit heatmaps, probing, and their evolution during training."""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnlab.errors import ConfigError
from rnnlab.models import RNNForecaster
from rnnlab.pca import PCAResult, pca
from rnnlab.tasks.forecast import ForecastRun, anchor_states, predict_original
from rnnlab.tasks.forecast.evolution import (
    FINAL_EPOCH,
    PC_COLUMNS,
    Evolution,
    TrajectoryRecorder,
    default_epochs,
)

from ._common import corr_matrix, run_parts, times_of

# ----------------------------------------------------------------------------- PCA




def _row_nanmean(a: np.ndarray) -> np.ndarray:
    """Mean of the finite values of each row; NaN for rows without any (no warning)."""
    m = np.isfinite(a)
    cnt = m.sum(axis=1)
    tot = np.where(m, a, 0.0).sum(axis=1)
    return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)


# ----------------------------------------------------------------------------- state frame
@dataclass
class StateAnalysis:
    """Anchor states of a span with their PCA projection, ready for charting."""

    frame: pd.DataFrame  # one row per window; columns below
    pca: PCAResult  # fitted on ``states`` (or the basis passed in)
    states: np.ndarray  # (n, H*D) state at each anchor
    anchors: np.ndarray  # (n,) anchor rows
    span: str

    # frame columns: window (position in the span), anchor, time (anchor time), value (target at the
    # anchor), target_time, actual (step-1 target), prediction (step-1 forecast), error (prediction -
    # actual, step 1), abs_error (mean |error| over the horizon), split, PC1, PC2, PC3


def layer_anchor_states(model: RNNForecaster, X: np.ndarray, layer: int, chunk: int = 512) -> np.ndarray:
    """State of layer ``layer`` (0-based; -1 = top) at each window's anchor: ``(n, H*D)``.
    Bidirectional layers give the forward direction's last step and the backward one's step 0."""
    from .cells import trace_cells

    H = model.config.hidden_size
    out = []
    for i in range(0, len(X), chunk):
        h = trace_cells(model, X[i : i + chunk], gates=False).layers[layer].h  # (B, T, H*D)
        out.append(np.concatenate([h[:, -1, :H], h[:, 0, H:]], axis=1) if model.num_directions == 2 else h[:, -1])
    return np.concatenate(out) if out else np.empty((0, H * model.num_directions), dtype=np.float32)


def state_analysis(run: ForecastRun, span: str = "test", n_components: int = 3, basis: PCAResult | None = None,
                   layer: int | None = None) -> StateAnalysis:
    """Anchor states of every window of ``span`` (train | val | test | all), projected on their
    principal components (or on ``basis``), with values, forecasts and errors for colouring.
    ``layer``: None = the top layer's state the head reads; an index = that layer's state
    (from the explicit cell loop)."""
    prep, model = run_parts(run)
    w = prep.windows_of(span)
    if layer is None:
        states = anchor_states(model, w.X)  # (n, H*D)
    else:
        states = layer_anchor_states(model, w.X, layer)
    fit = basis if basis is not None else pca(states, n_components)
    Z = fit.padded(states, 3)  # (n, 3)
    pred = predict_original(model, prep.preprocessor, w)  # (n, h)
    err = pred - w.y_true  # (n, h); NaN where the target lies beyond the data
    abs_err = _row_nanmean(np.abs(err))  # (n,)
    frame = pd.DataFrame({
        "window": np.arange(len(w)),
        "anchor": w.anchors,
        "time": prep.index[w.anchors],
        "value": prep.y[w.anchors],
        "target_time": times_of(prep, w.anchors + 1),
        "actual": w.y_true[:, 0],
        "prediction": pred[:, 0],
        "error": err[:, 0],
        "abs_error": abs_err,
        "split": prep.split_labels(w.anchors),
    })
    for j, name in enumerate(PC_COLUMNS):
        frame[name] = Z[:, j]
    return StateAnalysis(frame=frame, pca=fit, states=states, anchors=w.anchors, span=span)


# ----------------------------------------------------------------------------- units
def unit_table(states: np.ndarray, target: np.ndarray) -> pd.DataFrame:
    """Per unit: variance, mean and correlation with ``target (n,)`` over the windows.
    Columns: unit, mean, variance, corr_target, abs_corr."""
    S = np.asarray(states, dtype=np.float64)  # (n, U)
    corr = corr_matrix(S, np.asarray(target, dtype=np.float64)[:, None])[:, 0]  # (U,)
    return pd.DataFrame({"unit": np.arange(S.shape[1]), "mean": S.mean(axis=0), "variance": S.var(axis=0),
                         "corr_target": corr, "abs_corr": np.abs(corr)})


def unit_order(table: pd.DataFrame, by: str = "variance") -> np.ndarray:
    """Units sorted by ``variance`` or by ``correlation`` (|corr| with the target), largest first."""
    if by not in ("variance", "correlation"):
        raise ConfigError(f"order by {by!r}: choose 'variance' or 'correlation'")
    key = table["variance"] if by == "variance" else table["abs_corr"].fillna(-1.0)
    return table["unit"].to_numpy()[np.argsort(-key.to_numpy(), kind="stable")]


def unit_heatmap_frame(states: np.ndarray, times: Sequence, target: np.ndarray, by: str = "variance",
                       max_units: int | None = None, max_times: int | None = None) -> pd.DataFrame:
    """Long frame for a units x time heatmap: time, unit, rank (0 = first in the order), activation.

    Units are ordered by :func:`unit_order`; ``max_units`` keeps the first ones; ``max_times``
    thins the windows evenly (every k-th) so charts stay light.
    """
    S = np.asarray(states)  # (n, U)
    order = unit_order(unit_table(S, target), by)
    if max_units is not None:
        order = order[:max_units]
    rows = np.arange(len(S))
    if max_times is not None and len(S) > max_times:
        rows = rows[:: math.ceil(len(S) / max_times)]
    t = pd.Index(times)[rows]
    n_t, n_u = len(rows), len(order)
    return pd.DataFrame({
        "time": np.repeat(np.asarray(t), n_u),
        "unit": np.tile(order, n_t),
        "rank": np.tile(np.arange(n_u), n_t),
        "activation": S[rows][:, order].ravel(),
    })


# ----------------------------------------------------------------------------- probing
PROPERTIES = ("level", "trend", "volatility", "change_sign", "season_sin", "season_cos", "year_sin", "year_cos")


def probe_properties(y: np.ndarray, anchors: np.ndarray, window: int, season: int = 1,
                     index: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """Properties of the series at each anchor, computed from the past only (rows ``<= t``).

    * ``level``: ``y[t]``;
    * ``trend``: least-squares slope of ``y`` over the last ``window`` rows (per step);
    * ``volatility``: standard deviation of the changes ``y[s] - y[s-1]`` over the last ``window`` rows;
    * ``change_sign``: sign of ``y[t] - y[t-1]`` (-1, 0, 1);
    * ``season_sin`` / ``season_cos``: position ``t mod season`` on the unit circle (when ``season > 1``);
    * ``year_sin`` / ``year_cos``: day of the year on the unit circle (datetime index, sub-monthly
      steps and at least a year of data).

    Columns that do not apply are left out. Rows without enough history are NaN.
    """
    y = np.asarray(y, dtype=np.float64)
    a = np.asarray(anchors, dtype=np.int64)
    w = max(2, int(window))
    out: dict[str, np.ndarray] = {"level": y[a]}
    pad = np.concatenate([np.full(w - 1, np.nan), y])  # pad[i + w - 1] = y[i]
    from numpy.lib.stride_tricks import sliding_window_view

    win = sliding_window_view(pad, w)[a]  # (n, w): y[t-w+1 .. t]
    x = np.arange(w) - (w - 1) / 2.0
    out["trend"] = (win - win.mean(axis=1, keepdims=True)) @ x / (x @ x)
    with np.errstate(invalid="ignore"):
        out["volatility"] = np.diff(win, axis=1).std(axis=1)
    prev = np.where(a >= 1, y[np.maximum(a - 1, 0)], np.nan)
    out["change_sign"] = np.sign(y[a] - prev)
    if season and season > 1:
        phase = 2 * np.pi * (a % season) / season
        out["season_sin"], out["season_cos"] = np.sin(phase), np.cos(phase)
    if isinstance(index, pd.DatetimeIndex) and len(index) > 2:
        step = pd.Series(index).diff().median()
        if pd.notna(step) and step <= pd.Timedelta(days=31) and index[-1] - index[0] >= pd.Timedelta(days=365):
            ts = index[a]
            frac = (ts.day_of_year.to_numpy() - 1 + ts.hour.to_numpy() / 24.0) / 365.25
            out["year_sin"], out["year_cos"] = np.sin(2 * np.pi * frac), np.cos(2 * np.pi * frac)
    return pd.DataFrame(out)


def probe_units(states: np.ndarray, properties: pd.DataFrame) -> pd.DataFrame:
    """Correlation of every unit (rows, ``unit`` index) with every property (columns)."""
    S = np.asarray(states, dtype=np.float64)  # (n, U)
    C = corr_matrix(S, properties.to_numpy(np.float64))  # (U, P)
    table = pd.DataFrame(C, columns=list(properties.columns))
    table.index.name = "unit"
    return table


def top_units(corr: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """The ``k`` units with the largest |correlation| per property: property, rank, unit, corr."""
    rows = []
    for prop in corr.columns:
        col = corr[prop].dropna()
        for rank, unit in enumerate(col.abs().sort_values(ascending=False).index[:k], start=1):
            rows.append({"property": prop, "rank": rank, "unit": int(unit), "corr": float(col.loc[unit])})
    return pd.DataFrame(rows, columns=["property", "rank", "unit", "corr"])


@dataclass
class Probing:
    properties: pd.DataFrame  # (n, P) property values per window
    corr: pd.DataFrame  # (U, P) correlation of each unit with each property
    top: pd.DataFrame  # top units per property
    best: pd.DataFrame  # per property: best unit, its corr, and R^2 of a linear probe on all units


def linear_probe_r2(states: np.ndarray, target: np.ndarray, ridge: float = 1e-2, block: int = 20) -> float:
    """Held-out R^2 of a ridge probe predicting ``target`` from all units.

    Windows are cut into time blocks of ``block`` windows; the probe is fitted on the even
    blocks and scored on the odd ones (and vice versa, errors pooled), so neighbouring,
    overlapping windows do not leak between fit and score as much as with a random split.
    NaN when fewer than 40 finite rows.
    """
    S = np.asarray(states, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    m = np.isfinite(t)
    S, t = S[m], t[m]
    n = len(t)
    if n < 40 or np.ptp(t) == 0:
        return float("nan")
    A = np.hstack([S, np.ones((n, 1))])  # (n, U + 1)
    fold = (np.arange(n) // block) % 2
    sse = 0.0
    for k in (0, 1):
        tr, te = fold != k, fold == k
        G = A[tr].T @ A[tr]
        G += ridge * max(1e-12, float(np.trace(G)) / len(G)) * np.eye(len(G))
        coef = np.linalg.solve(G, A[tr].T @ t[tr])
        resid = t[te] - A[te] @ coef
        sse += float(resid @ resid)
    sst = float(((t - t.mean()) ** 2).sum())
    return float(1 - sse / sst) if sst > 0 else float("nan")


def probe_run(run: ForecastRun, span: str = "test", k: int = 3) -> Probing:
    """Which units track level, trend, volatility, direction and seasonal phase (``span`` windows)."""
    prep, model = run_parts(run)
    w = prep.windows_of(span)
    states = anchor_states(model, w.X)
    props = probe_properties(prep.y, w.anchors, prep.preprocessor.seq_len, prep.season, prep.index)
    corr = probe_units(states, props)
    top = top_units(corr, k)
    best_rows = []
    for prop in props.columns:
        col = corr[prop]
        if col.notna().any():
            u = int(col.abs().idxmax())
            best_rows.append({"property": prop, "best_unit": u, "corr": float(col.loc[u]),
                              "probe_r2": linear_probe_r2(states, props[prop].to_numpy())})
        else:
            best_rows.append({"property": prop, "best_unit": -1, "corr": float("nan"), "probe_r2": float("nan")})
    return Probing(properties=props, corr=corr, top=top, best=pd.DataFrame(best_rows))


# ----------------------------------------------------------------------------- evolution during training












def record_evolution(run: ForecastRun, epochs: Sequence[int] | None = None, span: str = "test",
                     stop_event: threading.Event | None = None, max_windows: int = 2000) -> Evolution:
    """Replay the run's training (same config, seed and number of epochs) while recording the
    span's anchor states at ``epochs``: for runs trained without ``record_evolution``.
    ``replay_gap`` says how closely the replay reproduced the run's weights (training is seeded;
    tiny differences can come from thread scheduling)."""
    from rnnlab.pipeline import train

    prep = run.prepared()
    n_epochs = max(1, len(run.history) or int(run.config.epochs))
    cfg = prep.config.replace(epochs=n_epochs)
    replay_prep = dataclasses.replace(prep, config=cfg)
    rec = TrajectoryRecorder(replay_prep, epochs=epochs if epochs is not None else default_epochs(n_epochs),
                             span=span, max_windows=max_windows)
    train(replay_prep, callbacks=[rec], stop_event=stop_event, build=rec.build)
    original = anchor_states(run.model, rec.X)
    final = rec.snapshots[FINAL_EPOCH]
    gap = float(np.max(np.abs(original - final))) if len(original) else 0.0
    return rec.evolution(source="replayed", replay_gap=gap)
