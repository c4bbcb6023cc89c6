"""Process-level tuning: the dashboard's thread settings and the load-aware torch thread count.

The rule is tested as pure functions with the load and the cores injected; nothing here
times anything (``bench/threads.py`` measures what the rule is for)."""

from __future__ import annotations

import threading

import pytest

from rnnlab import _platform
from rnnlab._platform import (
    INTERACTIVE_MAX_THREADS,
    LEAVE_ABOVE,
    TAKE_BELOW,
    choose_threads,
    default_threads,
    interactive_thread_env,
    user_threads,
)


@pytest.mark.parametrize(("cores", "cap", "policy"), [
    (1, "1", None),  # nothing to leave: one thread, no sleeping team needed
    (2, "1", None),  # the reference machine: one core for training, one for the server and browser
    (3, "2", "PASSIVE"),  # a team of 2: idle workers sleep instead of fighting the server
    (64, str(INTERACTIVE_MAX_THREADS), "PASSIVE"),
])
def test_interactive_thread_env_leaves_a_core_to_the_server(cores, cap, policy):
    env: dict[str, str] = {}
    applied = interactive_thread_env(env, cores=cores)
    assert env.get("RNNLAB_MAX_THREADS") == cap and env.get("OMP_WAIT_POLICY") == policy
    assert "RNNLAB_THREADS" not in env  # a cap for the load-aware rule, not a count the user set
    assert applied == env


def test_interactive_thread_env_keeps_what_the_user_set():
    env = {"RNNLAB_THREADS": "3", "OMP_WAIT_POLICY": "ACTIVE"}
    assert interactive_thread_env(env, cores=2) == {} and env == {"RNNLAB_THREADS": "3", "OMP_WAIT_POLICY": "ACTIVE"}
    env = {"RNNLAB_THREADS": "2"}  # the user's thread count decides whether the team sleeps
    assert interactive_thread_env(env, cores=16) == {"OMP_WAIT_POLICY": "PASSIVE"}
    env = {"RNNLAB_MAX_THREADS": "1"}
    assert interactive_thread_env(env, cores=16) == {} and env == {"RNNLAB_MAX_THREADS": "1"}


# ----------------------------------------------------------------------------- the user's setting
@pytest.mark.parametrize(("env", "want"), [
    ({}, None),
    ({"RNNLAB_THREADS": "3"}, 3),
    ({"OMP_NUM_THREADS": "4"}, 4),
    ({"OMP_NUM_THREADS": "4,2"}, 4),  # one count per nesting level: the outer one
    ({"RNNLAB_THREADS": "1", "OMP_NUM_THREADS": "4"}, 1),  # rnnlab's own variable first
    ({"RNNLAB_THREADS": "0"}, None),  # not a usable count: ignored
    ({"RNNLAB_THREADS": "two", "OMP_NUM_THREADS": " 2 "}, 2),
])
def test_user_threads(env, want):
    got = user_threads(env)
    assert (got[0] if got else None) == want
    if got:
        assert "set by the user" in got[1]


def test_a_user_setting_wins_and_nothing_is_measured():
    def measure():  # pragma: no cover - must not be called
        raise AssertionError("measured although the user set the count")

    assert default_threads({"RNNLAB_THREADS": "2"}, cores=64, others_busy=measure)[0] == 2
    assert default_threads({"OMP_NUM_THREADS": "5"}, cores=2, others_busy=measure)[0] == 5


# ----------------------------------------------------------------------------- the rule
@pytest.mark.parametrize(("busy", "want"), [
    (0.0, 2),
    (LEAVE_ABOVE - 0.01, 2),  # a little background work: both cores
    (LEAVE_ABOVE + 0.01, 1),  # more: a 2-thread team would wait for the core the scheduler takes
    (1.0, 1),  # one busy-loop process
    (4.5, 1),  # never fewer than one
    (None, 2),  # unknown load: all cores, as before the rule
])
def test_two_cores(busy, want):
    n, reason = choose_threads(2, busy)
    assert n == want and reason


@pytest.mark.parametrize(("busy", "want"), [(0.0, 8), (1.0, 7), (1.0 + LEAVE_ABOVE + 0.01, 6), (3.5, 4), (20.0, 1)])
def test_many_cores_leave_one_core_per_busy_core(busy, want):
    assert choose_threads(8, busy)[0] == want


