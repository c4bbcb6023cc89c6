"""From a dataset and a RunConfig to a trained, evaluated run.

``prepare`` resolves automatic settings, splits the series in time order, fits the
preprocessor on the training rows only and builds the windows of every span.
``train`` fits the model (reporting through callbacks) and ``evaluate`` scores it and the
baselines on the same test windows in original units. ``fit`` chains them.

Typical use::

    from rnnlab import data, pipeline
    ds = data.load_dataset("seattle-weather")
    run = pipeline.fit(ds, RunConfig(target="temp_max", cell="lstm"))
    run.metrics["test"]["model"]["rmse"], run.metrics["test"]["naive"]["rmse"]
"""

from __future__ import annotations

import datetime as _dt
import math
import platform
import threading
import uuid
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd
import torch

from rnnlab import __version__
from rnnlab._platform import configure_torch_threads
from rnnlab.config import RunConfig
from rnnlab.data import Dataset
from rnnlab.errors import ConfigError, TrainingError
from rnnlab.metrics import (
    LinearAR,
    forecast_metrics,
    infer_season,
    mase_scale,
    naive_forecast,
    per_step_errors,
    seasonal_naive_forecast,
    skill_score,
)
from rnnlab.models import ModelConfig, RNNForecaster, build_model
from rnnlab.preprocessing import Preprocessor, Split, Windows, chronological_split
from rnnlab.training import Callback, Trainer, TrainResult, seeded

if TYPE_CHECKING:  # pragma: no cover
    from rnnlab.analysis.states import Evolution

BASELINES = ("naive", "seasonal_naive", "linear")

# (seq_len, horizon) by frequency family
_WINDOW_DEFAULTS = {"h": (48, 24), "D": (30, 7), "B": (30, 5), "W": (26, 4), "M": (12, 3), "Q": (8, 2)}


def _freq_family(freq: str | None) -> str:
    if not freq:
        return ""
    base = freq.split("-")[0].lstrip("0123456789")
    if base in ("h", "H"):
        return "h"
    if base in ("MS", "ME", "M"):
        return "M"
    if base in ("QS", "QE", "Q"):
        return "Q"
    return base[:1].upper() if base[:1].upper() in ("D", "B", "W") else ""


def suggest_window(freq: str | None, n_rows: int, train_frac: float = 0.7) -> tuple[int, int]:
    """Default ``(seq_len, horizon)`` for a series: by frequency, shrunk for short series so
    the training span keeps at least ~4 windows per input step."""
    seq_len, horizon = _WINDOW_DEFAULTS.get(_freq_family(freq), (30, 7))
    n_train = int(n_rows * train_frac)
    while seq_len > 4 and n_train - seq_len - horizon < 4 * seq_len:
        seq_len //= 2
    while horizon > 1 and n_rows * (1 - train_frac) / 2 < 3 * horizon:
        horizon //= 2
    return max(2, seq_len), max(1, horizon)


@dataclass
class Prepared:
    """Everything a model needs from the data, fitted on the training span only."""

    dataset: Dataset  # the selected target (+ feature) columns
    config: RunConfig  # with every automatic setting resolved
    preprocessor: Preprocessor  # fitted on the training rows
    split: Split  # row boundaries train / validation / test
    inputs: np.ndarray  # (N, F) scaled model inputs for every row (NaN where undefined)
    train: Windows  # windows whose targets lie in the training span
    val: Windows  # ... in the validation span
    test: Windows  # ... in the test span
    season: int  # season length used by the seasonal-naive baseline
    mase_scale: float  # training-span naive MAE (MASE denominator)
    warnings: list[str] = field(default_factory=list)

    @property
    def y(self) -> np.ndarray:
        """Target in original units, ``(N,)``."""
        return self.dataset.frame[self.preprocessor.target].to_numpy(np.float64)

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.dataset.frame.index  # type: ignore[return-value]

    def span(self, name: str) -> Windows:
        if name not in ("train", "val", "test"):
            raise ConfigError(f"span={name!r} must be 'train', 'val' or 'test'")
        return getattr(self, name)

    def last_window(self) -> Windows:
        """The window ending at the last row: its forecast lies beyond the data."""
        n = len(self.dataset.frame)
        return self.preprocessor.windows(self.dataset.frame, np.array([n - 1]), self.inputs)

    def tensors(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.span(name)
        return torch.from_numpy(w.X), torch.from_numpy(w.Y)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name}={value!r} must be a positive integer")
    return int(value)


