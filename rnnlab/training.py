"""The Trainer: no I/O, reports through callbacks, honours a stop flag between batches.

In the style of minGPT's trainer: the caller decides what to draw or save. The CLI passes
a callback that prints a line per epoch, the dashboard's job records events for its charts,
and tests pass ``events.append``.

Behaviour:
* a plain loop over pre-built window tensors (faster than DataLoader workers on CPU),
  shuffled by a seeded ``torch.Generator`` so a config + seed reproduces the same run;
* Adam or AdamW with weight decay, gradient-norm clipping, optional LR schedule
  (``plateau`` or ``cosine``);
* early stopping on validation loss with patience; the best-validation weights are kept
  and restored at the end (also after Stop or divergence);
* a non-finite loss stops training with ``stop_reason="diverged"`` and a message that
  suggests a lower learning rate;
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
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Literal, Sequence

import numpy as np
import torch
from torch import nn

from rnnlab.errors import ConfigError

OPTIMIZERS = ("adam", "adamw")
LR_SCHEDULES = ("none", "plateau", "cosine")


@dataclass
class TrainConfig:
    epochs: int = 60  # maximum passes over the training windows
    batch_size: int = 64  # windows per optimisation step
    lr: float = 3e-3  # learning rate
    weight_decay: float = 0.0  # L2 (adam) or decoupled (adamw) weight decay
    optimizer: str = "adam"  # "adam" or "adamw"
    lr_schedule: str = "plateau"  # "none", "plateau" (halve after patience//2 flat epochs) or "cosine"
    patience: int = 10  # epochs without validation improvement before early stopping (0 = never stop early)
    grad_clip: float = 1.0  # max global gradient norm (0 = no clipping)
    seed: int = 0  # seeds weight init and shuffling

    def validate(self) -> "TrainConfig":
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name}={value!r} must be a positive integer")
        if self.epochs > 10_000:
            raise ConfigError(f"epochs={self.epochs} is above the limit of 10000")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and 0 < self.lr <= 1.0):
            raise ConfigError(f"lr={self.lr} must be in (0, 1]; typical values are 1e-4 to 1e-2")
        if not (math.isfinite(self.weight_decay) and 0 <= self.weight_decay < 1):
            raise ConfigError(f"weight_decay={self.weight_decay} must be in [0, 1)")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer={self.optimizer!r} must be one of {', '.join(OPTIMIZERS)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"lr_schedule={self.lr_schedule!r} must be one of {', '.join(LR_SCHEDULES)}")
        if not isinstance(self.patience, int) or self.patience < 0:
            raise ConfigError(f"patience={self.patience!r} must be a non-negative integer")
        if not (math.isfinite(self.grad_clip) and self.grad_clip >= 0):
            raise ConfigError(f"grad_clip={self.grad_clip} must be >= 0")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    best_val_loss: float = float("nan")
    best_epoch: int = 0
    lr: float = float("nan")
    elapsed: float = 0.0  # seconds since start
    stop_reason: str = ""  # set on "end": completed | early_stopping | stopped | diverged
    message: str = ""  # human-readable explanation for "end"
    # validation predictions in model space, (M, h), from the pass that gave val_loss ("epoch"
    # only; None without validation windows): a live preview needs no second forward pass
    val_pred: torch.Tensor | None = field(default=None, repr=False)

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


@dataclass
class TrainResult:
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0  # 0 when no finite validation loss was ever reached
    best_val_loss: float = float("inf")
    stop_reason: str = "completed"  # completed | early_stopping | stopped | diverged
    message: str = ""
    seconds: float = 0.0

    def history_dicts(self) -> list[dict[str, float]]:
        return [asdict(r) for r in self.history]


# Held while torch's process-global generator is seeded and drawn from (see the module docstring).
GLOBAL_RNG_LOCK = threading.RLock()


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch and numpy, and keep other threads from drawing until the block ends.

    Wrap model construction in it: without the lock a concurrent job can re-seed or draw
    between ``seed_everything`` and the weight initialisation (measured: 2 of 3 models
    built by 4 threads at once differed from the same seed built alone).
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


class Trainer:
    """Fit a model ``(B, T, F) -> ((B, h), states)`` on windows with MSE loss."""

    def __init__(self, config: TrainConfig, callbacks: Sequence[Callback] = ()) -> None:
        self.config = config.validate()
        self.callbacks: list[Callback] = list(callbacks)

    def add_callback(self, fn: Callback) -> None:
        self.callbacks.append(fn)

    def _fire(self, event: TrainEvent) -> None:
        for fn in self.callbacks:
            fn(event)

    def evaluate(self, model: nn.Module, X: torch.Tensor, Y: torch.Tensor, chunk: int = 4096) -> float:
        """Mean squared error over ``(X, Y)`` in model space, computed in batched chunks."""
        return self._evaluate(model, X, Y, chunk)[0]

    @torch.no_grad()
    def _evaluate(self, model: nn.Module, X: torch.Tensor, Y: torch.Tensor,
                  chunk: int = 4096) -> tuple[float, torch.Tensor | None]:
        """``(mse, predictions (M, h))``; ``(nan, None)`` without windows."""
        if len(X) == 0:
            return float("nan"), None
        was_training = model.training
        model.eval()
        preds = [model(X[i : i + chunk])[0] for i in range(0, len(X), chunk)]
        model.train(was_training)
        pred = torch.cat(preds)  # (M, h)
        return float(((pred - Y) ** 2).sum()) / Y.numel(), pred

    def fit(
        self,
        model: nn.Module,
        X_train: torch.Tensor,  # (N, T, F)
        Y_train: torch.Tensor,  # (N, h)
        X_val: torch.Tensor,  # (M, T, F)
        Y_val: torch.Tensor,  # (M, h)
        stop_event: threading.Event | None = None,
    ) -> TrainResult:
        cfg = self.config
        if len(X_train) == 0:
            raise ConfigError("no training windows: the training span is shorter than seq_len + horizon")
        stop_event = stop_event or threading.Event()
        opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
        optimizer = opt_cls(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        scheduler: Any = None
        if cfg.lr_schedule == "plateau":
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=max(1, cfg.patience // 2))
        elif cfg.lr_schedule == "cosine":
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
        generator = torch.Generator().manual_seed(cfg.seed)
        # dropout masks come from the process-global generator: re-seed it for every batch from a
        # generator of this run, under the lock, so a concurrent job cannot draw in between
        mask_seeds = torch.Generator().manual_seed(cfg.seed + 1) if _draws_random_numbers(model) else None
        loss_fn = nn.MSELoss()
        n = len(X_train)
        bs = min(cfg.batch_size, n)
        n_batches = math.ceil(n / bs)
        result = TrainResult()
        best_state: dict[str, torch.Tensor] | None = None
        epochs_since_best = 0
        t0 = time.perf_counter()
        self._fire(TrainEvent("start", 0, cfg.epochs, n_batches=n_batches, lr=cfg.lr))
        model.train()
        stop_reason, message = "completed", f"finished all {cfg.epochs} epochs"
        for epoch in range(1, cfg.epochs + 1):
            te = time.perf_counter()
            perm = torch.randperm(n, generator=generator)
            running, seen = 0.0, 0
            diverged = False
            for b in range(n_batches):
                if stop_event.is_set():
                    break
                idx = perm[b * bs : (b + 1) * bs]
                xb, yb = X_train[idx], Y_train[idx]  # (B, T, F), (B, h)
                if mask_seeds is None:
                    pred, _ = model(xb)
                else:
                    with GLOBAL_RNG_LOCK:
                        torch.manual_seed(int(torch.randint(2**62, (1,), generator=mask_seeds)))
                        pred, _ = model(xb)
                loss = loss_fn(pred, yb)
                if not torch.isfinite(loss):
                    diverged = True
                    break
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                optimizer.step()
                lv = float(loss.detach())
                running += lv * len(idx)
                seen += len(idx)
                if self.callbacks:
                    self._fire(TrainEvent("batch", epoch, cfg.epochs, batch=b + 1, n_batches=n_batches, loss=lv,
                                          best_val_loss=result.best_val_loss, best_epoch=result.best_epoch,
                                          lr=optimizer.param_groups[0]["lr"], elapsed=time.perf_counter() - t0))
            if diverged:
                stop_reason = "diverged"
                message = (
                    f"training diverged in epoch {epoch}: the loss became NaN or infinite at lr={cfg.lr:g}. "
                    f"Try a lower learning rate (e.g. {cfg.lr / 10:g}) or stronger gradient clipping"
                )
                break
            if stop_event.is_set() and seen < n:
                stop_reason, message = "stopped", f"stopped by the user during epoch {epoch}"
                if seen:  # score the partial epoch so its weights can be kept if they are the best so far
                    val_loss = self.evaluate(model, X_val, Y_val)
                    if math.isfinite(val_loss):
                        result.history.append(EpochRecord(epoch, running / seen, val_loss,
                                                          optimizer.param_groups[0]["lr"], time.perf_counter() - te))
                        if val_loss < result.best_val_loss:
                            result.best_val_loss, result.best_epoch = val_loss, epoch
                            best_state = copy.deepcopy(model.state_dict())
                break
            train_loss = running / max(1, seen)
            val_loss, val_pred = self._evaluate(model, X_val, Y_val)
            lr_now = optimizer.param_groups[0]["lr"]
            if not math.isfinite(val_loss):
                if len(X_val) > 0:
                    stop_reason = "diverged"
                    message = (
                        f"training diverged in epoch {epoch}: the validation loss is not finite at lr={cfg.lr:g}. "
                        f"Try a lower learning rate (e.g. {cfg.lr / 10:g})"
                    )
                    break
                val_loss = train_loss  # no validation windows: fall back to train loss for selection
            result.history.append(EpochRecord(epoch, train_loss, val_loss, lr_now, time.perf_counter() - te))
            if val_loss < result.best_val_loss:
                result.best_val_loss, result.best_epoch = val_loss, epoch
                best_state = copy.deepcopy(model.state_dict())
                epochs_since_best = 0
            else:
                epochs_since_best += 1
            if scheduler is not None:
                if cfg.lr_schedule == "plateau":
                    scheduler.step(val_loss)
                else:
                    scheduler.step()
            self._fire(TrainEvent("epoch", epoch, cfg.epochs, batch=n_batches, n_batches=n_batches, loss=train_loss,
                                  val_loss=val_loss, best_val_loss=result.best_val_loss, best_epoch=result.best_epoch,
                                  lr=lr_now, elapsed=time.perf_counter() - t0, val_pred=val_pred))
            if stop_event.is_set():
                stop_reason, message = "stopped", f"stopped by the user after epoch {epoch}"
                break
            if cfg.patience and epochs_since_best >= cfg.patience:
                stop_reason = "early_stopping"
                message = f"early stopping: no validation improvement for {cfg.patience} epochs"
                break
        if best_state is not None:
            model.load_state_dict(best_state)
            message += f"; kept the best weights from epoch {result.best_epoch} (validation loss {result.best_val_loss:.4g})"
        model.eval()
        result.stop_reason, result.message = stop_reason, message
        result.seconds = time.perf_counter() - t0
        self._fire(TrainEvent("end", result.history[-1].epoch if result.history else 0, cfg.epochs, n_batches=n_batches,
                              best_val_loss=result.best_val_loss, best_epoch=result.best_epoch,
                              elapsed=result.seconds, stop_reason=stop_reason, message=message))
        return result
