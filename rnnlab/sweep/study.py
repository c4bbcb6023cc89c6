"""Running a sweep: Optuna studies in an RDB storage, one worker loop, one objective.

Storage: any SQLAlchemy URL Optuna's :class:`~optuna.storages.RDBStorage` takes. By default an
SQLite file in the run store (``sqlite:///<store>/sweeps.db``: nothing to install); for many
workers on many machines a PostgreSQL URL (``postgresql+psycopg://user:pw@host/db``; a plain
``postgresql://`` is read with psycopg 3). Every worker runs the same command; the storage
hands out the trials.

A worker that dies: the storage's heartbeat (``heartbeat`` seconds; a trial whose heartbeat is
older than four times that is stale: a busy machine can delay a heartbeat by seconds) and
Optuna's :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback` (the non-deprecated name
of ``RetryFailedTrialCallback`` since Optuna 4.9) mark its trial
failed and queue a copy with the same settings, which the next free worker runs. A worker
waits while the last trials run elsewhere, so a trial whose worker died is retried before the
study counts as finished.

Trials: ``trials`` is the study's total of finished (complete or pruned) trials, whoever runs
them. Trial numbers are handed out atomically by the storage; a trial numbered past the total
(two workers started one at the same instant) ends at once as failed, marked ``surplus``, so
no more than ``trials`` trials ever train.

Each trial prepares and trains one configuration with the test span withheld (it is scored
once, for the best trial, by :mod:`rnnlab.sweep.report`), reports its per-epoch validation
score to the pruner (median or successive halving; a pruned trial stops after that epoch and
keeps its best weights), and is saved as a run in the store with ``meta["sweep"]`` naming the
study and the trial number.
"""

from __future__ import annotations

import logging
import os
import random
import re
import socket
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.settings import RunConfig
from rnnlab.store import RunStore
from rnnlab.sweep.space import Space, searched, space_to_doc

log = logging.getLogger(__name__)

PRUNERS = ("median", "halving", "none")
HEARTBEAT = 30  # s between heartbeats of a running trial
GRACE = 4  # a trial is stale after this many heartbeats missed (Optuna's default, 2, failed live trials on a
# loaded 2-core machine with a 1 s heartbeat)
MAX_RETRY = 3  # times a trial whose worker died is retried
STORAGE_ATTEMPTS = 5  # tries to open a storage that other workers are creating at the same moment
FINISHED = ("COMPLETE", "PRUNED")


class SweepStopped(RnnlabError):
    """The sweep was stopped (Stop in the app, Ctrl-C); the running trial is marked failed."""


class SurplusTrial(RnnlabError):
    """A trial numbered past the study's total: ended at once, never trained."""


class LostTrial(RnnlabError):
    """Another worker declared this worker's trial stale (its heartbeat was late) and queued a retry."""


def objective_name(task: str) -> str:
    """What the sweep minimises, in words."""
    from rnnlab.tasks import get_task

    t = get_task(task)
    return str(getattr(t, "validation_score_words", "validation score")) if hasattr(t, "validation_score") \
        else "validation loss"


def redact(url: str) -> str:
    """The storage URL without its password (for run folders and screens)."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def normalise_url(url: str) -> str:
    """``postgresql://`` -> ``postgresql+psycopg://`` (psycopg 3 is what the requirements install)."""
    return "postgresql+psycopg://" + url[len("postgresql://"):] if url.startswith("postgresql://") else url


def default_study_name(cfg: RunConfig) -> str:
    name = f"{cfg.task}-{cfg.dataset}-{cfg.target or 'default'}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


