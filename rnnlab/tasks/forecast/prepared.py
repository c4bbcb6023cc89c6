"""Forecasting's prepared data: a series split in time, fitted on its training span, windowed.

``prepare`` resolves the automatic settings (windows by calendar, season, transform), splits
the series in time order, fits the preprocessor on the training rows only and builds the
windows of every span. Nothing from the validation or test span reaches a fitted statistic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rnnlab.baselines import LinearAR
from rnnlab.calendar import calendar_freq, infer_season, suggest_window
from rnnlab.data import Dataset
from rnnlab.errors import ConfigError
from rnnlab.memory import check_bytes
from rnnlab.metrics import mase_scale
from rnnlab.preprocessing import Preprocessor, Split, Windows, chronological_split
from rnnlab.settings import ResolvedConfig, RunConfig

if TYPE_CHECKING:  # pragma: no cover
    import torch

SPANS = ("train", "val", "test")
ANALYSIS_SPANS = (*SPANS, "all")


@dataclass
class Prepared:
    """Everything a forecaster needs from the data, fitted on the training span only."""

    dataset: Dataset  # the selected target (+ feature) columns
    config: ResolvedConfig  # with every automatic setting resolved
    preprocessor: Preprocessor  # fitted on the training rows
    split: Split  # row boundaries train / validation / test
    inputs: np.ndarray  # (N, F) scaled model inputs for every row (NaN where undefined)
    train: Windows  # windows whose targets lie in the training span
    val: Windows  # ... in the validation span
    test: Windows  # ... in the test span
    mase_scale: float  # training-span naive MAE (MASE denominator)
    warnings: list[str] = field(default_factory=list)
    linear: LinearAR | None = None  # the linear-AR baseline fitted on the training windows (fit_linear)
    highway_reason: str = ""  # why the automatic highway is on or off ("" when the user chose)
    peers: dict[str, Any] | None = None  # ETS / Theta states fitted on the training span (peers.stat_peers)
    peer_notes: list[str] = field(default_factory=list)  # why a peer is missing

    @property
    def season(self) -> int:
        """Season length used by the seasonal-naive baseline."""
        return self.config.season

    @property
    def y(self) -> np.ndarray:
        """Target in original units, ``(N,)``."""
        return self.dataset.frame[self.preprocessor.target].to_numpy(np.float64)

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.dataset.frame.index  # type: ignore[return-value]

    def span(self, name: str) -> Windows:
        if name not in SPANS:
            raise ConfigError(f"span={name!r} must be 'train', 'val' or 'test'")
        return getattr(self, name)

    def windows_of(self, span: str = "test") -> Windows:
        """Windows of ``span``: ``train`` / ``val`` / ``test`` as in the run, or ``all`` = every anchor
        of the series whose inputs exist, including the last row (targets beyond the data are NaN)."""
        if span == "all":
            n = len(self.dataset.frame)
            anchors = self.preprocessor.valid_anchors(n, need_targets=False)
            return self.preprocessor.windows(self.dataset.frame, anchors, self.inputs)
        if span not in ANALYSIS_SPANS:
            raise ConfigError(f"span={span!r} must be one of {', '.join(ANALYSIS_SPANS)}")
        return self.span(span)

    def split_labels(self, anchors: np.ndarray) -> np.ndarray:
        """Split of each window by its first target row ``t + 1``: train | val | test | future."""
        first = np.asarray(anchors, dtype=np.int64) + 1
        sp = self.split
        out = np.full(len(first), "test", dtype=object)
        out[first < sp.val_end] = "val"
        out[first < sp.train_end] = "train"
        out[first >= sp.n_rows] = "future"
        return out

    def last_window(self) -> Windows:
        """The window ending at the last row: its forecast lies beyond the data."""
        n = len(self.dataset.frame)
        return self.preprocessor.windows(self.dataset.frame, np.array([n - 1]), self.inputs)

    def tensors(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        import torch  # here, not at the top: preparing the data needs no torch

        w = self.span(name)
        return torch.from_numpy(w.X), torch.from_numpy(w.Y)

    def counts(self) -> dict[str, int]:
        """Items per span, for the run's train_info."""
        return {"n_train_windows": len(self.train), "n_val_windows": len(self.val), "n_test_windows": len(self.test)}

    def fit_linear(self) -> LinearAR:
        """The linear-AR baseline on the training windows (same inputs and targets as the model)."""
        if self.linear is None:
            self.linear = LinearAR().fit(self.train.X, self.train.Y)
        return self.linear


