"""Background training jobs for interactive front ends (no streamlit here).

A :class:`TrainingJob` prepares the data synchronously (so bad settings raise at once,
before any thread starts), then trains in a daemon thread. The front end polls
:meth:`TrainingJob.snapshot` to redraw progress, loss curves and a live validation
forecast; :meth:`TrainingJob.stop` sets a ``threading.Event`` the trainer checks between
batches, so Stop takes effect within one batch and the best weights so far are kept.

Thread policy: every job trains on torch's single intra-op pool (sized once per process
to the available cores by :func:`rnnlab._platform.configure_torch_threads`). Concurrent
jobs therefore share the cores instead of each spawning a full pool; each job is slower
but the machine is never oversubscribed.

Abandoned jobs: with ``heartbeat_timeout`` set, a job whose front end stops calling
:meth:`touch` (e.g. the browser tab was closed) stops itself and keeps its best weights.

Saving: with ``runs_dir`` (a run store's folder) the job saves its run there when it finishes,
is stopped or is ended by the heartbeat timeout, in the folder ``runs_dir / job.run_id``
(chosen at once, so a front end can point at it while training runs). With ``checkpoint``
(the default when saving) the best weights so far are also saved there after every epoch that
improved them (:mod:`rnnlab.checkpoint`, in a background thread), so a crash or a killed
process loses no such epoch: the folder then holds an ``interrupted`` run. The status turns
done/stopped only after the final save, so a listing of the store shows the run by then.

Evolution: with ``record_evolution`` (the default) the trainer also records the test-span
anchor states at a few epochs, so the finished run carries ``run.evolution`` (saved with it)
and the Hidden states page needs no replay; its cost is recorded in
``train_info["evolution_seconds"]`` and measured by ``bench/live.py``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from rnnlab.errors import RnnlabError
from rnnlab.models import ModelShape, build_model
from rnnlab.pipeline import prepare, train
from rnnlab.run import Run, new_meta
from rnnlab.settings import RunConfig
from rnnlab.tasks import get_task
from rnnlab.training import TrainEvent

log = logging.getLogger(__name__)

# Live validation previews run a forward pass over every validation window in the training
# thread; they may take at most this share of its time (the wait after a preview is at least
# (1 - share) / share times what the preview cost), whatever ``preview_interval`` says.
PREVIEW_MAX_SHARE = 0.05


@dataclass
class JobSnapshot:
    """A consistent copy of a job's state for drawing (safe to read from any thread)."""

    status: str  # running | done | stopped | failed
    progress: float  # 0..1 of the epochs the run can still reach (early stopping bounds them: expected_epochs)
    epoch: int
    epochs: int
    batch: int
    n_batches: int
    elapsed: float  # seconds since the thread started
    history: list[dict[str, float]]  # finished epochs: epoch, train_loss, val_loss
    batch_losses: list[tuple[float, float]]  # (fractional epoch, batch loss), thinned to <= 2000 points
    preview: dict[str, Any] | None  # the task's latest live preview (forecast: {"time", "actual", "forecast", "epoch"})
    message: str  # what happened (stop reason, error)
    run: Run | None  # the trained run once status is done/stopped
    best_epoch: int = 0
    best_val_loss: float = float("nan")
    best_preview: dict[str, Any] | None = None  # the preview of the best epoch so far: the weights a run keeps
    expected_epochs: int = 0  # the most epochs the run can still take: max epochs, or best epoch + patience
    eta: float = float("nan")  # seconds left at most, from the time per batch so far (NaN before a batch)

    @property
    def finished(self) -> bool:
        return self.status != "running"


def epochs_bound(epochs: int, epoch: int, best_epoch: int, patience: int) -> int:
    """The most epochs a run can take from here: ``epochs``, or fewer when early stopping (patience
    epochs without a better validation loss) would end it first."""
    if patience <= 0:
        return epochs
    return max(epoch, min(epochs, max(best_epoch, 1) + patience))


