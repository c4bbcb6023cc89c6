"""The Trainer: no I/O, reports through callbacks, honours a stop flag between batches.

In the style of minGPT's trainer: the caller decides what to draw or save. The CLI passes
a callback that prints a line per epoch, the dashboard's job records events for its charts,
and tests pass ``events.append``.

Behaviour:
* the task supplies an :class:`Objective`: its batches (any structure: window tensors,
  padded sequences with lengths, consecutive text chunks with a carried hidden state), its
  loss and its validation pass; the trainer owns the loop, the optimiser and the bookkeeping.
  :class:`TensorPairs` is the objective for pre-built ``(X, Y)`` tensors (a plain loop is
  faster than DataLoader workers on CPU), shuffled by a seeded ``torch.Generator`` so a
  config + seed reproduces the same run;
* Adam or AdamW with weight decay, gradient-norm clipping, optional LR schedule
  (``plateau`` or ``cosine``);
* early stopping on the objective's validation score (its loss unless it says otherwise)
  with patience; the best weights are kept
  and restored at the end (also after Stop or divergence);
* a non-finite loss stops training with ``stop_reason="diverged"`` and a message that
  suggests a lower learning rate; a finite but unstable loss (batch losses spiking far above the
  typical loss, or the validation loss jumping far above its best) is reported in
  ``TrainResult.instability`` with the learning rate as the likely cause (:func:`instability`);
* torch's default random generator is process-global, so everything that draws from it
  (model initialisation in :func:`seeded`, dropout masks in :meth:`Trainer.fit`) holds
  :data:`GLOBAL_RNG_LOCK` and re-seeds first: concurrent jobs (several dashboard sessions)
  get exactly the result each would get alone.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import torch
from torch import nn

from rnnlab._platform import threads_for_epoch
from rnnlab.errors import ConfigError
from rnnlab.settings import RunConfig


# ----------------------------------------------------------------------------- what a task gives the trainer
@dataclass
class Validation:
    """One validation pass."""

    loss: float  # the task's loss on the validation items (NaN without any)
    score: float  # what early stopping minimises (the loss, or e.g. 1 - accuracy)
    output: Any = None  # the pass's predictions, for a live preview (None when not kept)
    n_items: int = 0  # validation items scored (0: there are none, so selection falls back to the train loss)


class Objective(Protocol):
    """A task's batches and loss, as the :class:`Trainer` sees them."""

    def n_batches(self, batch_size: int) -> int:
        """Optimisation steps per epoch."""

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Any]:
        """One epoch of training batches (shuffled with ``generator`` where order does not matter)."""

    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        """``(mean loss of the batch, number of items it averages over)``."""

    def validate(self, model: nn.Module) -> Validation:
        """The validation pass (the model is in eval mode, gradients off)."""


class TensorPairs:
    """Objective over pre-built tensors ``X (N, ...)``, ``Y (N, ...)`` with mean squared error:
    random mini-batches of rows, the model's first output against ``Y``."""

    def __init__(self, X: torch.Tensor, Y: torch.Tensor, X_val: torch.Tensor, Y_val: torch.Tensor,
                 chunk: int = 4096) -> None:
        if len(X) == 0:
            raise ConfigError("no training windows: the training span is shorter than seq_len + horizon")
        self.X, self.Y, self.X_val, self.Y_val, self.chunk = X, Y, X_val, Y_val, chunk

    def n_batches(self, batch_size: int) -> int:
        return math.ceil(len(self.X) / min(batch_size, len(self.X)))

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.X)
        bs = min(batch_size, n)
        perm = torch.randperm(n, generator=generator)
        for b in range(self.n_batches(batch_size)):
            idx = perm[b * bs : (b + 1) * bs]
            yield self.X[idx], self.Y[idx]  # (B, T, F), (B, h)

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, int]:
        xb, yb = batch
        pred = model(xb)[0]  # (B, h)
        return nn.functional.mse_loss(pred, yb), len(xb)

    @torch.no_grad()
    def predict(self, model: nn.Module, X: torch.Tensor) -> torch.Tensor:
        return torch.cat([model(X[i : i + self.chunk])[0] for i in range(0, len(X), self.chunk)])

    @torch.no_grad()
    def validate(self, model: nn.Module) -> Validation:
        if len(self.X_val) == 0:
            return Validation(float("nan"), float("nan"))
        pred = self.predict(model, self.X_val)  # (M, h)
        mse = float(((pred - self.Y_val) ** 2).sum()) / self.Y_val.numel()
        return Validation(mse, mse, pred, len(self.X_val))