def prepare(dataset: Dataset, config: RunConfig, preprocessor: Preprocessor | None = None) -> Prepared:
    """Select columns, resolve automatic settings, split, fit scaling on train, build windows.

    Pass a fitted ``preprocessor`` (from a saved run) to reuse its statistics instead of refitting.
    """
    cfg = config.replace()  # a checked copy: the caller's config is never mutated
    target = cfg.target or dataset.target
    features = [f for f in cfg.features if f != target]
    ds = dataset.select(target, features)
    n = len(ds.frame)
    warnings = list(ds.warnings)
    auto_seq, auto_h = suggest_window(ds.freq, n, cfg.train_frac)
    seq_len = auto_seq if cfg.seq_len is None else cfg.seq_len
    horizon = auto_h if cfg.horizon is None else cfg.horizon
    min_rows = seq_len + horizon + 1
    if n < min_rows:
        raise ConfigError(f"seq_len={seq_len} and horizon={horizon} need at least {min_rows} rows, got {n}; "
                          f"the largest seq_len for this data is {max(0, n - horizon - 1)}")
    split = chronological_split(n, cfg.train_frac, cfg.val_frac)
    if split.n_test < horizon:
        raise ConfigError(
            f"horizon={horizon} is longer than the test span ({split.n_test} rows); "
            f"lower the horizon or raise the test share (1 - train_frac - val_frac)"
        )
    if split.n_val < horizon:
        raise ConfigError(
            f"horizon={horizon} is longer than the validation span ({split.n_val} rows); "
            f"lower the horizon or raise val_frac"
        )
    transform = cfg.transform
    if transform == "auto" and cfg.init_from:  # fine-tuning: the target is modelled as the source run models it
        transform = source_transform(cfg.init_from)
    if preprocessor is None:
        pre = Preprocessor(target=target, features=features, transform=transform, scaling=cfg.scaling,
                           seq_len=seq_len, horizon=horizon).fit(ds.frame, split.train_end)
        if transform == "auto":
            pre = check_transform(pre, ds.frame, split)
    else:
        pre = preprocessor
        if pre.columns != [target, *features] or pre.seq_len != seq_len or pre.horizon != horizon:
            raise ConfigError(
                f"the saved preprocessor expects columns {pre.columns}, seq_len={pre.seq_len}, horizon={pre.horizon}; "
                f"the config says {[target, *features]}, seq_len={seq_len}, horizon={horizon}"
            )
    inputs = pre.transform_inputs(ds.frame)
    train_a = pre.valid_anchors(n, 0, split.train_end)
    val_a = pre.valid_anchors(n, split.train_end, split.val_end)
    test_a = pre.valid_anchors(n, split.val_end, n)
    if len(train_a) == 0:
        need = pre.offset + seq_len + horizon
        largest = split.n_train - pre.offset - horizon
        raise ConfigError(
            f"seq_len={seq_len} with horizon={horizon} needs at least {need} training rows, "
            f"but the training span has {split.n_train} ({cfg.train_frac:.0%} of {n} rows); "
            f"the largest seq_len here is {max(0, largest)}: lower seq_len or use more data"
        )
    if len(test_a) == 0 or len(val_a) == 0:  # pragma: no cover - guarded above
        raise ConfigError("the validation or test span holds no complete window")
    n_windows = len(train_a) + len(val_a) + len(test_a)
    check_bytes(4.0 * n_windows * seq_len * pre.n_features, f"{n_windows:,} windows of seq_len={seq_len} x "
                f"{pre.n_features} column(s)", "lower seq_len or use a shorter part of the series")
    train_w = pre.windows(ds.frame, train_a, inputs)
    batch_size = cfg.batch_size
    if batch_size > len(train_w):
        warnings.append(f"batch_size={batch_size} is larger than the {len(train_w)} training windows; "
                        f"using {len(train_w)}")
        batch_size = len(train_w)
    season = cfg.season if cfg.season is not None else (1 if ds.steps else infer_season(calendar_freq(ds.frame.index, ds.freq)))
    val_w = pre.windows(ds.frame, val_a, inputs)
    linear = LinearAR().fit(train_w.X, train_w.Y)
    highway, highway_reason = cfg.highway, ""
    if highway is None:
        highway, highway_reason = auto_highway(linear, pre, val_w, seq_len)
    resolved = ResolvedConfig.resolved(cfg.replace(target=target, features=features, seq_len=seq_len,
                                                   horizon=horizon, season=season, batch_size=batch_size,
                                                   highway=highway))
    y_train = ds.frame[target].to_numpy(np.float64)[: split.train_end]
    return Prepared(
        dataset=ds,
        config=resolved,
        preprocessor=pre,
        split=split,
        inputs=inputs,
        train=train_w,
        val=val_w,
        test=pre.windows(ds.frame, test_a, inputs),
        mase_scale=mase_scale(y_train, 1),
        warnings=warnings,
        linear=linear,
        highway_reason=highway_reason,
    )


def source_transform(init_from: str) -> str:
    """The target transform of the run ``init_from`` (folder or store id), from its scaler.json."""
    from rnnlab.errors import RnnlabError
    from rnnlab.jsonfiles import read_json
    from rnnlab.store import resolve_run_folder

    try:
        doc = read_json(resolve_run_folder(init_from), "scaler.json")
    except RnnlabError as exc:
        raise ConfigError(f"init_from={init_from!r} cannot be used: {exc}") from exc
    kind = doc.get("transform_") if isinstance(doc, dict) else None
    if kind not in ("level", "diff", "log_return"):
        raise ConfigError(f"init_from={init_from!r} is not a forecasting run with a fitted transform")
    return str(kind)