class TrainingJob:
    """Train one run in a background thread; poll :meth:`snapshot`, stop with :meth:`stop`."""

    def __init__(
        self,
        dataset: Any,
        config: RunConfig,
        *,
        preview_interval: float = 0.5,
        heartbeat_timeout: float | None = None,
        on_finish: Callable[[Run], None] | None = None,
        runs_dir: str | Path | None = None,
        record_evolution: bool = True,
        checkpoint: bool = True,
    ) -> None:
        self.prepared: Any = prepare(dataset, config)  # raises RnnlabError on bad settings, before any thread
        self.task = get_task(self.prepared.config.task)
        self.config = self.prepared.config
        self.preview_interval = preview_interval  # minimum seconds between live validation forecasts
        self.heartbeat_timeout = heartbeat_timeout
        self.on_finish = on_finish
        self.runs_dir = Path(runs_dir) if runs_dir else None
        self.record_evolution = record_evolution
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._status = "running"
        self._message = ""
        self._run: Run | None = None
        self._history: list[dict[str, float]] = []
        self._batch_losses: list[tuple[float, float]] = []
        self._last: TrainEvent | None = None
        self._preview: dict[str, Any] | None = None
        self._best_preview: dict[str, Any] | None = None
        self._next_preview = 0.0  # monotonic time before which no mid-epoch preview is drawn
        self._last_touch = time.monotonic()
        self._t0 = 0.0
        self._model: nn.Module | None = None
        self.saved_to: Path | None = None
        self.save_error: str = ""
        self.meta = new_meta()  # the run's id and creation time, fixed now (checkpoints and the final run share them)
        self.run_id: str = self.meta["id"]
        self.checkpoint = checkpoint and self.runs_dir is not None
        self._writer: Any = None  # rnnlab.checkpoint.CheckpointWriter while training, when checkpointing

    # ------------------------------------------------------------------ control
    def start(self) -> TrainingJob:
        if self._thread is not None:
            return self
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._work, name="rnnlab-train", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the trainer to stop after the current batch; the best weights are kept."""
        self.stop_event.set()

    def touch(self) -> None:
        """Heartbeat from the front end (see ``heartbeat_timeout``)."""
        self._last_touch = time.monotonic()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.is_alive()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def status(self) -> str:
        return self._status

    # ------------------------------------------------------------------ worker
    def _callback(self, ev: TrainEvent) -> None:
        abandoned = self.heartbeat_timeout is not None and time.monotonic() - self._last_touch > self.heartbeat_timeout
        if abandoned and not self.stop_event.is_set():
            log.info("training job abandoned (no heartbeat for %.0f s); stopping", self.heartbeat_timeout)
            self._message = "the page that started this job went away; stopped and kept the best weights"
            self.stop_event.set()
        with self._lock:
            self._last = ev
            if ev.kind == "batch":
                x = ev.epoch - 1 + ev.batch / max(1, ev.n_batches)
                self._batch_losses.append((x, ev.loss))
                if len(self._batch_losses) > 2000:
                    self._batch_losses = self._batch_losses[::2]
            elif ev.kind == "epoch":
                self._history.append({"epoch": ev.epoch, "train_loss": ev.loss, "val_loss": ev.val_loss, "lr": ev.lr})
        if ev.kind == "epoch" and self._writer is not None and ev.best_epoch == ev.epoch and self._model is not None:
            state = {k: v.detach().clone() for k, v in self._model.state_dict().items()}  # this epoch is the best
            with self._lock:
                history = [dict(h) for h in self._history]
            self._writer.offer(epoch=ev.epoch, state=state, history=history, best_epoch=ev.best_epoch,
                               best_val_loss=ev.best_val_loss, elapsed=ev.elapsed)
        now = time.monotonic()
        if ev.kind == "epoch" and ev.val_output is not None:
            # the trainer's validation pass already predicted every validation item: no forward pass
            self._update_preview(ev.epoch, ev.val_output)
        elif ev.kind == "epoch" or (ev.kind == "batch" and now >= self._next_preview):
            self._update_preview(ev.epoch)
            done = time.monotonic()
            # measured from the end of this preview and scaled by its cost, so previews never take
            # more than PREVIEW_MAX_SHARE of the training thread (before: a preview slower than
            # preview_interval ran after every batch and multiplied the epoch time)
            wait = (done - now) * (1 - PREVIEW_MAX_SHARE) / PREVIEW_MAX_SHARE
            self._next_preview = done + max(self.preview_interval, wait)

    def _update_preview(self, epoch: int, val_output: Any = None) -> None:
        """The task's live preview from the trainer's validation output, else a forward pass now."""
        if self._model is None:
            return
        preview = self.task.preview(self.prepared, self._model, val_output, epoch)
        with self._lock:
            self._preview = preview
            last = self._last
            if val_output is not None and last is not None and last.kind == "epoch" and last.best_epoch == epoch:
                self._best_preview = preview  # this epoch's weights are the ones the run keeps (so far)

    def _work(self) -> None:
        def capture(config: RunConfig, shape: ModelShape) -> nn.Module:  # a handle on the model for live previews
            self._model = build_model(config, shape)
            if self.checkpoint:
                from rnnlab.checkpoint import CheckpointWriter

                assert self.runs_dir is not None
                meta = {**self.meta, "warnings": list(self.prepared.warnings)}
                self._writer = CheckpointWriter(self.prepared, shape, self.runs_dir / self.run_id, meta)
            return self._model

        try:
            run = train(self.prepared, callbacks=[self._callback], stop_event=self.stop_event, build=capture,
                        record_evolution=self.record_evolution)
            status = "stopped" if run.train_info.get("stop_reason") == "stopped" else "done"
            message = self._message or run.train_info.get("message", "")
            # the preview of the weights the run kept (best epoch, restored): what its metrics describe
            kept = self.task.preview(self.prepared, run.model, None, int(run.train_info.get("best_epoch", 0)))
            with self._lock:
                self._best_preview = kept
            if self._writer is not None:
                self._writer.close()  # nothing may overwrite the final run
                run.train_info["checkpoints"] = self._writer.written
            run.meta.update(id=self.run_id, created=self.meta["created"])
            if self.runs_dir is not None:
                self._save(run)
            if self.on_finish is not None:
                self.on_finish(run)
            with self._lock:
                self._run, self._status, self._message = run, status, message
        except RnnlabError as exc:
            with self._lock:
                self._status, self._message = "failed", str(exc)
        except Exception as exc:  # a bug: keep the app alive, log it, show it briefly (a checkpoint stays)
            log.exception("training job crashed")
            with self._lock:
                self._status, self._message = "failed", f"unexpected error: {type(exc).__name__}: {exc}"
        finally:
            if self._writer is not None:
                self._writer.close()

    def _save(self, run: Run) -> None:
        """Into the store (replacing this job's checkpoint; a name, tags or note given meanwhile stay)."""
        from rnnlab.store import RunStore

        assert self.runs_dir is not None
        try:
            self.saved_to = RunStore(self.runs_dir).save(run).path
        except RnnlabError as exc:
            self.save_error = str(exc)
            log.warning("the finished run could not be saved to %s: %s", self.runs_dir, exc)

    # ------------------------------------------------------------------ reading
    def snapshot(self) -> JobSnapshot:
        with self._lock:
            ev = self._last
            hist = [dict(h) for h in self._history]
            status = self._status
            elapsed = (time.monotonic() - self._t0) if self._t0 else 0.0
            progress, expected, eta = 0.0, self.config.epochs, float("nan")
            if ev is not None and ev.n_batches:
                expected = epochs_bound(self.config.epochs, ev.epoch, ev.best_epoch, self.config.patience)
                done = (ev.epoch - 1) * ev.n_batches + ev.batch if ev.kind == "batch" else ev.epoch * ev.n_batches
                progress = min(1.0, done / (expected * ev.n_batches))
                if done and ev.elapsed > 0:
                    eta = max(0.0, ev.elapsed / done * (expected * ev.n_batches - done))
            if status != "running":
                progress, eta = 1.0, 0.0
            return JobSnapshot(
                status=status,
                progress=progress,
                epoch=ev.epoch if ev else 0,
                epochs=self.config.epochs,
                batch=ev.batch if ev else 0,
                n_batches=ev.n_batches if ev else 0,
                elapsed=elapsed,
                history=hist,
                batch_losses=list(self._batch_losses),
                preview=None if self._preview is None else dict(self._preview),
                message=self._message,
                run=self._run,
                best_epoch=ev.best_epoch if ev else 0,
                best_val_loss=ev.best_val_loss if ev else float("nan"),
                best_preview=None if self._best_preview is None else dict(self._best_preview),
                expected_epochs=expected,
                eta=eta,
            )
