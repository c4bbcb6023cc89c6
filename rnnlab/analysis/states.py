"""Hidden states: PCA trajectories, unit heatmaps, probing, and their evolution during training."""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rnnlab.errors import ConfigError
from rnnlab.models import ModelConfig, RNNForecaster, build_model
from rnnlab.pipeline import predict_original
from rnnlab.training import TrainEvent

from ._common import (
    anchor_states,
    corr_matrix,
    run_parts,
    span_windows,
    split_labels,
    times_of,
)

if TYPE_CHECKING:  # pragma: no cover
    from rnnlab.pipeline import Prepared, Run

PC_COLUMNS = ("PC1", "PC2", "PC3")


# ----------------------------------------------------------------------------- PCA
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


def state_analysis(run: Run, span: str = "test", n_components: int = 3, basis: PCAResult | None = None,
                   layer: int | None = None) -> StateAnalysis:
    """Anchor states of every window of ``span`` (train | val | test | all), projected on their
    principal components (or on ``basis``), with values, forecasts and errors for colouring.
    ``layer``: None = the top layer's state the head reads; an index = that layer's state
    (from the explicit cell loop)."""
    prep, model = run_parts(run)
    w = span_windows(prep, span)
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
        "split": split_labels(prep, w.anchors),
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


def probe_run(run: Run, span: str = "test", k: int = 3) -> Probing:
    """Which units track level, trend, volatility, direction and seasonal phase (``span`` windows)."""
    prep, model = run_parts(run)
    w = span_windows(prep, span)
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
def default_epochs(max_epochs: int) -> tuple[int, ...]:
    """Epochs worth a snapshot: 0 (initial weights), 1, 2, 3, 5, 8, 10, 15, 20, 30, 50, ... up to
    ``max_epochs`` (included)."""
    marks = [0, 1, 2, 3, 5, 8]
    v = 10
    while v < max_epochs:
        marks.extend([v, int(v * 1.5), 2 * v, 3 * v, 5 * v])
        v *= 10
    out = sorted({m for m in marks if m <= max_epochs} | {max_epochs})
    return tuple(out)


FINAL_EPOCH = -1  # snapshot key of the final (best, restored) weights


def _final_last(epochs: Iterable[int]) -> list[int]:
    """Epochs in training order with :data:`FINAL_EPOCH` last."""
    return sorted(epochs, key=lambda e: (e == FINAL_EPOCH, e))


def _evolution_frame(prep: Prepared, snapshots: dict[int, np.ndarray], windows: np.ndarray, anchors: np.ndarray,
                     basis: PCAResult) -> pd.DataFrame:
    """Long frame: epoch, window, time, value, split, PC1, PC2, PC3 (one row per snapshot and window)."""
    if len(anchors) and (int(np.min(anchors)) < 0 or int(np.max(anchors)) >= len(prep.index)):
        raise ConfigError(f"the snapshots' windows (rows {int(np.min(anchors))}..{int(np.max(anchors))}) "
                          f"lie outside the {len(prep.index)} rows of the data")
    frames = []
    for epoch in _final_last(snapshots):
        Z = basis.padded(snapshots[epoch], 3)
        f = pd.DataFrame({"epoch": epoch, "window": windows, "time": prep.index[anchors],
                          "value": prep.y[anchors], "split": split_labels(prep, anchors)})
        for j, name in enumerate(PC_COLUMNS):
            f[name] = Z[:, j]
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