def prepare(dataset: Dataset, config: RunConfig, preprocessor: Preprocessor | None = None) -> Prepared:
    """Select columns, resolve automatic settings, split, fit scaling on train, build windows.

    Pass a fitted ``preprocessor`` (from a saved run) to reuse its statistics instead of refitting.
    """
    cfg = config.replace()  # never mutate the caller's config
    cfg.train_config()  # validate training settings before any work (raises ConfigError naming the field)
    target = cfg.target or dataset.target
    features = [f for f in cfg.features if f != target]
    ds = dataset.select(target, features)
    cfg.target, cfg.features = target, features
    n = len(ds.frame)
    warnings = list(ds.warnings)
    auto_seq, auto_h = suggest_window(ds.freq, n, cfg.train_frac)
    cfg.seq_len = auto_seq if cfg.seq_len is None else _positive_int("seq_len", cfg.seq_len)
    cfg.horizon = auto_h if cfg.horizon is None else _positive_int("horizon", cfg.horizon)
    min_rows = cfg.seq_len + cfg.horizon + 1
    if n < min_rows:
        raise ConfigError(
            f"seq_len={cfg.seq_len} and horizon={cfg.horizon} need at least {min_rows} rows, got {n}"
        )
    split = chronological_split(n, cfg.train_frac, cfg.val_frac)
    if split.n_test < cfg.horizon:
        raise ConfigError(
            f"horizon={cfg.horizon} is longer than the test span ({split.n_test} rows); "
            f"lower the horizon or raise the test share (1 - train_frac - val_frac)"
        )
    if split.n_val < cfg.horizon:
        raise ConfigError(
            f"horizon={cfg.horizon} is longer than the validation span ({split.n_val} rows); "
            f"lower the horizon or raise val_frac"
        )
    if preprocessor is None:
        pre = Preprocessor(target=target, features=features, transform=cfg.transform, scaling=cfg.scaling,
                           seq_len=cfg.seq_len, horizon=cfg.horizon).fit(ds.frame, split.train_end)
    else:
        pre = preprocessor
        if pre.columns != [target, *features] or pre.seq_len != cfg.seq_len or pre.horizon != cfg.horizon:
            raise ConfigError(
                f"the saved preprocessor expects columns {pre.columns}, seq_len={pre.seq_len}, horizon={pre.horizon}; "
                f"the config says {[target, *features]}, seq_len={cfg.seq_len}, horizon={cfg.horizon}"
            )
    inputs = pre.transform_inputs(ds.frame)
    train_a = pre.valid_anchors(n, 0, split.train_end)
    val_a = pre.valid_anchors(n, split.train_end, split.val_end)
    test_a = pre.valid_anchors(n, split.val_end, n)
    if len(train_a) == 0:
        need = pre.offset + cfg.seq_len + cfg.horizon
        raise ConfigError(
            f"seq_len={cfg.seq_len} with horizon={cfg.horizon} needs at least {need} training rows, "
            f"but the training span has {split.n_train} ({cfg.train_frac:.0%} of {n} rows); "
            f"lower seq_len or use more data"
        )
    if len(test_a) == 0 or len(val_a) == 0:  # pragma: no cover - guarded above
        raise ConfigError("the validation or test span holds no complete window")
    train_w = pre.windows(ds.frame, train_a, inputs)
    if cfg.batch_size > len(train_w):
        warnings.append(f"batch_size={cfg.batch_size} is larger than the {len(train_w)} training windows; using {len(train_w)}")
        cfg.batch_size = len(train_w)
    season = cfg.season if cfg.season is not None else infer_season(calendar_freq(ds.frame.index, ds.freq))
    cfg.season = _positive_int("season", season)
    y_train = ds.frame[target].to_numpy(np.float64)[: split.train_end]
    cfg.model_config(pre.n_features)  # validate model settings now, not in a background thread
    return Prepared(
        dataset=ds,
        config=cfg,
        preprocessor=pre,
        split=split,
        inputs=inputs,
        train=train_w,
        val=pre.windows(ds.frame, val_a, inputs),
        test=pre.windows(ds.frame, test_a, inputs),
        season=cfg.season,
        mase_scale=mase_scale(y_train, 1),
        warnings=warnings,
    )


# ----------------------------------------------------------------------------- prediction helpers
@torch.no_grad()
def predict_scaled(model: RNNForecaster, X: np.ndarray | torch.Tensor, chunk: int = 2048) -> np.ndarray:
    """Model outputs in model space for all windows, in batched chunks: ``(n, horizon)``."""
    model.eval()
    Xt = torch.as_tensor(X, dtype=torch.float32)
    outs = [model(Xt[i : i + chunk])[0] for i in range(0, len(Xt), chunk)]
    if not outs:
        return np.empty((0, model.config.horizon))
    return torch.cat(outs).numpy().astype(np.float64)