def test_cap_and_minimum():
    assert choose_threads(64, 0.0, max_threads=4)[0] == 4
    assert choose_threads(64, 62.0, max_threads=4)[0] == 2  # two cores left free
    assert choose_threads(64, 63.5, max_threads=4)[0] == 1
    assert choose_threads(1, 0.0)[0] == 1 and choose_threads(0, 0.0)[0] == 1
    assert choose_threads(2, None, max_threads=1)[0] == 1


@pytest.mark.parametrize(("current", "busy", "want"), [
    (2, LEAVE_ABOVE - 0.01, 2),  # between the thresholds a count stays...
    (1, LEAVE_ABOVE - 0.01, 1),
    (1, TAKE_BELOW + 0.01, 1),
    (1, TAKE_BELOW - 0.01, 2),  # ...and a core is taken back only when clearly free
    (2, LEAVE_ABOVE + 0.01, 1),  # given back at once
    (1, 3.0, 1),
])
def test_hysteresis(current, busy, want):
    assert choose_threads(2, busy, current=current)[0] == want


def test_reason_names_the_load():
    n, reason = choose_threads(2, 1.8)
    assert n == 1 and "1.80 of 2 cores" in reason


def test_others_busy_subtracts_this_process():
    # 2 s of wall time: all cores busy for 3 CPU seconds, 1 of them this process -> others 1 core
    assert _platform._others_busy((10.0, 100.0, 5.0), (12.0, 103.0, 6.0)) == pytest.approx(1.0)
    assert _platform._others_busy((10.0, 100.0, 5.0), (12.0, 100.0, 7.0)) == 0.0  # clamped
    assert _platform._others_busy((10.0, 100.0, 5.0), (10.0, 101.0, 5.0)) is None


def test_cap_from_the_environment():
    assert default_threads({"RNNLAB_MAX_THREADS": "1"}, cores=2, others_busy=0.0)[0] == 1
    assert default_threads({}, cores=2, others_busy=0.0)[0] == 2
    assert default_threads({}, cores=2, others_busy=1.0)[0] == 1


# ----------------------------------------------------------------------------- the epoch hook
def test_threads_for_epoch_follows_the_load_and_respects_the_caller(monkeypatch):
    """Injected CPU samples: epoch 1 starts the measurement; when others use 1.5 cores during
    an epoch the count drops to 1, and comes back when they stop. A count the caller sets
    with torch.set_num_threads is left alone."""
    import torch

    samples = [
        (0.0, 0.0, 0.0),  # epoch 1: start
        (1.0, 2.0, 0.5),  # epoch 2: others used 1.5 cores -> 1 thread
        (2.0, 3.0, 1.5),  # epoch 3: others used nothing -> 2 threads
        (3.0, 4.0, 2.5),
    ]
    clock = iter(samples)
    now = [0.0]

    def sample():
        s = next(clock)
        now[0] = s[0]
        return s

    monkeypatch.setattr(_platform, "_cpu_sample", sample)
    monkeypatch.setattr(_platform, "_now", lambda: now[0] + 1.0)  # one interval on at every call
    monkeypatch.setattr(_platform, "physical_cores", lambda: 2)
    for key in ("RNNLAB_THREADS", "OMP_NUM_THREADS", "RNNLAB_MAX_THREADS"):
        monkeypatch.delenv(key, raising=False)
    before = torch.get_num_threads()
    monkeypatch.setattr(_platform, "_CHOICE", (2, "test"))
    monkeypatch.setattr(_platform, "_AUTO_LAST", 2)
    got: list[tuple[int, str]] = []
    failed: list[BaseException] = []

    def train() -> None:  # a fresh thread: its own OpenMP settings and hook state
        try:
            torch.set_num_threads(2)
            got.extend(_platform.threads_for_epoch(e) for e in (1, 2, 3))
            torch.set_num_threads(1)  # the caller decides from now on
            got.append(_platform.threads_for_epoch(4))
        except Exception as exc:  # noqa: BLE001  (re-raised in the test thread below)
            failed.append(exc)

    t = threading.Thread(target=train)
    t.start()
    t.join()
    torch.set_num_threads(before)
    assert not failed, failed
    assert [n for n, _ in got] == [2, 1, 2, 1]
    assert "was 2" in got[1][1] and "was 1" in got[2][1] and "torch.set_num_threads" in got[3][1]


