"""Real ``python -m rnnlab sweep`` worker processes sharing one study.

PostgreSQL (the many-machines setup): two workers at once finish the requested trials together,
no trial trained twice; a worker killed mid-trial leaves the other finishing the study, the
killed trial marked failed and retried with its settings. SQLite (the default): one worker
killed mid-trial, the same command started again fails and retries its trial.

The PostgreSQL tests need a server: ``RNNLAB_TEST_POSTGRES_URL`` (``.ci/run`` starts one with
``.ci/postgres.sh``); without it they are skipped and say so. Each worker has its own run store,
as on separate machines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from rnnlab.store import RunStore
from rnnlab.sweep import open_storage

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("RNNLAB_TEST_POSTGRES_URL", "")
needs_postgres = pytest.mark.skipif(not PG_URL, reason="RNNLAB_TEST_POSTGRES_URL is not set: no PostgreSQL server "
                                                       "to test against (.ci/run starts one with .ci/postgres.sh)")
# trials of a second or two on this machine: long enough to be killed in the middle of one
SPACE = "epochs = 8\npatience = 0\nnum_layers = 1\n[hidden_size]\nlow = 8\nhigh = 24\n[lr]\nlow = 0.001\nhigh = 0.01\n" \
        "log = true\n"
WORKER_TIMEOUT = 400  # s for a worker process to finish (a busy 2-core machine)


def start_worker(tmp_path: Path, name: str, storage: str, study: str, trials: int) -> subprocess.Popen:
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    home = tmp_path / f"store-{name}"
    env = {**os.environ, "RNNLAB_HOME": str(home), "RNNLAB_THREADS": "1"}
    args = [sys.executable, "-m", "rnnlab", "sweep", "--data", "seattle-weather", "--target", "temp_max", "--space",
            str(space), "--trials", str(trials), "--study", study, "--storage", storage, "--heartbeat", "2",
            "--pruner", "none", "--json"]
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> dict[str, Any]:
    out, err = proc.communicate(timeout=WORKER_TIMEOUT)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out)


def load(storage: str, study: str) -> Any:
    import optuna

    return optuna.load_study(study_name=study, storage=open_storage(storage, heartbeat=None))


def kill_mid_trial(proc: subprocess.Popen, storage: str, study: str, timeout: float = 300) -> int:
    """SIGKILL ``proc`` once a trial it trains has finished an epoch; returns that trial's number."""
    import optuna

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        try:
            trials = load(storage, study).get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        except KeyError:  # the study is not created yet
            trials = []
        mine = [t for t in trials if f":{proc.pid}:" in str(t.user_attrs.get("worker", "")) and t.intermediate_values]
        if mine:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            return mine[0].number
        time.sleep(0.2)
    proc.kill()
    pytest.fail("the worker never trained a trial")


def runs_by_trial(*stores: Path) -> dict[int, list[str]]:
    """Trial number -> the runs saved for it, over several machines' stores."""
    out: dict[int, list[str]] = {}
    for root in stores:
        for e in RunStore(root).list():
            out.setdefault(int(e.sweep["trial"]), []).append(e.id)
    return out


def check_study(storage: str, study: str, trials: int, stores: list[Path], killed: int | None) -> Any:
    s = load(storage, study)
    by_state: dict[str, list[Any]] = {}
    for t in s.get_trials():
        by_state.setdefault(t.state.name, []).append(t)
    complete = by_state.get("COMPLETE", [])
    assert len(complete) == trials, {k: [t.number for t in v] for k, v in by_state.items()}
    assert not by_state.get("RUNNING") and not by_state.get("WAITING")
    runs = runs_by_trial(*stores)
    assert all(len(v) == 1 for v in runs.values()), runs  # no trial trained twice
    assert set(runs) == {t.number for t in complete}
    for t in complete:
        assert runs[t.number] == [t.user_attrs["run_id"]]
    failed = by_state.get("FAIL", [])
    if killed is None:
        assert [t for t in failed if not t.user_attrs.get("surplus")] == []
        return s
    assert [t.number for t in failed] == [killed]  # the killed trial: failed, not running forever
    retry = [t for t in complete if t.system_attrs.get("failed_trial") == killed]
    assert len(retry) == 1 and retry[0].params == failed[0].params  # retried with its settings
    assert killed not in runs
    return s


@needs_postgres
def test_two_workers_share_a_postgresql_study(tmp_path):
    study, trials = f"two-{uuid.uuid4().hex[:8]}", 8
    a = start_worker(tmp_path, "a", PG_URL, study, trials)
    b = start_worker(tmp_path, "b", PG_URL, study, trials)
    ra, rb = finish(a), finish(b)
    check_study(PG_URL, study, trials, [tmp_path / "store-a", tmp_path / "store-b"], killed=None)
    assert ra["worker_trials"] and rb["worker_trials"], (ra["worker_trials"], rb["worker_trials"])  # both worked
    assert not set(ra["worker_trials"]) & set(rb["worker_trials"])  # no trial trained by both
    assert len(ra["worker_trials"]) + len(rb["worker_trials"]) == trials
    assert ra["states"]["complete"] == trials and ra["storage"].startswith("postgresql")
    print(f"\npostgresql two workers: a ran {ra['worker_trials']}, b ran {rb['worker_trials']}")


@needs_postgres
def test_a_killed_postgresql_worker_leaves_its_trial_failed_and_retried(tmp_path):
    study, trials = f"kill-{uuid.uuid4().hex[:8]}", 6
    a = start_worker(tmp_path, "a", PG_URL, study, trials)
    b = start_worker(tmp_path, "b", PG_URL, study, trials)
    killed = kill_mid_trial(b, PG_URL, study)
    ra = finish(a)
    check_study(PG_URL, study, trials, [tmp_path / "store-a", tmp_path / "store-b"], killed=killed)
    assert ra["states"] == {"complete": trials, "failed": 1}
    print(f"\npostgresql: killed b in trial {killed}; a ran {ra['worker_trials']}")


def test_a_killed_sqlite_worker_is_retried_by_the_next_one(tmp_path):
    storage = f"sqlite:///{tmp_path / 'sweeps.db'}"
    study, trials = "sqlite-kill", 4
    first = start_worker(tmp_path, "a", storage, study, trials)
    killed = kill_mid_trial(first, storage, study)
    again = start_worker(tmp_path, "a", storage, study, trials)  # the same command, the same machine
    report = finish(again)
    check_study(storage, study, trials, [tmp_path / "store-a"], killed=killed)
    assert report["states"] == {"complete": trials, "failed": 1}