@torch.no_grad()
def hidden_states(model: RNNForecaster, X: np.ndarray | torch.Tensor, chunk: int = 2048) -> np.ndarray:
    """Top-layer hidden state at every step of every window: ``(n, seq_len, H * directions)``."""
    model.eval()
    Xt = torch.as_tensor(X, dtype=torch.float32)
    outs = [model(Xt[i : i + chunk])[1] for i in range(0, len(Xt), chunk)]
    return torch.cat(outs).numpy() if outs else np.empty((0, Xt.shape[1], model.config.hidden_size))


def predict_original(model: RNNForecaster, pre: Preprocessor, windows: Windows) -> np.ndarray:
    """Forecasts in original units for ``windows``: ``(n, horizon)``."""
    return pre.inverse_targets(predict_scaled(model, windows.X), windows.base)


# ----------------------------------------------------------------------------- runs
@dataclass
class Run:
    """A trained model with everything needed to evaluate, inspect, save and reuse it."""

    config: RunConfig  # resolved settings
    model: RNNForecaster
    preprocessor: Preprocessor
    linear: LinearAR  # the linear-AR baseline, fitted on the same training windows
    dataset: Dataset  # the selected columns the run was trained on
    history: list[dict[str, float]] = field(default_factory=list)  # per epoch: epoch, train_loss, val_loss, lr, seconds
    train_info: dict[str, Any] = field(default_factory=dict)  # stop_reason, message, best_epoch, seconds
    metrics: dict[str, Any] = field(default_factory=dict)  # see evaluate()
    predictions: pd.DataFrame | None = None  # test-span predictions, long format
    meta: dict[str, Any] = field(default_factory=dict)  # id, created, versions, data fingerprint, warnings
    evolution: Evolution | None = None  # test-span states at a few epochs, when recorded during training
    _prepared: Prepared | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return str(self.meta.get("id", ""))

    @property
    def diverged(self) -> bool:
        """Training stopped at a non-finite loss; the run holds the best epoch before it."""
        return self.train_info.get("stop_reason") == "diverged"

    @property
    def label(self) -> str:
        """Short human label, e.g. ``lstm h64x2 · seattle-weather/temp_max · 21:04:13``."""
        c = self.config
        created = str(self.meta.get("created", ""))[11:19]
        return f"{c.cell} h{c.hidden_size}x{c.num_layers} · {self.dataset.name}/{c.target} · {created or self.id[:6]}"

    def prepared(self) -> Prepared:
        """The windows of the run's data, rebuilt with the run's fitted preprocessor (cached)."""
        if self._prepared is None:
            self._prepared = prepare(self.dataset, self.config, self.preprocessor)
        return self._prepared

    def predict_windows(self, windows: Windows) -> np.ndarray:
        return predict_original(self.model, self.preprocessor, windows)

    def forecast(self) -> pd.DataFrame:
        """Forecast beyond the end of the data from the last window: time, step, forecast."""
        prep = self.prepared()
        w = prep.last_window()
        pred = self.predict_windows(w)[0]
        times = future_index(prep.index, self.config.horizon or 1)
        return pd.DataFrame({"time": times, "step": np.arange(1, len(pred) + 1), "forecast": pred})


def _median_step(index: pd.DatetimeIndex) -> pd.Timedelta:
    step = pd.Series(index).diff().median() if len(index) >= 2 else pd.NaT
    return pd.Timedelta(days=1) if pd.isna(step) or step <= pd.Timedelta(0) else pd.Timedelta(step)