def test_threads_for_epoch_leaves_a_user_setting_alone(monkeypatch):
    import torch

    monkeypatch.setenv("RNNLAB_THREADS", str(torch.get_num_threads()))
    monkeypatch.setattr(_platform, "_cpu_sample", lambda: pytest.fail("measured although the user set the count"))
    n, reason = _platform.threads_for_epoch(2)
    assert n == torch.get_num_threads() and "set by the user" in reason


def test_threads_for_epoch_pools_short_epochs(monkeypatch):
    """Epochs shorter than MIN_INTERVAL are pooled: no choice from a few clock ticks."""
    import torch

    step = _platform.MIN_INTERVAL / 2
    times = iter([0.0, step, 3 * step])  # the clock at each call: half an interval, then 1.5 intervals
    now = [0.0]
    monkeypatch.setattr(_platform, "_now", lambda: now[0])
    monkeypatch.setattr(_platform, "_cpu_sample", lambda: (now[0], 2 * now[0], 0.0))  # others: 2 cores

    def tick() -> None:
        now[0] = next(times)
    monkeypatch.setattr(_platform, "physical_cores", lambda: 2)
    for key in ("RNNLAB_THREADS", "OMP_NUM_THREADS", "RNNLAB_MAX_THREADS"):
        monkeypatch.delenv(key, raising=False)
    before = torch.get_num_threads()
    monkeypatch.setattr(_platform, "_CHOICE", (2, "test"))
    monkeypatch.setattr(_platform, "_AUTO_LAST", 2)
    got: list[int] = []

    def train() -> None:
        torch.set_num_threads(2)
        for e in (1, 2, 3):
            tick()
            got.append(_platform.threads_for_epoch(e)[0])

    t = threading.Thread(target=train)
    t.start()
    t.join()
    torch.set_num_threads(before)
    assert got == [2, 2, 1]  # epoch 2: half an interval, nothing decided; epoch 3: 1.5 intervals, others busy


def test_pinned_threads_are_left_alone(monkeypatch):
    import torch

    for key in ("RNNLAB_THREADS", "OMP_NUM_THREADS", "RNNLAB_MAX_THREADS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(_platform, "_AUTO_LAST", _platform._AUTO_LAST)
    monkeypatch.setattr(_platform, "_cpu_sample", lambda: (0.0, 0.0, 0.0))
    before = torch.get_num_threads()
    got: list[tuple[int, str]] = []

    def train() -> None:
        _platform.pin_threads(1)
        got.append(_platform.threads_for_epoch(1))

    t = threading.Thread(target=train)
    t.start()
    t.join()
    torch.set_num_threads(before)
    assert got[0][0] == 1 and "set by the caller" in got[0][1]


def test_calls_after_batches_rechoose_but_do_not_restart(monkeypatch):
    """After-batch calls (epoch 1, batch >= 1) re-choose like epoch starts; only (1, 0) restarts."""
    import torch

    now = [0.0]
    monkeypatch.setattr(_platform, "_now", lambda: now[0])
    monkeypatch.setattr(_platform, "_cpu_sample", lambda: (now[0], 2 * now[0], 0.0))  # others: 2 cores
    monkeypatch.setattr(_platform, "physical_cores", lambda: 2)
    for key in ("RNNLAB_THREADS", "OMP_NUM_THREADS", "RNNLAB_MAX_THREADS"):
        monkeypatch.delenv(key, raising=False)
    before = torch.get_num_threads()
    monkeypatch.setattr(_platform, "_CHOICE", (2, "test"))
    monkeypatch.setattr(_platform, "_AUTO_LAST", 2)
    got: list[int] = []

    def train() -> None:
        torch.set_num_threads(2)
        got.append(_platform.threads_for_epoch(1)[0])
        now[0] = 0.5 * _platform.MIN_INTERVAL
        got.append(_platform.threads_for_epoch(1, 10)[0])  # pooled
        now[0] = 1.5 * _platform.MIN_INTERVAL
        got.append(_platform.threads_for_epoch(1, 20)[0])  # mid-epoch 1: the load is seen

    t = threading.Thread(target=train)
    t.start()
    t.join()
    torch.set_num_threads(before)
    assert got == [2, 2, 1]