# ----------------------------------------------------------------------------- events and results
@dataclass
class TrainEvent:
    """What a callback receives. ``kind`` says which fields are meaningful."""

    kind: Literal["start", "batch", "epoch", "end"]
    epoch: int  # 1-based epoch (0 at start)
    epochs: int  # configured maximum
    batch: int = 0  # 1-based batch within the epoch
    n_batches: int = 0  # batches per epoch
    loss: float = float("nan")  # batch loss (batch) or mean train loss (epoch)
    val_loss: float = float("nan")  # validation loss (epoch)
    best_val_loss: float = float("nan")  # validation loss of the best epoch so far
    best_epoch: int = 0
    lr: float = float("nan")
    elapsed: float = 0.0  # seconds since start
    stop_reason: str = ""  # set on "end": completed | early_stopping | stopped | diverged
    message: str = ""  # human-readable explanation for "end"
    # the validation pass's output ("epoch" only; the objective's predictions, e.g. (M, h) in model
    # space for forecasting): a live preview needs no second forward pass
    val_output: Any = field(default=None, repr=False)

    def epoch_line(self, extra: str = "") -> str:
        """The one-line report of an "epoch" event the CLI prints (``*``: the best epoch so far);
        ``extra`` goes after the losses (e.g. a task's validation accuracy)."""
        star = " *" if self.best_epoch == self.epoch else ""
        return (f"epoch {self.epoch:3d}/{self.epochs}  train {self.loss:.4f}  val {self.val_loss:.4f}{extra}  "
                f"lr {self.lr:.2g}  {self.elapsed:5.1f}s{star}")

    @property
    def progress(self) -> float:
        """Fraction of the configured work done, in [0, 1]."""
        if self.kind == "end":
            return 1.0
        if self.n_batches == 0:
            return 0.0
        done = (self.epoch - 1) * self.n_batches + self.batch if self.kind == "batch" else self.epoch * self.n_batches
        return min(1.0, done / (self.epochs * self.n_batches))


Callback = Callable[[TrainEvent], None]


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    val_loss: float
    lr: float
    seconds: float
    val_score: float = float("nan")  # what early stopping compared (equals val_loss unless the task says otherwise)


@dataclass
class TrainResult:
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0  # 0 when no finite validation score was ever reached
    best_val_loss: float = float("inf")  # validation loss of the best epoch
    best_score: float = float("inf")  # its validation score
    stop_reason: str = "completed"  # completed | early_stopping | stopped | diverged
    message: str = ""
    seconds: float = 0.0
    instability: str = ""  # why the loss looked unstable (empty when it did not), see instability()
    thread_choices: list[dict[str, Any]] = field(default_factory=list)  # from which epoch/batch how many threads, why

    def history_dicts(self) -> list[dict[str, float]]:
        return [asdict(r) for r in self.history]


# ----------------------------------------------------------------------------- instability
SPIKE_FACTOR = 10.0  # a batch loss this many times the typical (median) batch loss is a spike
MAX_SPIKES = 3  # this many spikes, ...
MAX_SPIKE_FACTOR = 50.0  # ... or one spike this large, ...
MAX_VAL_JUMP = 3.0  # ... or a validation loss this many times its best so far: unstable