@dataclass
class Evolution:
    """Anchor states of a span's windows at a few epochs of one training: how the trajectory formed.

    ``states[i]`` is the snapshot after epoch ``epochs[i]``: 0 = the initial weights,
    :data:`FINAL_EPOCH` (always last) = the weights the run kept. Plain arrays, so a run folder
    can store it (:mod:`rnnlab.runs` writes ``evolution.safetensors``); :meth:`frame` projects
    every snapshot on the PCA basis of the final one, so epochs compare in the same axes.
    """

    epochs: list[int]  # recorded epochs in training order, FINAL_EPOCH last
    states: np.ndarray  # (E, m, H*D) float32 snapshot per epoch
    windows: np.ndarray  # (m,) positions of the recorded windows in the span (evenly thinned)
    anchors: np.ndarray  # (m,) their anchor rows in the data
    val_losses: dict[int, float] = field(default_factory=dict)  # validation loss after a recorded epoch
    span: str = "test"
    source: str = "recorded"  # "recorded" during the run's training | "replayed" afterwards (record_evolution)
    replay_gap: float = 0.0  # replayed: max |replayed final state - run's state| (0 when recorded)

    def __post_init__(self) -> None:
        self.epochs = [int(e) for e in self.epochs]
        self.states = np.asarray(self.states, dtype=np.float32)
        self.windows = np.asarray(self.windows, dtype=np.int64)
        self.anchors = np.asarray(self.anchors, dtype=np.int64)
        m = len(self.anchors)
        if self.states.ndim != 3 or self.states.shape[:2] != (len(self.epochs), m) or self.windows.shape != (m,):
            raise ConfigError(f"evolution arrays do not match: {len(self.epochs)} epochs, states {self.states.shape}, "
                              f"{len(self.windows)} windows, {m} anchors")
        if not self.epochs or self.epochs[-1] != FINAL_EPOCH or self.epochs != _final_last(set(self.epochs)):
            raise ConfigError(f"evolution epochs {self.epochs} must be distinct, increasing and end with the final weights")
        if self.source not in ("recorded", "replayed"):
            raise ConfigError(f"evolution source {self.source!r} must be 'recorded' or 'replayed'")

    def snapshot(self, epoch: int) -> np.ndarray:
        """States after ``epoch`` (:data:`FINAL_EPOCH` = kept weights): ``(m, H*D)``."""
        return self.states[self.epochs.index(epoch)]

    def basis(self, n_components: int = 3) -> PCAResult:
        """PCA of the final states: the common axes of every snapshot."""
        return pca(self.states[-1], n_components)

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        return self.basis().explained_variance_ratio

    def frame(self, prep: Prepared, basis: PCAResult | None = None) -> pd.DataFrame:
        """Long frame for charting: epoch, window, time, value, split, PC1, PC2, PC3 on ``basis``
        (default: :meth:`basis`). ``prep``: the run's windows (``run.prepared()``)."""
        snaps = {e: self.states[i] for i, e in enumerate(self.epochs)}
        return _evolution_frame(prep, snaps, self.windows, self.anchors, basis or self.basis())


