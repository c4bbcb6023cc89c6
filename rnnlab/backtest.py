"""Rolling-origin backtest of a forecaster: k origins at the end of the series, each scored on the
span after it, the model and every baseline on the same windows.

The last ``1 - train_frac - val_frac`` share of the rows is cut into ``k`` consecutive blocks (each
at least ``horizon`` rows); origin ``i`` is the first row of block ``i``. At an origin the series is
cut just after its block, and the rows before the origin are split into training and validation
in the ratio ``train_frac : val_frac``: the scaling, the transform choice, the linear baseline,
ETS / Theta and the model are fitted on the training rows, early stopping watches the validation
rows, and the block is the test span. Nothing after an origin reaches what is fitted there.

``refit``: ``every`` trains afresh at every origin; ``once`` trains at the first origin and forecasts
the later blocks with that model and its scaling (the baselines are refitted, as they cost
nothing); ``finetune`` starts each origin from the previous origin's weights (and keeps the first
origin's target transform, chosen from its own training rows, so the weights keep their meaning).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnlab.data import Dataset
from rnnlab.errors import ConfigError, TrainingError
from rnnlab.pipeline import prepare, train
from rnnlab.settings import RunConfig
from rnnlab.tasks.forecast.evaluate import evaluate

MAX_ORIGINS = 50


@dataclass
class Origin:
    """One origin's scores."""

    index: int  # 0 .. k-1
    row: int  # first test row (the origin)
    time: str  # its timestamp
    train_rows: int
    val_rows: int
    test_rows: int
    scores: dict[str, dict[str, float]]  # who -> {"rmse", "mase", "mae"} on this origin's test span
    coverage: dict[str, float]  # level key -> the model's test coverage
    rank: int  # the model's place by RMSE among the model and the baselines (1 = best)
    seconds: float
    transform: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class BacktestResult:
    """Per-origin scores, their mean and spread, and the model's rank."""

    dataset: str
    refit: str
    origins: list[Origin] = field(default_factory=list)
    stopped: bool = False

    def summary(self) -> dict[str, dict[str, float]]:
        """who -> mean / std (over origins) of RMSE and MASE, and for the model its mean rank."""
        if not self.origins:
            return {}
        out: dict[str, dict[str, float]] = {}
        for who in self.origins[0].scores:
            rmse = np.array([o.scores[who]["rmse"] for o in self.origins if who in o.scores])
            mase = np.array([o.scores[who]["mase"] for o in self.origins if who in o.scores])
            out[who] = {"rmse_mean": float(np.mean(rmse)), "rmse_std": float(np.std(rmse, ddof=1)) if len(rmse) > 1
                        else 0.0, "mase_mean": float(np.mean(mase)),
                        "mase_std": float(np.std(mase, ddof=1)) if len(mase) > 1 else 0.0}
        out["model"]["rank_mean"] = float(np.mean([o.rank for o in self.origins]))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "refit": self.refit, "stopped": self.stopped,
                "origins": [o.to_dict() for o in self.origins], "summary": self.summary()}


def origin_rows(n_rows: int, config: RunConfig, k: int, horizon: int) -> list[int]:
    """The ``k`` origins (first test row of each block) over the test share of ``n_rows``."""
    if not 1 <= k <= MAX_ORIGINS:
        raise ConfigError(f"origins={k} must be in [1, {MAX_ORIGINS}]")
    n_test = int(round(n_rows * (1 - config.train_frac - config.val_frac)))
    block = n_test // k
    if block < horizon:
        raise ConfigError(f"origins={k} cut the {n_test} test rows into blocks of {block}, shorter than the horizon "
                          f"{horizon}; use at most {max(1, n_test // horizon)} origins or a larger test share")
    return [n_rows - (k - i) * block for i in range(k)]


def origin_data(ds: Dataset, config: RunConfig, origin: int, end: int) -> tuple[Dataset, RunConfig]:
    """The series cut at ``end`` (the block's end) with the rows before ``origin`` split train : val."""
    share = config.train_frac / (config.train_frac + config.val_frac)
    train_rows = int(round(origin * share))
    frame = ds.frame.iloc[:end]
    cut = Dataset(name=ds.name, frame=frame, target=ds.target, freq=ds.freq, description=ds.description,
                  source=ds.source, licence=ds.licence)
    cfg = config.replace(train_frac=train_rows / end, val_frac=(origin - train_rows) / end)
    return cut, cfg


