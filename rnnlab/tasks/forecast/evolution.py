"""Evolution during training: the test-span states at a few epochs, recorded by a Trainer callback.

:class:`TrajectoryRecorder` is attached by :func:`rnnlab.pipeline.train` (``record_evolution=True``)
to the model it builds; the finished run carries the :class:`Evolution` (saved as
``evolution.safetensors``), so the Hidden states page draws how the trajectory formed without
replaying the training.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnlab.errors import ConfigError, RunError
from rnnlab.jsonfiles import null_to_nan, to_json_safe
from rnnlab.models import ModelShape, RNNForecaster, build_model
from rnnlab.pca import PCAResult, pca
from rnnlab.settings import RunConfig
from rnnlab.tasks.forecast.prepared import Prepared
from rnnlab.tasks.forecast.run import anchor_states
from rnnlab.training import TrainEvent

PC_COLUMNS = ("PC1", "PC2", "PC3")
EVOLUTION_FORMAT = "rnnlab-evolution/1"


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
                          "value": prep.y[anchors], "split": prep.split_labels(anchors)})
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
        w = prepared.windows_of(span)
        self.rows = np.arange(0, len(w), max(1, math.ceil(len(w) / keep)))  # (m,) windows kept (evenly thinned)
        self.X = w.X[self.rows]  # (m, T, F)
        self.anchors = w.anchors[self.rows]
        self.model: RNNForecaster | None = None
        self.snapshots: dict[int, np.ndarray] = {}  # epoch -> (m, H*D)
        self.val_losses: dict[int, float] = {}
        self.seconds = 0.0  # time spent recording (the recorder's cost to the training thread)
        self._lock = threading.Lock()

    def build(self, config: RunConfig, shape: ModelShape) -> RNNForecaster:
        self.model = build_model(config, shape)
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


# ----------------------------------------------------------------------------- evolution.safetensors
def save_evolution(evo: Evolution, path: Path) -> None:
    """Write ``evo`` as ``evolution.safetensors`` (tensors + JSON metadata)."""
    from safetensors.torch import save_file

    tensors = {"states": torch.from_numpy(np.ascontiguousarray(evo.states, dtype=np.float32)),
               "windows": torch.from_numpy(np.ascontiguousarray(evo.windows, dtype=np.int64)),
               "anchors": torch.from_numpy(np.ascontiguousarray(evo.anchors, dtype=np.int64))}
    doc = {"epochs": evo.epochs, "val_losses": {str(e): v for e, v in evo.val_losses.items()}, "span": evo.span,
           "source": evo.source, "replay_gap": evo.replay_gap}
    save_file(tensors, str(path), metadata={"format": EVOLUTION_FORMAT, "evolution": json.dumps(to_json_safe(doc))})


def load_evolution(path: Path, width: int, n_rows: int) -> Evolution:
    """Read and check ``evolution.safetensors``; :class:`RunError` when it is not a valid one for this run."""
    from safetensors import SafetensorError, safe_open

    name = f"{path.name} in '{path.parent}'"
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            arrays = {k: f.get_tensor(k).numpy() for k in f.keys()}  # noqa: SIM118 - not a dict
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise RunError(f"{name} is not a valid safetensors file ({exc})") from exc
    if meta.get("format") != EVOLUTION_FORMAT or set(arrays) != {"states", "windows", "anchors"}:
        raise RunError(f"{name} is not an rnnlab evolution (format {meta.get('format')!r}, "
                       f"tensors {sorted(arrays)}; expected {EVOLUTION_FORMAT!r} with states, windows, anchors)")
    try:
        doc = json.loads(meta.get("evolution", ""))
        evo = Evolution(epochs=doc["epochs"], states=arrays["states"], windows=arrays["windows"],
                        anchors=arrays["anchors"], val_losses={int(e): float(null_to_nan(v)) for e, v in doc["val_losses"].items()},
                        span=str(doc["span"]), source=str(doc["source"]), replay_gap=float(doc["replay_gap"]))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError, ConfigError) as exc:
        raise RunError(f"{name} is invalid: {exc}") from exc
    if evo.states.shape[2] != width or (len(evo.anchors) and not 0 <= evo.anchors.min() <= evo.anchors.max() < n_rows):
        raise RunError(f"{name} does not match the run: states of {evo.states.shape[2]} units (the model has {width}), "
                       f"anchor rows within 0..{n_rows - 1} expected")
    return evo