def instability(batch_losses: Sequence[float], val_losses: Sequence[float], lr: float) -> str:
    """Why a finite training looks unstable, in words naming the learning rate; "" when it does not.

    The typical batch loss is the median after the first tenth of the batches (the early, falling
    part); the validation loss is compared with its running best from the third epoch on. The
    thresholds separate lr=1.0 from lr<=0.1 on seattle-weather (tests/test_training.py pins both)."""
    losses = np.asarray([v for v in batch_losses if math.isfinite(v)], dtype=np.float64)
    reasons = []
    if len(losses) >= 20:
        typical = float(np.median(losses[len(losses) // 10:]))
        if typical > 0:
            ratio = losses / typical
            spikes = int((ratio > SPIKE_FACTOR).sum())
            worst = float(ratio.max())
            if spikes >= MAX_SPIKES or worst > MAX_SPIKE_FACTOR:
                reasons.append(f"{spikes} batch loss{'es' if spikes != 1 else ''} spiked above {SPIKE_FACTOR:g}x the "
                               f"typical loss (up to {worst:.0f}x)")
    vals = [v for v in val_losses if math.isfinite(v)]
    jump = max((v / min(vals[:i]) for i, v in enumerate(vals) if i >= 2 and min(vals[:i]) > 0), default=0.0)
    if jump > MAX_VAL_JUMP:
        reasons.append(f"the validation loss jumped to {jump:.1f}x its best")
    if not reasons:
        return ""
    return (f"the loss was unstable: {' and '.join(reasons)}. The learning rate (lr={lr:g}) is the likely cause: "
            f"try lr={lr / 10:g} or lower")


# ----------------------------------------------------------------------------- seeding
# Held while torch's process-global generator is seeded and drawn from (see the module docstring).
GLOBAL_RNG_LOCK = threading.RLock()


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch and numpy, and keep other threads from drawing until the block ends.

    Wrap model construction in it: without the lock a concurrent job can re-seed or draw
    between ``seed_everything`` and the weight initialisation.
    """
    with GLOBAL_RNG_LOCK:
        seed_everything(seed)
        yield


def _draws_random_numbers(model: nn.Module) -> bool:
    """True when a training-mode forward pass of ``model`` uses torch's global generator (dropout)."""
    for m in model.modules():
        if isinstance(m, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)) and m.p > 0:
            return True
        if isinstance(m, nn.RNNBase) and m.dropout > 0 and m.num_layers > 1:
            return True
    return False


# ----------------------------------------------------------------------------- the trainer
class Trainer:
    """Fit a model on a task's :class:`Objective` with the training settings of a :class:`RunConfig`
    (epochs, batch_size, lr, weight_decay, optimizer, lr_schedule, patience, grad_clip, seed)."""

    def __init__(self, config: RunConfig, callbacks: Sequence[Callback] = ()) -> None:
        self.config = config.validate()
        self.callbacks: list[Callback] = list(callbacks)

    def _fire(self, event: TrainEvent) -> None:
        for fn in self.callbacks:
            fn(event)

    @staticmethod
    def validate(model: nn.Module, objective: Objective) -> Validation:
        """The objective's validation pass in eval mode; the model's mode is restored."""
        was_training = model.training
        model.eval()
        with torch.no_grad():
            result = objective.validate(model)
        model.train(was_training)
        return result

    def _optimiser(self, model: nn.Module) -> tuple[torch.optim.Optimizer, Any]:
        cfg = self.config
        opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ConfigError("the model has no trainable parameters (every layer is frozen)")
        optimizer = opt_cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        scheduler: Any = None
        if cfg.lr_schedule == "plateau":
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5,
                                                                   patience=max(1, cfg.patience // 2))
        elif cfg.lr_schedule == "cosine":
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
        return optimizer, scheduler

    def fit(self, model: nn.Module, objective: Objective, stop_event: threading.Event | None = None) -> TrainResult:
        cfg = self.config
        stop_event = stop_event or threading.Event()
        optimizer, scheduler = self._optimiser(model)
        generator = torch.Generator().manual_seed(cfg.seed)
        # dropout masks come from the process-global generator: re-seed it for every batch from a
        # generator of this run, under the lock, so a concurrent job cannot draw in between
        mask_seeds = torch.Generator().manual_seed(cfg.seed + 1) if _draws_random_numbers(model) else None
        params = [p for p in model.parameters() if p.requires_grad]
        n_batches = objective.n_batches(cfg.batch_size)
        result = TrainResult()
        batch_losses: list[float] = []
        best_state: dict[str, torch.Tensor] | None = None
        epochs_since_best = 0
        t0 = time.perf_counter()
        self._fire(TrainEvent("start", 0, cfg.epochs, n_batches=n_batches, lr=cfg.lr))
        model.train()
        stop_reason, message = "completed", f"finished all {cfg.epochs} epochs"

        def keep_if_best(epoch: int, val: Validation) -> bool:
            nonlocal best_state
            if val.score < result.best_score:
                result.best_score, result.best_val_loss, result.best_epoch = val.score, val.loss, epoch
                best_state = copy.deepcopy(model.state_dict())
                return True
            return False

        def threads(epoch: int, batch: int) -> None:
            """The load-aware thread count, re-chosen between batches (pooled to once a second)."""
            n, why = threads_for_epoch(epoch, batch)
            if not result.thread_choices or result.thread_choices[-1]["threads"] != n:
                result.thread_choices.append({"epoch": epoch, "batch": batch, "threads": n, "reason": why})

        for epoch in range(1, cfg.epochs + 1):
            te = time.perf_counter()
            threads(epoch, 0)
            running, seen, b = 0.0, 0, 0
            diverged = interrupted = False
            for b, batch in enumerate(objective.train_batches(cfg.batch_size, generator), start=1):
                if stop_event.is_set():
                    interrupted = True
                    break
                if mask_seeds is None:
                    loss, n_items = objective.loss(model, batch)
                else:
                    with GLOBAL_RNG_LOCK:
                        torch.manual_seed(int(torch.randint(2**62, (1,), generator=mask_seeds)))
                        loss, n_items = objective.loss(model, batch)
                if not torch.isfinite(loss):
                    diverged = True
                    break
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip > 0:
                    nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                optimizer.step()
                lv = float(loss.detach())
                batch_losses.append(lv)
                if b < n_batches:
                    threads(epoch, b)
                running += lv * n_items
                seen += n_items
                if self.callbacks:
                    self._fire(TrainEvent("batch", epoch, cfg.epochs, batch=b, n_batches=n_batches, loss=lv,
                                          best_val_loss=result.best_val_loss, best_epoch=result.best_epoch,
                                          lr=optimizer.param_groups[0]["lr"], elapsed=time.perf_counter() - t0))
            if diverged:
                stop_reason = "diverged"
                message = (f"training diverged in epoch {epoch}: the loss became NaN or infinite at lr={cfg.lr:g}. "
                           f"Try a lower learning rate (e.g. {cfg.lr / 10:g}) or stronger gradient clipping")
                break
            if interrupted:
                stop_reason, message = "stopped", f"stopped by the user during epoch {epoch}"
                if seen:  # score the partial epoch so its weights can be kept if they are the best so far
                    val = self.validate(model, objective)
                    if math.isfinite(val.score):
                        result.history.append(EpochRecord(epoch, running / seen, val.loss,
                                                          optimizer.param_groups[0]["lr"], time.perf_counter() - te,
                                                          val.score))
                        keep_if_best(epoch, val)
                break
            train_loss = running / max(1, seen)
            val = self.validate(model, objective)
            lr_now = optimizer.param_groups[0]["lr"]
            if not math.isfinite(val.score):
                if val.n_items > 0:
                    stop_reason = "diverged"
                    message = (f"training diverged in epoch {epoch}: the validation loss is not finite at "
                               f"lr={cfg.lr:g}. Try a lower learning rate (e.g. {cfg.lr / 10:g})")
                    break
                val = Validation(train_loss, train_loss)  # no validation items: select on the train loss
            result.history.append(EpochRecord(epoch, train_loss, val.loss, lr_now, time.perf_counter() - te,
                                              val.score))
            if keep_if_best(epoch, val):
                epochs_since_best = 0
            else:
                epochs_since_best += 1
            if scheduler is not None:
                if cfg.lr_schedule == "plateau":
                    scheduler.step(val.score)
                else:
                    scheduler.step()
            self._fire(TrainEvent("epoch", epoch, cfg.epochs, batch=n_batches, n_batches=n_batches, loss=train_loss,
                                  val_loss=val.loss, best_val_loss=result.best_val_loss, best_epoch=result.best_epoch,
                                  lr=lr_now, elapsed=time.perf_counter() - t0, val_output=val.output))
            if stop_event.is_set():
                stop_reason, message = "stopped", f"stopped by the user after epoch {epoch}"
                break
            if cfg.patience and epochs_since_best >= cfg.patience:
                stop_reason = "early_stopping"
                message = f"early stopping: no validation improvement for {cfg.patience} epochs"
                break
        if best_state is not None:
            model.load_state_dict(best_state)
            message += (f"; kept the best weights from epoch {result.best_epoch} "
                        f"(validation loss {result.best_val_loss:.4g})")
        model.eval()
        result.stop_reason, result.message = stop_reason, message
        if stop_reason != "diverged":
            result.instability = instability(batch_losses, [r.val_loss for r in result.history], cfg.lr)
        result.seconds = time.perf_counter() - t0
        self._fire(TrainEvent("end", result.history[-1].epoch if result.history else 0, cfg.epochs,
                              n_batches=n_batches, best_val_loss=result.best_val_loss, best_epoch=result.best_epoch,
                              elapsed=result.seconds, stop_reason=stop_reason, message=message))
        return result