def backtest(ds: Dataset, config: RunConfig, origins: int = 5, refit: str | None = None,
             on_origin: Callable[[Origin, int], None] | None = None,
             stop_event: threading.Event | None = None) -> BacktestResult:
    """Run the backtest; ``on_origin(origin, k)`` after each origin; ``stop_event`` ends it between
    origins (and the running training within a batch, keeping that origin's best weights)."""
    refit = refit or config.backtest_refit
    if refit not in ("every", "once", "finetune"):
        raise ConfigError(f"refit={refit!r} must be every, once or finetune")
    first = prepare(ds, config)
    h = first.config.horizon
    config = config.replace(seq_len=first.config.seq_len, horizon=h)  # the same windows at every origin
    rows = origin_rows(len(first.dataset.frame), config, origins, h)
    ends = [*rows[1:], len(first.dataset.frame)]
    result = BacktestResult(dataset=ds.name, refit=refit)
    model, preprocessor, state = None, None, None
    for i, (origin, end) in enumerate(zip(rows, ends)):
        if stop_event is not None and stop_event.is_set():
            result.stopped = True
            break
        t0 = time.perf_counter()
        cut, cfg = origin_data(first.dataset, config, origin, end)
        if refit == "finetune" and preprocessor is not None:  # the weights only mean something in the same transform
            cfg = cfg.replace(transform=preprocessor.transform_)
        prep = prepare(cut, cfg, preprocessor if refit == "once" and i > 0 else None)
        if prep.split.val_end != origin:  # pragma: no cover - guarded by the exact fractions
            raise ConfigError(f"origin {origin}: the validation span ends at row {prep.split.val_end}")
        if refit == "once" and i > 0:
            from rnnlab.tasks.forecast.run import ForecastRun

            run = ForecastRun(config=prep.config, model=model, dataset=prep.dataset, preprocessor=prep.preprocessor,
                              linear=prep.fit_linear(), _prepared=prep)
            evaluate(run)
        else:
            try:
                run = train(prep, stop_event=stop_event, init_state=state if refit == "finetune" else None)
            except TrainingError:
                if stop_event is not None and stop_event.is_set():  # Stop before this origin's first epoch ended
                    result.stopped = True
                    break
                raise
        model, preprocessor = run.model, run.preprocessor
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        test = run.metrics["test"]
        scores = {who: {m: float(v[m]) for m in ("rmse", "mase", "mae")} for who, v in test.items()}
        ranked = sorted(scores, key=lambda w: scores[w]["rmse"] if math.isfinite(scores[w]["rmse"]) else math.inf)
        iv = run.metrics.get("intervals", {})
        coverage = {k: float(iv[k]["model"]["coverage"]) for k in iv if k[:1].isdigit()}
        o = Origin(index=i, row=origin, time=str(first.dataset.frame.index[origin]), train_rows=prep.split.train_end,
                   val_rows=prep.split.n_val, test_rows=prep.split.n_test, scores=scores, coverage=coverage,
                   rank=ranked.index("model") + 1, seconds=time.perf_counter() - t0,
                   transform=prep.preprocessor.transform_)
        result.origins.append(o)
        if on_origin is not None:
            on_origin(o, len(rows))
    return result


@dataclass
class BacktestJob:
    """A backtest in a daemon thread, for the dashboard: poll :attr:`done`, :attr:`result`; :meth:`stop`."""

    dataset: Dataset
    config: RunConfig
    origins: int = 5
    refit: str = "every"
    result: BacktestResult | None = None
    error: str = ""
    done_origins: list[Origin] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> BacktestJob:
        rows = len(self.dataset.frame)
        origin_rows(rows, self.config, self.origins, prepare(self.dataset, self.config).config.horizon)  # fail now
        self._thread = threading.Thread(target=self._work, daemon=True, name="rnnlab-backtest")
        self._thread.start()
        return self

    def _work(self) -> None:
        try:
            self.result = backtest(self.dataset, self.config, self.origins, self.refit,
                                   on_origin=lambda o, k: self.done_origins.append(o), stop_event=self._stop)
        except Exception as exc:  # shown in the dashboard, never lost in the thread
            self.error = f"{type(exc).__name__}: {exc}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def status(self) -> str:
        """``running``, ``failed``, ``stopped`` or ``done`` (the words the training job uses)."""
        if self.running:
            return "running"
        if self.error:
            return "failed"
        return "stopped" if self.result is not None and self.result.stopped else "done"

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