def is_business_daily(index: pd.DatetimeIndex) -> bool:
    """True for a daily series on business days only, like the trading days of a stock: no
    Saturday or Sunday, a median step of one day, and at least a week covered (so weekends
    were skipped, not merely absent). Such series have no regular pandas frequency when
    holidays are skipped too."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3 or index[-1] - index[0] < pd.Timedelta(days=7):
        return False
    return bool((index.day_of_week < 5).all()) and _median_step(index) == pd.Timedelta(days=1)


def calendar_freq(index: pd.DatetimeIndex, freq: str | None = None) -> str | None:
    """The calendar a series steps on: ``freq`` when given, else the index's regular frequency
    (``pd.infer_freq``), else ``"B"`` for business days with gaps (trading days that also skip
    holidays, see :func:`is_business_daily`), else None (irregular).

    It decides the dates of forecasts beyond the data (:func:`future_index`) and the default
    season (:func:`rnnlab.metrics.infer_season`: ``"B"`` -> 5, a trading week)."""
    if freq:
        return freq
    if isinstance(index, pd.DatetimeIndex) and len(index) >= 3:
        with warnings.catch_warnings():  # pandas 3 announces an offset return type; both work below
            warnings.simplefilter("ignore")
            try:
                inferred = pd.infer_freq(index)
            except (TypeError, ValueError):
                inferred = None
        if inferred is not None:
            return str(getattr(inferred, "freqstr", inferred))
    return "B" if is_business_daily(index) else None


# irregular series whose median step is about a month, a quarter or a year step in calendar months
_MONTHLY_STEPS = ((27, 32, 1), (88, 93, 3), (360, 370, 12))  # (min days, max days, months)


def future_index(index: pd.DatetimeIndex, horizon: int) -> pd.DatetimeIndex:
    """Timestamps of the ``horizon`` steps after ``index``, on the series' calendar
    (:func:`calendar_freq`): its regular frequency; business days for trading-day series, so
    no forecast falls on a weekend (holidays are not known, so they are not skipped); for
    other irregular series the median step, in calendar months when it is about a month,
    quarter or year (month ends stay month ends)."""
    last = index[-1]
    freq = calendar_freq(index)
    if freq is not None:
        return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
    step = _median_step(index)
    days = step / pd.Timedelta(days=1)
    for lo, hi, months in _MONTHLY_STEPS:
        if lo <= days <= hi:
            if index.is_month_end.all():
                return pd.date_range(last, periods=horizon + 1, freq=f"{months}ME")[1:]
            return pd.DatetimeIndex([last + pd.DateOffset(months=months * k) for k in range(1, horizon + 1)])
    return pd.DatetimeIndex([last + step * k for k in range(1, horizon + 1)])


def baseline_forecasts(prep: Prepared, linear: LinearAR, windows: Windows) -> dict[str, np.ndarray]:
    """All baselines for ``windows`` in original units: name -> ``(n, horizon)``."""
    h = prep.preprocessor.horizon
    return {
        "naive": naive_forecast(windows.base, h),
        "seasonal_naive": seasonal_naive_forecast(prep.y, windows.anchors, h, prep.season),
        "linear": prep.preprocessor.inverse_targets(linear.predict(windows.X), windows.base),
    }


def score_span(prep: Prepared, run_model: RNNForecaster, linear: LinearAR, span: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Metrics of the model and baselines on one span; also returns the forecasts."""
    w = prep.span(span)
    forecasts = {"model": predict_original(run_model, prep.preprocessor, w), **baseline_forecasts(prep, linear, w)}
    table = {name: forecast_metrics(w.y_true, f, w.base, prep.mase_scale) for name, f in forecasts.items()}
    return table, forecasts


def evaluate(run: Run) -> Run:
    """Fill ``run.metrics`` and ``run.predictions`` from the test span (and validation span).

    ``metrics = {"test": {"model": {...}, "naive": {...}, "seasonal_naive": {...}, "linear": {...}},
    "val": {...same...}, "per_step": {"model": {"mae": [...], "rmse": [...]}, ...},
    "skill_vs_naive": float, "skill_vs_seasonal_naive": float, "skill_vs_linear": float,
    "n_test_windows": int, "season": int, "transform": str}``.
    """
    prep = run.prepared()
    test_table, forecasts = score_span(prep, run.model, run.linear, "test")
    val_table, _ = score_span(prep, run.model, run.linear, "val")
    w = prep.test
    metrics: dict[str, Any] = {
        "test": test_table,
        "val": val_table,
        "per_step": {name: per_step_errors(w.y_true, f) for name, f in forecasts.items()},
        "n_test_windows": int(len(w)),
        "season": int(prep.season),
        "transform": prep.preprocessor.transform_,
        "transform_reason": prep.preprocessor.transform_reason_,
    }
    for b in BASELINES:
        metrics[f"skill_vs_{b}"] = skill_score(test_table["model"]["rmse"], test_table[b]["rmse"])
    run.metrics = metrics
    run.predictions = predictions_frame(prep, w, forecasts)
    return run