def _quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def open_storage(url: str, heartbeat: int | None = HEARTBEAT) -> Any:
    """An RDBStorage for ``url`` with the heartbeat and the retry of stale trials (heartbeat None:
    for watching only)."""
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    _quiet_optuna()
    url = normalise_url(url)
    engine: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine = {"connect_args": {"timeout": 60}}  # concurrent writers wait instead of failing
        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)  # a new store has no folder yet
            except OSError as exc:
                raise ConfigError(f"cannot create the folder of the sweep storage {url!r}: {exc.strerror or exc}") \
                    from exc
    else:
        engine = {"pool_pre_ping": True}
    kw: dict[str, Any] = {}
    if heartbeat is not None:
        kw = dict(heartbeat_interval=int(heartbeat), grace_period=GRACE * int(heartbeat),
                  heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY))
    for attempt in range(STORAGE_ATTEMPTS):
        try:
            return RDBStorage(url, engine_kwargs=engine, **kw)
        except (optuna.exceptions.StorageInternalError, ValueError, ImportError, OSError) as exc:
            raise ConfigError(f"cannot open the sweep storage {redact(url)!r}: {exc}") from exc
        except Exception as exc:  # SQLAlchemy's errors (no server, bad URL, wrong password, a creation race)
            if not type(exc).__module__.startswith("sqlalchemy"):
                raise
            words = str(exc).lower()
            racing = any(w in words for w in ("already exists", "duplicate", "uniqueviolation", "locked"))
            if not racing or attempt == STORAGE_ATTEMPTS - 1:
                raise ConfigError(f"cannot open the sweep storage {redact(url)!r}: {str(exc).splitlines()[0]}") \
                    from exc
            # workers started together on an empty database all create Optuna's tables: the losers retry
            time.sleep(0.5 + random.random() * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def make_pruner(name: str) -> Any:
    import optuna

    if name == "median":  # a trial worse than the median of earlier trials at the same epoch stops
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=3)
    if name == "halving":  # asynchronous successive halving: keep the best third at each rung
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=2, reduction_factor=3)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"pruner={name!r} is not a pruner; choose one of {', '.join(PRUNERS)}")


@dataclass
class SweepSpec:
    """What a worker needs (every worker of a study runs the same spec)."""

    base: RunConfig  # the fixed settings: dataset, target, anything given by flag or fixed by the space
    space: Space  # setting -> Param (searched) or value (fixed)
    storage: str  # the storage URL
    study: str = ""  # study name ("" -> default_study_name(base))
    trials: int = 40  # the study's total of finished trials
    timeout: float | None = None  # seconds this worker starts new trials for
    pruner: str = "median"
    heartbeat: int = HEARTBEAT
    sampler_seed: int | None = None
    defaults: dict[str, Any] | None = None  # the default settings as a trial (enqueued first in a new study)

    def __post_init__(self) -> None:
        self.study = self.study or default_study_name(self.base)
        if self.trials < 1:
            raise ConfigError(f"trials={self.trials} must be at least 1")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"timeout={self.timeout} must be positive (seconds)")
        if self.heartbeat < 1:
            raise ConfigError(f"heartbeat={self.heartbeat} must be a whole number of seconds >= 1")
        if self.pruner not in PRUNERS:
            raise ConfigError(f"pruner={self.pruner!r} is not a pruner; choose one of {', '.join(PRUNERS)}")
        if not searched(self.space):
            raise ConfigError("the space searches nothing; give at least one range or choice list")

    def identity(self) -> dict[str, Any]:
        """What every worker of one study must agree on (recorded by the study's creator)."""
        b = self.base
        return {"task": b.task, "dataset": b.dataset, "target": b.target or "", "space": space_to_doc(self.space),
                "trials": self.trials, "objective": objective_name(b.task)}


def open_study(spec: SweepSpec, storage: Any) -> tuple[Any, bool]:
    """Create the study (True) or join it (False); a joined study must have been made for the same
    task, data and space."""
    import optuna

    kw = dict(study_name=spec.study, storage=storage, direction="minimize", pruner=make_pruner(spec.pruner),
              sampler=optuna.samplers.TPESampler(seed=spec.sampler_seed))
    try:
        study = optuna.create_study(**kw)
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=spec.study, storage=storage, pruner=kw["pruner"], sampler=kw["sampler"])
        created = False
    ident = spec.identity()
    if created:
        for key, value in ident.items():
            study.set_user_attr(key, value)
        if spec.defaults is not None:
            study.enqueue_trial(spec.defaults, user_attrs={"defaults": True})
        return study, True
    attrs = study.user_attrs
    differ = [k for k in ("task", "dataset", "target", "space") if k in attrs and attrs[k] != ident[k]]
    if differ:
        raise ConfigError(f"the study {spec.study!r} in {redact(spec.storage)} was made for another sweep "
                          f"({', '.join(f'{k}: {attrs[k]!r}' for k in differ if k != 'space')}"
                          f"{' and another space' if 'space' in differ else ''}); give another --study name")
    if attrs.get("trials") != spec.trials:
        study.set_user_attr("trials", max(int(attrs.get("trials", 0) or 0), spec.trials))
    return study, False


