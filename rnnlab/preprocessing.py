"""Chronological splits, target transforms, scaling fitted on train only, and windowing.

Vocabulary used across rnnlab:

* ``y``: the target column in original units, length ``N``.
* an *anchor* ``t`` is the index of the last input step of a window. The window's inputs
  are rows ``t - seq_len + 1 .. t`` and its targets are ``y[t + 1 .. t + horizon]``.
* the *transform* decides what the model sees and predicts:

  ============  ==========================================  ==================================
  transform     model input per column                      model target for step k
  ============  ==========================================  ==================================
  level         x_t (scaled)                                y[t+k] (scaled)
  diff          x_t - x_{t-1} (scaled)                      (y[t+k] - y[t]) / s
  log_return    log x_t - log x_{t-1} (scaled)              (log y[t+k] - log y[t]) / s
  ============  ==========================================  ==================================

  so ``diff`` and ``log_return`` targets are *relative to the window's last value* and a
  model can follow a series that leaves its training range. Inversion back to original
  units is exact (``y[t] + s * p`` or ``y[t] * exp(s * p)``).
* scaling statistics (centre, scale) are fitted on the **training rows only**; nothing
  from the validation or test spans leaks into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rnnlab.errors import ConfigError, DataError
from rnnlab.settings import SCALINGS, TRANSFORMS
from rnnlab.stationarity import choose_transform


# ----------------------------------------------------------------------------- splits
@dataclass(frozen=True)
class Split:
    """Row boundaries of a chronological split: train ``[0, train_end)``, validation
    ``[train_end, val_end)``, test ``[val_end, n_rows)``."""

    n_rows: int
    train_end: int
    val_end: int

    @property
    def n_train(self) -> int:
        return self.train_end

    @property
    def n_val(self) -> int:
        return self.val_end - self.train_end

    @property
    def n_test(self) -> int:
        return self.n_rows - self.val_end


def chronological_split(n_rows: int, train_frac: float, val_frac: float) -> Split:
    """Split ``n_rows`` in time order. ``test = 1 - train_frac - val_frac``."""
    if not (0.0 < train_frac < 1.0):
        raise ConfigError(f"train_frac={train_frac} must be between 0 and 1 (exclusive)")
    if not (0.0 < val_frac < 1.0):
        raise ConfigError(f"val_frac={val_frac} must be between 0 and 1 (exclusive); a validation span is needed for early stopping")
    test_frac = 1.0 - train_frac - val_frac
    if test_frac <= 1e-9:
        raise ConfigError(
            f"train_frac={train_frac} + val_frac={val_frac} leave no test span; they must sum to less than 1"
        )
    train_end = int(round(n_rows * train_frac))
    val_end = int(round(n_rows * (train_frac + val_frac)))
    if train_end < 1 or val_end <= train_end or val_end >= n_rows:
        raise ConfigError(
            f"splits {train_frac:.2f}/{val_frac:.2f}/{test_frac:.2f} of {n_rows} rows leave an empty span "
            f"(train {train_end}, validation {val_end - train_end}, test {n_rows - val_end} rows)"
        )
    return Split(n_rows=n_rows, train_end=train_end, val_end=val_end)
















# ----------------------------------------------------------------------------- transform choice and resolution
STATIONARITY_MAX_ROWS = 5_000  # the automatic transform tests at most this many (the most recent) training rows
RELATIVE_RESOLUTION = 1e-12  # changes of the target below this share of its level are float rounding, not signal
TINY_SCALE = 1e-300  # a spread below this (0, subnormal) is treated as none: the column is constant


def auto_transform(y_train: np.ndarray) -> tuple[str, str]:
    """:func:`rnnlab.stationarity.choose_transform` on a bounded part of the training span: its last
    STATIONARITY_MAX_ROWS rows (the tests refit a regression per lag, so their cost grows faster than
    the length; the recent part is also the one the forecasts continue). The reason says so."""
    y = np.asarray(y_train, dtype=np.float64)
    part = y[-STATIONARITY_MAX_ROWS:]
    transform, reason = choose_transform(part)
    if len(part) < len(y):
        reason += f" (tested on the last {len(part):,} of {len(y):,} training rows)"
    return transform, reason


def check_resolution(col: str, raw: np.ndarray, kind: str, values: np.ndarray) -> None:
    """Refuse a target whose changes are below float precision relative to its level (e.g. 1 + 1e-14 * noise):
    a model of them would learn rounding noise. Tiny magnitudes as such (1e-200 +- 1e-201) are fine."""
    level = float(np.nanmax(np.abs(raw))) if len(raw) else 0.0
    if kind == "level":
        spread = float(np.nanmax(raw) - np.nanmin(raw)) if len(raw) else 0.0
    else:
        spread = float(np.nanmax(np.abs(values))) if len(values) else 0.0
    if level > 0 and 0 < spread < RELATIVE_RESOLUTION * level:
        raise DataError(f"target '{col}' changes by at most {spread:.3g} on a level of {level:.3g} in the training "
                        f"span: below {RELATIVE_RESOLUTION:g} of its level, which is float rounding, not a signal to "
                        f"learn. Subtract the level (or rescale) before training")


# ----------------------------------------------------------------------------- preprocessor
def _step_transform(values: np.ndarray, kind: str) -> np.ndarray:
    """Per-row transform of a 1-D column: level, diff or log-diff. Row 0 is NaN for diffs."""
    if kind == "level":
        return values.astype(np.float64, copy=True)
    out = np.full(len(values), np.nan)
    if kind == "log_return":
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(values)
        out[1:] = np.diff(logs)
    else:
        out[1:] = np.diff(values)
    return out


@dataclass
class Windows:
    """Model-ready windows for a set of anchors."""

    X: np.ndarray  # (n, seq_len, F) float32 scaled inputs
    Y: np.ndarray  # (n, horizon) float32 scaled targets (NaN where beyond the data)
    base: np.ndarray  # (n,) float64 target value at the anchor (original units)
    y_true: np.ndarray  # (n, horizon) float64 targets in original units (NaN beyond the data)
    anchors: np.ndarray  # (n,) int64 row index of each window's last input step

    def __len__(self) -> int:
        return len(self.anchors)


@dataclass
class Preprocessor:
    """Turns a frame into scaled windows and model outputs back into original units.

    Fitted on the training rows only (scikit-learn style: learned attributes end in ``_``;
    :meth:`fit` returns ``self``).
    """

    target: str  # target column
    features: list[str] = field(default_factory=list)  # extra input columns (the target is always channel 0)
    transform: str = "auto"  # requested transform: auto | level | diff | log_return
    scaling: str = "standard"  # standard | minmax | none
    seq_len: int = 30  # input steps per window
    horizon: int = 7  # output steps per window

    # learned in fit()
    transform_: str = ""  # resolved transform
    transform_reason_: str = ""  # why it was chosen (shown to the user)
    column_kinds_: list[str] = field(default_factory=list)  # per input column: level | diff | log_return
    centers_: list[float] = field(default_factory=list)  # per input column
    scales_: list[float] = field(default_factory=list)  # per input column
    target_center_: float = 0.0  # subtracted from targets before scaling (0 for relative targets)
    target_scale_: float = 1.0  # divides targets
    n_train_rows_: int = 0  # rows the statistics were fitted on

    def __post_init__(self) -> None:
        if self.transform not in TRANSFORMS:
            raise ConfigError(f"transform={self.transform!r} is not one of {', '.join(TRANSFORMS)}")
        if self.scaling not in SCALINGS:
            raise ConfigError(f"scaling={self.scaling!r} is not one of {', '.join(SCALINGS)}")
        for name in ("seq_len", "horizon"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name}={value!r} must be a positive integer")
        if self.target in self.features:
            self.features = [f for f in self.features if f != self.target]

    # ------------------------------------------------------------------ properties
    @property
    def columns(self) -> list[str]:
        """Input columns in channel order (target first)."""
        return [self.target, *self.features]

    @property
    def n_features(self) -> int:
        return len(self.columns)

    @property
    def offset(self) -> int:
        """First row with a defined transformed input (1 for differenced inputs)."""
        return 0 if self.transform_ == "level" else 1

    @property
    def is_fitted(self) -> bool:
        return bool(self.transform_)

    def min_anchor(self) -> int:
        return self.offset + self.seq_len - 1

    # ------------------------------------------------------------------ fitting
    def fit(self, frame: pd.DataFrame, train_end: int) -> Preprocessor:
        """Resolve the transform and fit scaling on ``frame.iloc[:train_end]`` only."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataError(f"column(s) {missing} not in the data; available: {list(frame.columns)}")
        train = frame.iloc[:train_end]
        y_train = train[self.target].to_numpy(np.float64)
        if self.transform == "auto":
            self.transform_, self.transform_reason_ = auto_transform(y_train)
            if self.transform_ == "log_return" and not np.all(frame[self.target].to_numpy() > 0):
                row = int(np.argmax(frame[self.target].to_numpy() <= 0))
                self.transform_ = "diff"
                self.transform_reason_ += (f"; but '{self.target}' is not positive later ({frame[self.target].iloc[row]:g} "
                                           f"at row {row}), where log-returns are undefined, so the model predicts "
                                           f"changes (diff) instead")
        else:
            self.transform_ = self.transform
            self.transform_reason_ = f"{self.transform} (chosen by the user)"
        if self.transform_ == "log_return":  # the whole series the transform applies to, not only the training span
            y_all = frame[self.target].to_numpy(np.float64)
            if not np.all(y_all > 0):
                row = int(np.argmax(~(y_all > 0)))
                span = "training" if row < train_end else "validation or test"
                raise ConfigError(
                    f"transform='log_return' needs a strictly positive target; '{self.target}' is {y_all[row]:g} at "
                    f"row {row} (in the {span} span). Use 'diff' instead"
                )
        kinds = []
        for col in self.columns:  # from the training rows only: a later non-positive value is an error, not a hint
            if self.transform_ == "log_return":
                positive = bool(np.all(train[col].to_numpy() > 0))
                kinds.append("log_return" if positive else "diff")
                if not positive:
                    self.transform_reason_ += f"; input '{col}' is not positive in the training span, so it enters as differences"
            else:
                kinds.append(self.transform_)
        self.column_kinds_ = kinds
        self.centers_, self.scales_ = [], []
        for col, kind in zip(self.columns, kinds):
            raw = train[col].to_numpy(np.float64)
            values = _step_transform(raw, kind)
            values = values[np.isfinite(values)]
            center, scale = self._stats(values)
            if col == self.target:
                check_resolution(col, raw, kind, values)
            self.centers_.append(center)
            self.scales_.append(scale)
        if self.transform_ == "level":
            self.target_center_, self.target_scale_ = self.centers_[0], self.scales_[0]
        else:  # relative targets: scale only, so "no change" stays exactly 0
            self.target_center_, self.target_scale_ = 0.0, self.scales_[0]
        self.n_train_rows_ = int(train_end)
        return self

    def _stats(self, values: np.ndarray) -> tuple[float, float]:
        if len(values) == 0:
            return 0.0, 1.0
        if self.scaling == "standard":
            center, scale = float(values.mean()), float(values.std())
        elif self.scaling == "minmax":
            center, scale = float(values.min()), float(values.max() - values.min())
        else:
            center, scale = 0.0, 1.0
        if not np.isfinite(scale) or scale < TINY_SCALE:  # a constant column (or zero changes): nothing to scale
            scale = 1.0
        return center, scale

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise ConfigError("the preprocessor is not fitted; call fit() on the training span first")

    # ------------------------------------------------------------------ transforms
    def transform_inputs(self, frame: pd.DataFrame) -> np.ndarray:
        """Scaled model inputs for every row: ``(N, F)`` float64, NaN where undefined."""
        self._check_fitted()
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataError(f"column(s) {missing} not in the data; the model was trained on {self.columns}")
        out = np.empty((len(frame), self.n_features))
        for j, (col, kind) in enumerate(zip(self.columns, self.column_kinds_)):
            values = frame[col].to_numpy(np.float64)
            if kind == "log_return" and np.any(values <= 0):
                row = int(np.argmax(values <= 0))
                raise DataError(f"column '{col}' has a value <= 0 ({values[row]:g} at row {row}); the model takes "
                                f"log-returns of it, which need positive values (they were positive in the training "
                                f"span). Use transform='diff' for this data")
            out[:, j] = (_step_transform(values, kind) - self.centers_[j]) / self.scales_[j]
        return out

    def scale_targets(self, y: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Original-unit targets ``(n, h)`` -> model space, given anchor values ``base (n,)``."""
        y = np.asarray(y, dtype=np.float64)
        base = np.asarray(base, dtype=np.float64)[:, None]
        if self.transform_ == "level":
            rel = y
        elif self.transform_ == "diff":
            rel = y - base
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.log(y) - np.log(base)
        return (rel - self.target_center_) / self.target_scale_

    def inverse_targets(self, pred: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Model outputs ``(n, h)`` -> original units, exactly inverting :meth:`scale_targets`."""
        self._check_fitted()
        p = np.asarray(pred, dtype=np.float64) * self.target_scale_ + self.target_center_
        base = np.asarray(base, dtype=np.float64)
        if p.ndim == 2:
            base = base[:, None]
        if self.transform_ == "level":
            return p
        if self.transform_ == "diff":
            return base + p
        return base * np.exp(p)

    # ------------------------------------------------------------------ windows
    def valid_anchors(self, n_rows: int, start: int = 0, stop: int | None = None, *, need_targets: bool = True) -> np.ndarray:
        """Anchors ``t`` whose inputs exist and (optionally) whose targets lie in ``[start, stop)``.

        With ``need_targets`` the first target ``t + 1 >= start`` and the last ``t + horizon < stop``.
        """
        stop = n_rows if stop is None else stop
        lo = max(self.min_anchor(), start - 1)
        hi = stop - self.horizon - 1  # last anchor (inclusive): its last target t + horizon is row stop - 1
        if not need_targets:
            hi = min(stop, n_rows) - 1
        if hi < lo:
            return np.empty(0, dtype=np.int64)
        return np.arange(lo, hi + 1, dtype=np.int64)

    def windows(self, frame: pd.DataFrame, anchors: np.ndarray, inputs: np.ndarray | None = None) -> Windows:
        """Build windows for ``anchors``. Targets beyond the end of the frame are NaN."""
        self._check_fitted()
        anchors = np.asarray(anchors, dtype=np.int64)
        if inputs is None:
            inputs = self.transform_inputs(frame)
        n = len(frame)
        L, h = self.seq_len, self.horizon
        if len(anchors) and (anchors.min() < self.min_anchor() or anchors.max() >= n):
            raise ConfigError(f"anchors must lie in [{self.min_anchor()}, {n - 1}] for seq_len={L}")
        from numpy.lib.stride_tricks import sliding_window_view

        # view[i] = inputs[i : i + L] -> window ending at anchor t starts at t - L + 1
        view = sliding_window_view(inputs, L, axis=0)  # (n - L + 1, F, L)
        X = np.ascontiguousarray(view[anchors - L + 1].transpose(0, 2, 1), dtype=np.float32)  # (n, L, F)
        y = frame[self.target].to_numpy(np.float64)
        y_pad = np.concatenate([y, np.full(h, np.nan)])
        idx = anchors[:, None] + np.arange(1, h + 1)[None, :]  # (n, h)
        y_true = y_pad[idx]
        base = y[anchors]
        Y = self.scale_targets(y_true, base).astype(np.float32)
        if not np.all(np.isfinite(X)):
            bad = int(anchors[~np.isfinite(X).all(axis=(1, 2))][0])
            raise DataError(f"non-finite model input in the window ending at row {bad}; check the data for NaN, inf or non-positive values")
        return Windows(X=X, Y=Y, base=base, y_true=y_true, anchors=anchors)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "target": self.target,
            "features": list(self.features),
            "transform": self.transform,
            "scaling": self.scaling,
            "seq_len": int(self.seq_len),
            "horizon": int(self.horizon),
            "transform_": self.transform_,
            "transform_reason_": self.transform_reason_,
            "column_kinds_": list(self.column_kinds_),
            "centers_": [float(c) for c in self.centers_],
            "scales_": [float(s) for s in self.scales_],
            "target_center_": float(self.target_center_),
            "target_scale_": float(self.target_scale_),
            "n_train_rows_": int(self.n_train_rows_),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Preprocessor:
        try:
            pre = cls(
                target=str(state["target"]),
                features=[str(f) for f in state["features"]],
                transform=str(state["transform"]),
                scaling=str(state["scaling"]),
                seq_len=int(state["seq_len"]),
                horizon=int(state["horizon"]),
            )
            pre.transform_ = str(state["transform_"])
            pre.transform_reason_ = str(state.get("transform_reason_", ""))
            pre.column_kinds_ = [str(k) for k in state["column_kinds_"]]
            pre.centers_ = [float(c) for c in state["centers_"]]
            pre.scales_ = [float(s) for s in state["scales_"]]
            pre.target_center_ = float(state["target_center_"])
            pre.target_scale_ = float(state["target_scale_"])
            pre.n_train_rows_ = int(state.get("n_train_rows_", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"scaler state is incomplete or malformed: {exc!r}") from exc
        n = pre.n_features
        if not (len(pre.column_kinds_) == len(pre.centers_) == len(pre.scales_) == n):
            raise ConfigError(f"scaler state lists {len(pre.centers_)} columns' statistics for {n} input columns")
        if pre.transform_ not in TRANSFORMS[1:]:
            raise ConfigError(f"scaler state has unknown transform {pre.transform_!r}")
        return pre