def predictions_frame(prep: Prepared, w: Windows, forecasts: dict[str, np.ndarray]) -> pd.DataFrame:
    """Long table: one row per window and step with actual, model and baseline values."""
    n, h = w.y_true.shape
    idx = prep.index
    target_rows = w.anchors[:, None] + np.arange(1, h + 1)[None, :]
    extended = idx.append(future_index(idx, h)) if len(idx) else idx
    frame = pd.DataFrame({
        "anchor_time": np.repeat(idx[w.anchors].to_numpy(), h),
        "target_time": extended[target_rows.ravel()].to_numpy(),
        "step": np.tile(np.arange(1, h + 1), n),
        "actual": w.y_true.ravel(),
    })
    for name, f in forecasts.items():
        frame[name] = f.ravel()
    return frame


def versions() -> dict[str, str]:
    import numpy
    import pandas

    return {"rnnlab": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "pandas": pandas.__version__, "python": platform.python_version()}


def train(prep: Prepared, callbacks: Sequence[Callback] = (), stop_event: threading.Event | None = None,
          build: Callable[[ModelConfig], RNNForecaster] = build_model, record_evolution: bool = False) -> Run:
    """Build, seed and train the model on ``prep``; evaluate it. Returns a :class:`Run`.

    ``build`` creates the model from its config (a front end may pass a wrapper to keep a
    handle on the model for live previews). ``record_evolution``: also record the test-span
    anchor states at a few epochs (:func:`rnnlab.analysis.default_epochs`, at most 2000 windows)
    into ``run.evolution``; each snapshot costs about one validation pass. Raises
    :class:`TrainingError` when training yields no usable weights (diverged at once, or stopped
    before the first epoch finished).
    """
    configure_torch_threads()
    cfg = prep.config
    with seeded(cfg.seed):  # atomic seed + init: concurrent jobs cannot draw in between
        model = build(cfg.model_config(prep.preprocessor.n_features))
    recorder = None
    if record_evolution:
        from rnnlab.analysis.states import TrajectoryRecorder

        recorder = TrajectoryRecorder(prep).attach(model)
        callbacks = [*callbacks, recorder]
    trainer = Trainer(cfg.train_config(), callbacks)
    Xtr, Ytr = prep.tensors("train")
    Xva, Yva = prep.tensors("val")
    result: TrainResult = trainer.fit(model, Xtr, Ytr, Xva, Yva, stop_event=stop_event)
    if result.best_epoch == 0:
        if result.stop_reason == "diverged":
            raise TrainingError(result.message)
        raise TrainingError(f"{result.message}; no epoch finished, so there are no weights to keep")
    linear = LinearAR().fit(prep.train.X, prep.train.Y)
    warnings = list(prep.warnings)
    if result.stop_reason == "diverged":
        warnings.append(result.message)
    train_info = {"stop_reason": result.stop_reason, "message": result.message, "best_epoch": result.best_epoch,
                  "best_val_loss": result.best_val_loss, "seconds": result.seconds,
                  "n_parameters": model.n_parameters(), "n_train_windows": len(prep.train),
                  "n_val_windows": len(prep.val), "torch_threads": torch.get_num_threads()}
    if recorder is not None:
        train_info["evolution_seconds"] = recorder.seconds  # part of "seconds"
    run = Run(
        config=cfg,
        model=model,
        preprocessor=prep.preprocessor,
        linear=linear,
        dataset=prep.dataset,
        history=result.history_dicts(),
        train_info=train_info,
        meta={"id": uuid.uuid4().hex[:12], "created": _dt.datetime.now().isoformat(timespec="seconds"),
              "versions": versions(), "data_fingerprint": prep.dataset.fingerprint(),
              "data_source": prep.dataset.source, "warnings": warnings},
        evolution=recorder.evolution() if recorder is not None else None,
        _prepared=prep,
    )
    return evaluate(run)


def fit(dataset: Dataset, config: RunConfig, callbacks: Sequence[Callback] = (),
        stop_event: threading.Event | None = None, record_evolution: bool = False) -> Run:
    """``prepare`` + ``train`` in one call."""
    return train(prepare(dataset, config), callbacks, stop_event, record_evolution=record_evolution)


def metrics_table(run: Run, span: str = "test") -> pd.DataFrame:
    """Model vs baselines as a DataFrame (rows: model, naive, seasonal_naive, linear) with a
    skill-vs-naive column."""
    table = pd.DataFrame(run.metrics[span]).T
    naive_rmse = table.loc["naive", "rmse"]
    table["skill_vs_naive"] = [skill_score(r, naive_rmse) for r in table["rmse"]]
    return table


def is_close_to_naive(run: Run, tolerance: float = 0.02) -> bool:
    """True when the model is barely distinguishable from persistence (|skill| < tolerance)."""
    s = run.metrics.get("skill_vs_naive", float("nan"))
    return bool(math.isfinite(s) and abs(s) < tolerance)
