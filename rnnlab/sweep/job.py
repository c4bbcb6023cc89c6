"""A sweep in a background thread, for the dashboard (no streamlit here).

:class:`SweepJob` runs one :class:`~rnnlab.sweep.study.Worker` in a daemon thread; the page
polls :meth:`SweepJob.snapshot` (the study's trials, read from the storage, plus the trial
being trained) and stops it with :meth:`SweepJob.stop` (the trial in training stops within a
batch and is marked failed; the finished trials and their runs stay).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rnnlab.errors import RnnlabError
from rnnlab.store import RunStore
from rnnlab.sweep.report import SweepSummary, score_test, summarize, trials_frame
from rnnlab.sweep.study import SweepSpec, TrialProgress, Worker

log = logging.getLogger(__name__)


@dataclass
class SweepSnapshot:
    status: str  # running | done | stopped | failed
    message: str
    elapsed: float
    trials: pd.DataFrame  # rnnlab.sweep.report.trials_frame
    current: TrialProgress | None  # the trial this job is training
    summary: SweepSummary | None  # once finished (with the best trial's test scores)

    @property
    def finished(self) -> bool:
        return self.status != "running"


class SweepJob:
    def __init__(self, data: Any, spec: SweepSpec, store: RunStore) -> None:
        self.spec, self.store = spec, store
        self.stop_event = threading.Event()
        self.worker = Worker(data, spec, store, stop_event=self.stop_event)
        self._status, self._message = "running", ""
        self._summary: SweepSummary | None = None
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._t1 = 0.0
        self._lock = threading.Lock()
        self._frame = pd.DataFrame()
        self._frame_at = 0.0

    def start(self) -> SweepJob:
        if self._thread is None:
            self._t0 = time.monotonic()
            self._thread = threading.Thread(target=self._work, name="rnnlab-sweep", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not (self._thread is not None and self._thread.is_alive())

    @property
    def status(self) -> str:
        return self._status

    def _work(self) -> None:
        try:
            study = self.worker.run()
            summary = summarize(study)
            score_test(summary, self.store)
            with self._lock:
                self._summary = summary
                self._status = "stopped" if self.stop_event.is_set() else "done"
        except RnnlabError as exc:
            with self._lock:
                self._status, self._message = "failed", str(exc)
        except Exception as exc:  # a bug: keep the app alive and say so
            log.exception("sweep job crashed")
            with self._lock:
                self._status, self._message = "failed", f"unexpected error: {type(exc).__name__}: {exc}"
        finally:
            self._t1 = time.monotonic()

    def snapshot(self, min_interval: float = 1.0) -> SweepSnapshot:
        """The trials (re-read from the storage at most every ``min_interval`` s) and the live trial."""
        study = self.worker.study
        now = time.monotonic()
        if study is not None and (now - self._frame_at >= min_interval or self._status != "running"):
            try:
                self._frame, self._frame_at = trials_frame(study), now
            except Exception:  # the storage is busy (SQLite locked): show the last table
                log.debug("could not read the trials", exc_info=True)
        with self._lock:
            end = self._t1 or now
            return SweepSnapshot(self._status, self._message, end - self._t0 if self._t0 else 0.0, self._frame.copy(),
                                 self.worker.current, self._summary)