AUTO_TRANSFORM_MARGIN = 0.5  # the other transform must halve the linear AR's validation RMSE to overrule the tests


def _linear_rmse(pre: Preprocessor, frame: pd.DataFrame, split: Split, anchors: np.ndarray | None = None
                 ) -> tuple[float, np.ndarray]:
    """The linear AR's validation RMSE (original units, every step) under ``pre``'s transform,
    fitted on the training windows; on ``anchors`` (validation windows) when given. Returns the
    RMSE and the validation anchors used."""
    n = len(frame)
    inputs = pre.transform_inputs(frame)
    train = pre.windows(frame, pre.valid_anchors(n, 0, split.train_end), inputs)
    val_a = pre.valid_anchors(n, split.train_end, split.val_end) if anchors is None else anchors
    val = pre.windows(frame, val_a, inputs)
    if not len(train) or not len(val):
        return float("nan"), val_a
    pred = pre.inverse_targets(LinearAR().fit(train.X, train.Y).predict(val.X), val.base)
    return float(np.sqrt(np.nanmean((pred - val.y_true) ** 2))), val_a


def check_transform(pre: Preprocessor, frame: pd.DataFrame, split: Split) -> Preprocessor:
    """The automatic transform, checked on the validation span. The stationarity tests see the
    training span alone; a short one (ten days of an hourly temperature) can look stationary while
    the series drifts out of its range later, and a level model cannot follow it there. So the
    linear AR (the one the baselines and the automatic highway use) is fitted under levels and
    under first differences on the training windows and scored on the same validation windows;
    when the other transform errs less than AUTO_TRANSFORM_MARGIN of the tests' choice, it is used
    and the reason says so. Log returns (positive, trending prices) are left as the tests chose."""
    if pre.transform_ not in ("level", "diff"):
        return pre
    other = Preprocessor(target=pre.target, features=pre.features, transform="diff" if pre.transform_ == "level"
                         else "level", scaling=pre.scaling, seq_len=pre.seq_len, horizon=pre.horizon)
    try:
        other.fit(frame, split.train_end)
    except (ConfigError, ValueError):  # the other transform does not apply here: keep the tests' choice
        return pre
    n = len(frame)
    common = np.intersect1d(pre.valid_anchors(n, split.train_end, split.val_end),
                            other.valid_anchors(n, split.train_end, split.val_end))
    if len(common) < 2:
        return pre
    chosen_rmse, _ = _linear_rmse(pre, frame, split, common)
    other_rmse, _ = _linear_rmse(other, frame, split, common)
    if not (np.isfinite(chosen_rmse) and np.isfinite(other_rmse)) or other_rmse >= AUTO_TRANSFORM_MARGIN * chosen_rmse:
        return pre
    names = {"level": "levels", "diff": "first differences"}
    other.transform = "auto"
    other.transform_reason_ = (
        f"{pre.transform_reason_}; but on the validation span a linear AR on {names[other.transform_]} errs "
        f"{chosen_rmse / other_rmse:.1f}x less than on {names[pre.transform_]} (RMSE {other_rmse:.4g} vs "
        f"{chosen_rmse:.4g}): the training span is too short to show how the series moves later, so the model "
        f"sees {names[other.transform_]}")
    return other


AUTO_HIGHWAY_GAIN = 0.05  # the linear AR must beat persistence on the validation span by this share


def auto_highway(linear: LinearAR, pre: Preprocessor, val: Windows, seq_len: int) -> tuple[int, str]:
    """The automatic highway: ``seq_len`` lags when the linear AR (fitted on the training windows)
    beats persistence on the validation windows by AUTO_HIGHWAY_GAIN or more (RMSE over every step,
    original units), else off. A series that a linear extrapolation forecasts well (temperatures)
    gets it; a random walk (prices), where nothing beats persistence, does not."""
    pred = pre.inverse_targets(linear.predict(val.X), val.base)
    rmse_linear = float(np.sqrt(np.nanmean((pred - val.y_true) ** 2)))
    rmse_naive = float(np.sqrt(np.nanmean((val.base[:, None] - val.y_true) ** 2)))
    gain = 1 - rmse_linear / rmse_naive if rmse_naive > 0 else 0.0
    words = (f"the linear AR's validation RMSE is {abs(gain):.1%} {'below' if gain >= 0 else 'above'} "
             f"persistence's")
    if gain >= AUTO_HIGHWAY_GAIN:
        return seq_len, f"auto: on with {seq_len} lags ({words}): the network learns what the linear part misses"
    return 0, f"auto: off ({words}; on from {AUTO_HIGHWAY_GAIN:.0%} below)"