class TrajectoryRecorder:
    """A :class:`~rnnlab.training.Trainer` callback that records the anchor states of a span's
    windows at chosen epochs.

    The trainer's events carry no model: ``pipeline.train(prep, record_evolution=True)`` attaches
    one to the model it builds and returns ``run.evolution``. By hand, pass :meth:`build` as
    ``pipeline.train(..., build=recorder.build)`` or give it the model with :meth:`attach`::

        rec = TrajectoryRecorder(prep, epochs=(0, 1, 2, 5, 10))
        run = pipeline.train(prep, callbacks=[rec], build=rec.build)
        evo = rec.evolution()   # or rec.frame(): PC1..PC3 of every snapshot on the final states' basis

    Snapshots: ``epoch 0`` = initial weights (on the ``start`` event), ``epoch e`` = weights after
    epoch ``e``, :data:`FINAL_EPOCH` = the weights kept at the end (best validation epoch).
    Each costs one forward pass of the recurrent layers over the kept windows, about a
    validation pass. Windows are thinned evenly to at most ``max_windows``, and further so
    that all snapshots together hold at most ``max_values`` numbers (16 MB of float32 by
    default; wide models keep fewer windows).
    """

    def __init__(self, prepared: Prepared, epochs: Sequence[int] | None = None, span: str = "test",
                 max_windows: int = 2000, max_values: int = 4_000_000) -> None:
        self.prepared = prepared
        self.span = span
        self.epochs = frozenset(default_epochs(prepared.config.epochs) if epochs is None else epochs)
        cfg = prepared.config
        width = cfg.hidden_size * (2 if cfg.bidirectional else 1)
        keep = max(1, min(max_windows or 10**12, max_values // ((len(self.epochs) + 1) * width)))
        w = span_windows(prepared, span)
        self.rows = np.arange(0, len(w), max(1, math.ceil(len(w) / keep)))  # (m,) windows kept (evenly thinned)
        self.X = w.X[self.rows]  # (m, T, F)
        self.anchors = w.anchors[self.rows]
        self.model: RNNForecaster | None = None
        self.snapshots: dict[int, np.ndarray] = {}  # epoch -> (m, H*D)
        self.val_losses: dict[int, float] = {}
        self.seconds = 0.0  # time spent recording (the recorder's cost to the training thread)
        self._lock = threading.Lock()

    def build(self, config: ModelConfig) -> RNNForecaster:
        self.model = build_model(config)
        return self.model

    def attach(self, model: RNNForecaster) -> TrajectoryRecorder:
        self.model = model
        return self

    def record(self, epoch: int) -> None:
        if self.model is None:
            return
        t0 = time.perf_counter()
        was_training = self.model.training
        states = anchor_states(self.model, self.X)
        self.model.train(was_training)
        with self._lock:
            self.snapshots[epoch] = states
        self.seconds += time.perf_counter() - t0

    def __call__(self, ev: TrainEvent) -> None:
        if ev.kind == "start" and 0 in self.epochs:
            self.record(0)
        elif ev.kind == "epoch" and ev.epoch in self.epochs:
            self.record(ev.epoch)
            self.val_losses[ev.epoch] = ev.val_loss
        elif ev.kind == "end":
            if ev.best_epoch > 0 and ev.best_epoch in self.snapshots:
                # the kept weights are that epoch's (restored from its copy): the same states, no forward pass
                with self._lock:
                    self.snapshots[FINAL_EPOCH] = self.snapshots[ev.best_epoch]
            else:
                self.record(FINAL_EPOCH)

    def basis(self, n_components: int = 3) -> PCAResult:
        """PCA fitted on the final snapshot (or the latest one), so every epoch is drawn in the same axes."""
        with self._lock:
            if not self.snapshots:
                raise ConfigError("no snapshot recorded yet")
            key = FINAL_EPOCH if FINAL_EPOCH in self.snapshots else max(self.snapshots)
            return pca(self.snapshots[key], n_components)

    def frame(self, basis: PCAResult | None = None) -> pd.DataFrame:
        """Long frame: epoch, window, time, value, split, PC1, PC2, PC3 (one row per snapshot and window);
        also while training runs (on the latest snapshot's basis until the final one exists)."""
        basis = basis or self.basis()
        with self._lock:
            snaps = dict(self.snapshots)
        return _evolution_frame(self.prepared, snaps, self.rows, self.anchors, basis)

    def evolution(self, source: str = "recorded", replay_gap: float = 0.0) -> Evolution:
        """The snapshots as an :class:`Evolution` (after the ``end`` event: needs the final one)."""
        with self._lock:
            if FINAL_EPOCH not in self.snapshots:
                raise ConfigError("the training has not ended: no snapshot of the final weights yet")
            order = _final_last(self.snapshots)
            states = np.stack([self.snapshots[e] for e in order])
        return Evolution(epochs=order, states=states, windows=self.rows, anchors=self.anchors,
                         val_losses={e: float(v) for e, v in self.val_losses.items()}, span=self.span,
                         source=source, replay_gap=replay_gap)


def record_evolution(run: Run, epochs: Sequence[int] | None = None, span: str = "test",
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
