"""Epoch-end checkpoints of a training job: the best weights so far, saved as a run folder.

After every epoch that improved the validation loss the job hands a copy of the weights to a
:class:`CheckpointWriter`; a background thread turns it into a run (the task's ``make_run``, the
test span withheld, ``stop_reason="interrupted"``) and saves it with
:func:`rnnlab.runs.save_run` (atomic: a crash mid-write keeps the previous checkpoint). The
training thread only copies the state dict; offers that arrive while a write is in flight
replace each other, and after each write the writer waits until checkpoints have taken at most
:data:`MAX_SHARE` of the time (9x the last write's cost at 10 %), so fast epochs are
checkpointed every few epochs rather than after each: a crash loses at most the improvements of
that short wait, and a slow disk writes less often instead of slowing training down.

When the job ends normally its final run replaces the checkpoint in the same folder; when the
process dies (a crash, a kill) the last checkpoint stays and is listed as ``interrupted``.
``bench/store.py`` measures what checkpoints cost.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import torch

from rnnlab.errors import RnnlabError
from rnnlab.models import ModelShape, build_model
from rnnlab.runs import save_run
from rnnlab.tasks import get_task

log = logging.getLogger(__name__)

MAX_SHARE = 0.10  # checkpoints may take at most this share of the wall time (measured: bench/store.py)


class CheckpointWriter:
    """Save the latest offered weights of ``prep``'s model to ``folder`` in a background thread."""

    def __init__(self, prep: Any, shape: ModelShape, folder: Path, meta: dict[str, Any]) -> None:
        self.prep, self.shape, self.folder, self.meta = prep, shape, Path(folder), dict(meta)
        self.written = 0  # checkpoints saved
        self.seconds = 0.0  # spent writing them (in the writer thread)
        self.error = ""  # the last write's error, if any
        self._pending: dict[str, Any] | None = None
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False
        self._thread = threading.Thread(target=self._loop, name="rnnlab-checkpoint", daemon=True)
        self._thread.start()

    def offer(self, *, epoch: int, state: dict[str, torch.Tensor], history: list[dict[str, float]], best_epoch: int,
              best_val_loss: float, elapsed: float) -> None:
        """Queue the weights of ``best_epoch`` (already copied by the caller); returns at once."""
        with self._cond:
            if self._closed:
                return
            self._pending = dict(epoch=epoch, state=state, history=history, best_epoch=best_epoch,
                                 best_val_loss=best_val_loss, elapsed=elapsed)
            self._cond.notify()

    def close(self, timeout: float = 60.0) -> None:
        """Drop what is queued, wait for a write in flight (so nothing writes after this returns)."""
        with self._cond:
            self._closed = True
            self._pending = None
            self._cond.notify()
            end = time.monotonic() + timeout
            while self._busy and time.monotonic() < end:
                self._cond.wait(0.1)

    def _loop(self) -> None:
        not_before = 0.0  # monotonic time before which no checkpoint is written (keeps them to MAX_SHARE)
        while True:
            with self._cond:
                while not self._closed and (self._pending is None or time.monotonic() < not_before):
                    self._cond.wait(None if self._pending is None else max(0.0, not_before - time.monotonic()))
                if self._closed:
                    return
                job, self._pending, self._busy = self._pending, None, True
            t0 = time.perf_counter()
            try:
                self._write(**job)
                self.written += 1
            except (RnnlabError, OSError, RuntimeError) as exc:  # keep training; say so in the job
                self.error = str(exc)
                log.warning("checkpoint after epoch %s not written: %s", job["epoch"], exc)
            finally:
                cost = time.perf_counter() - t0
                self.seconds += cost
                not_before = time.monotonic() + cost * (1 - MAX_SHARE) / MAX_SHARE
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _write(self, *, epoch: int, state: dict[str, torch.Tensor], history: list[dict[str, float]], best_epoch: int,
               best_val_loss: float, elapsed: float) -> None:
        cfg = self.prep.config
        model = build_model(cfg, self.shape)
        model.load_state_dict(state)
        model.eval()
        train_info = {
            "stop_reason": "interrupted",
            "message": (f"checkpoint after epoch {epoch} of {cfg.epochs}: the training had not finished when it was "
                        f"written (the process ended before it did); best weights from epoch {best_epoch}"),
            "best_epoch": best_epoch, "best_val_loss": best_val_loss, "seconds": elapsed,
            "n_parameters": sum(p.numel() for p in model.parameters()),
        }
        train_info.update(self.prep.counts())
        run = get_task(cfg.task).make_run(self.prep, model, history=history, train_info=train_info,
                                          meta=dict(self.meta), recorder=None)
        run.metrics = {"withheld": ["test"]}
        with self._cond:
            if self._closed:  # the final run is on its way: never overwrite it
                return
        save_run(run, self.folder, keep_user_meta=True)  # a name given in the app while training stays