def counts(study: Any) -> dict[str, int]:
    """Trials per state name (COMPLETE, PRUNED, RUNNING, WAITING, FAIL)."""
    out: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        out[t.state.name] = out.get(t.state.name, 0) + 1
    return out


@dataclass
class TrialProgress:
    """What a front end shows about the trial this worker is training."""

    number: int
    epoch: int = 0
    epochs: int = 0
    value: float = float("nan")  # the latest epoch's validation score
    params: dict[str, Any] = field(default_factory=dict)


class Worker:
    """One worker of a study: ``run()`` trains trials until the study has ``spec.trials`` finished
    ones, the timeout passes, or ``stop_event`` is set."""

    def __init__(self, data: Any, spec: SweepSpec, store: RunStore, *, stop_event: threading.Event | None = None,
                 on_trial: Callable[[Any], None] | None = None, on_epoch: Callable[[TrialProgress], None] | None = None,
                 poll: float | None = None) -> None:
        self.data, self.spec, self.store = data, spec, store
        self.stop_event = stop_event or threading.Event()
        self.on_trial, self.on_epoch = on_trial, on_epoch
        self.poll = poll if poll is not None else min(5.0, spec.heartbeat)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"
        self.ran: list[int] = []  # trial numbers this worker trained (complete or pruned)
        self.current: TrialProgress | None = None
        self.study: Any = None
        self.created = False

    def run(self) -> Any:
        import optuna

        storage = open_storage(self.spec.storage, self.spec.heartbeat)
        self.study, self.created = open_study(self.spec, storage)
        deadline = time.monotonic() + self.spec.timeout if self.spec.timeout else None
        while not self.stop_event.is_set():
            with warnings.catch_warnings():  # experimental in Optuna (since 2.9), as Optuna itself calls it
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(self.study)  # a dead worker's trial: failed and queued again
            c = counts(self.study)
            done = sum(c.get(s, 0) for s in FINISHED)
            if done >= self.spec.trials or (deadline is not None and time.monotonic() >= deadline):
                break
            if done + c.get("RUNNING", 0) >= self.spec.trials and not c.get("WAITING"):
                self.stop_event.wait(self.poll)  # the last trials run elsewhere; they may still need a retry
                continue
            try:
                self.study.optimize(self._objective, n_trials=1, catch=(RnnlabError,),
                                    callbacks=[self._finished] if self.on_trial else None)
            except ValueError as exc:  # Optuna cannot tell a trial another worker has failed meanwhile
                if not str(exc).startswith("Cannot tell a"):
                    raise
                log.warning("a trial of this worker was failed by another worker (its heartbeat was late; "
                            "an overloaded machine?); its retry runs instead")
        return self.study

    def _finished(self, study: Any, trial: Any) -> None:
        assert self.on_trial is not None
        self.on_trial(trial)

    # ------------------------------------------------------------------ one trial
    def _objective(self, trial: Any) -> float:
        import optuna

        from rnnlab import pipeline
        from rnnlab.tasks import get_task

        study, spec = trial.study, self.spec
        trials = study.get_trials(deepcopy=False)
        mine = next((t for t in trials if t.number == trial.number), None)
        retry_of = mine.system_attrs.get("failed_trial") if mine is not None else None
        earlier = sum(1 for t in trials if t.number < trial.number and t.state.name in (*FINISHED, "RUNNING", "WAITING"))
        if earlier >= spec.trials:
            trial.set_user_attr("surplus", True)
            raise SurplusTrial(f"trial {trial.number} is past the study's {spec.trials} trials (started by two "
                               f"workers at once); not trained")
        trial.set_user_attr("worker", self.worker_id)
        trial.set_user_attr("store", str(self.store.root))
        params = {name: p.suggest(trial) for name, p in searched(spec.space).items()}
        cfg = spec.base.replace(**{k: v for k, v in spec.space.items() if k not in params}, **params)
        prep = pipeline.prepare(self.data, cfg)  # ConfigError for an impossible combination: the trial fails
        task = get_task(cfg.task)
        scorer = getattr(task, "validation_score", None)
        stop = threading.Event()
        scores: dict[int, float] = {}
        self.current = TrialProgress(trial.number, epochs=cfg.epochs, params=params)
        pruned_at = 0

        def on_event(ev: Any) -> None:
            nonlocal pruned_at
            if self.stop_event.is_set():
                stop.set()
            if ev.kind != "epoch":
                return
            value = float(scorer(prep, ev.val_output)) if scorer and ev.val_output is not None else float(ev.val_loss)
            scores[ev.epoch] = value
            trial.report(value, ev.epoch)
            self.current = TrialProgress(trial.number, ev.epoch, cfg.epochs, value, params)
            if self.on_epoch:
                self.on_epoch(self.current)
            if trial.should_prune():
                pruned_at = ev.epoch
                stop.set()

        t0 = time.perf_counter()
        try:
            run = pipeline.train(prep, callbacks=[on_event], stop_event=stop, evaluate=False)
        finally:
            self.current = None
        if self.stop_event.is_set() and not pruned_at:
            raise SweepStopped(f"trial {trial.number} was stopped with the sweep; not counted")
        now = next((t for t in study.get_trials(deepcopy=False) if t.number == trial.number), None)
        if now is not None and now.state.name != "RUNNING":
            raise LostTrial(f"trial {trial.number} was failed by another worker meanwhile; its retry runs instead")
        best = int(run.train_info.get("best_epoch", 0))
        value = scores.get(best, float(run.train_info.get("best_val_loss", float("nan"))))
        state = "pruned" if pruned_at else "complete"
        if pruned_at:
            run.train_info.update(stop_reason="pruned", message=f"pruned by the sweep's {spec.pruner} pruner after "
                                  f"epoch {pruned_at} (its validation score was behind the other trials'); kept the "
                                  f"best weights from epoch {best}")
        run.meta.update(name=f"{spec.study} · trial {trial.number}", tags=["sweep"], sweep={
            "study": spec.study, "trial": trial.number, "storage": redact(spec.storage), "state": state,
            "value": value, "objective": objective_name(cfg.task), "params": params,
            "defaults": bool(trial.user_attrs.get("defaults")), "retry_of": retry_of})
        entry = self.store.save(run)
        for key, v in (("run_id", entry.id), ("epochs", len(run.history)), ("best_epoch", best),
                       ("max_epochs", cfg.epochs), ("pruned_at", pruned_at), ("seconds", time.perf_counter() - t0)):
            trial.set_user_attr(key, v)
        self.ran.append(trial.number)
        if pruned_at:
            raise optuna.TrialPruned(f"pruned after epoch {pruned_at}")
        return value


# ----------------------------------------------------------------------------- watching
def study_names(url: str) -> list[str]:
    """The studies in a storage, newest first (for attaching to one)."""
    import optuna

    storage = open_storage(url, heartbeat=None)
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    return [s.study_name for s in sorted(summaries, key=lambda s: s.datetime_start or 0, reverse=True)]


def load_study(url: str, name: str, storage: Any = None) -> Any:
    """An existing study (to watch it; nothing is written)."""
    import optuna

    try:
        return optuna.load_study(study_name=name, storage=storage or open_storage(url, heartbeat=None))
    except KeyError:
        raise ConfigError(f"there is no study {name!r} in {redact(url)}") from None
