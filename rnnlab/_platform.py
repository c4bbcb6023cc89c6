"""Process-level tuning applied once when rnnlab is imported.

* glibc malloc: training loops allocate and free many mid-sized tensors; with glibc's
  default dynamic thresholds each one is an mmap/munmap pair plus page faults. Raising
  ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` *together* keeps those blocks in the heap
  (measured on the 2-core reference machine: epoch time halved). Only on glibc; a no-op
  elsewhere (musl, macOS, Windows) and when ``RNNLAB_NO_MALLOPT=1``.
* torch threads: the user's ``RNNLAB_THREADS`` / ``OMP_NUM_THREADS`` if set; else load-aware
  (:func:`choose_threads`): all usable cores while other processes leave them free, one core
  fewer per core they keep busy. Chosen at the first training run of the process
  (:func:`configure_torch_threads`, a 0.2 s measurement) and re-chosen between epochs by the
  trainer's hook :func:`threads_for_epoch`; :func:`thread_choice` says what and why. An
  interactive app caps it with :func:`interactive_thread_env`. Nothing happens at import, so
  importing rnnlab stays cheap.

The trainer's hook, in the training thread, at the start of every epoch (and, optionally,
after every batch; calls closer than a second apart return at once)::

    threads, reason = threads_for_epoch(epoch)         # epoch 1 starts the measurement
    threads, reason = threads_for_epoch(epoch, batch)  # optional, after batch `batch` (1-based)

``rnnlab.training.Trainer.fit`` calls it at every epoch start and after every batch, and
records each change in ``TrainResult.thread_choices`` (a run's ``train_info["thread_choices"]``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import platform
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_THRESHOLD_BYTES = 512 * 1024 * 1024

MALLOPT_APPLIED: bool = False


def apply_malloc_tuning() -> bool:
    """Raise glibc's mmap and trim thresholds together. Returns True when applied."""
    global MALLOPT_APPLIED
    if MALLOPT_APPLIED:
        return True
    if os.environ.get("RNNLAB_NO_MALLOPT") == "1" or platform.system() != "Linux":
        return False
    libc_name, _ = platform.libc_ver()
    if libc_name != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok_mmap = libc.mallopt(_M_MMAP_THRESHOLD, _THRESHOLD_BYTES)
        ok_trim = libc.mallopt(_M_TRIM_THRESHOLD, _THRESHOLD_BYTES)
    except (OSError, AttributeError):
        return False
    MALLOPT_APPLIED = bool(ok_mmap and ok_trim)
    return MALLOPT_APPLIED


def physical_cores() -> int:
    """Cores usable by this process (affinity-aware), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


# ----------------------------------------------------------------------------- torch threads
# The default thread count follows the CPU time *other* processes use, measured, not the core
# count alone. On the 2-core reference machine (LSTM 64 x 2, batch 64, sp500 seq_len 52;
# bench/threads.py) a second intra-op thread is 1.3-1.4x faster when the machine is quiet, about
# even when another process uses a quarter of a core, 1.3x slower at half a core and 3-8x slower
# (and erratic) when it uses a whole core: the OpenMP team waits at every op's barrier for the
# thread the scheduler took away. One thread is hit only by its fair share.
LEAVE_ABOVE = 0.3  # others' busy cores: above k + LEAVE_ABOVE, k + 1 cores are left to them
TAKE_BELOW = 0.15  # ... and a core left to them is taken back only below k + TAKE_BELOW (hysteresis)
SAMPLE_SECONDS = 0.2  # the start-up measurement (this process idle meanwhile)
MIN_INTERVAL = 1.0  # seconds: the epoch hook re-chooses at most this often (short epochs are pooled)

_lock = threading.Lock()
_CHOICE: tuple[int, str] | None = None  # the process's choice (configure_torch_threads)
_AUTO_LAST = 0  # the count the automatic policy applied last (any thread); 0: it is not in charge
_local = threading.local()  # per training thread: the epoch hook's last sample and applied count
_now = time.monotonic  # the clock of the samples (tests replace it)


def _positive_int(text: str | None) -> int | None:
    text = (text or "").strip().split(",")[0].strip()  # OMP_NUM_THREADS may be a list per nesting level
    return int(text) if text.isdigit() and int(text) > 0 else None


def user_threads(environ: Mapping[str, str] | None = None) -> tuple[int, str] | None:
    """The thread count the user set, ``(threads, reason)``, or None: ``RNNLAB_THREADS``, else
    ``OMP_NUM_THREADS`` (torch applies it at import). A value the user set always wins."""
    env = os.environ if environ is None else environ
    for name in ("RNNLAB_THREADS", "OMP_NUM_THREADS"):
        n = _positive_int(env.get(name))
        if n is not None:
            return n, f"{name}={env.get(name, '').strip()} (set by the user)"
    return None


def _want(cores: int, busy: float, tolerance: float) -> int:
    return cores - max(0, math.ceil(busy - tolerance))


def choose_threads(cores: int, others_busy: float | None, *, max_threads: int | None = None,
                   current: int | None = None) -> tuple[int, str]:
    """The load-aware rule, a pure function: ``(threads, reason)``.

    ``others_busy``: cores' worth of CPU that other processes used (measured; None when it cannot
    be measured: then all ``cores``). Each core they use beyond a tolerance of
    :data:`LEAVE_ABOVE` is left to them: on 2 cores, 2 threads below 0.3 busy cores, else 1.
    With ``current`` (the count in use) a core is taken back only when they use less than
    :data:`TAKE_BELOW` of it, so a count does not flap at the threshold. ``max_threads`` caps it.
    """
    cores = max(1, int(cores))
    cap = max(1, min(cores, max_threads or cores))
    if others_busy is None:
        return cap, f"{cap} of {cores} cores (other processes' CPU use unknown)"
    busy = max(0.0, float(others_busy))
    n = _want(cores, busy, LEAVE_ABOVE)
    if current is not None and n >= current:  # not more than now unless clearly below the lower threshold
        n = max(current, _want(cores, busy, TAKE_BELOW))
    n = max(1, min(cap, n))
    load = f"other processes use {busy:.2f} of {cores} cores"
    if n >= cap:
        return n, f"{n} of {cores} cores ({load})" if n == cores else f"{n}, the cap ({load})"
    return n, f"{n} of {cores} cores, the rest left to the load ({load})"


def _cpu_sample() -> tuple[float, float, float] | None:
    """(monotonic seconds, all cores' busy CPU seconds, this process's CPU seconds), or None
    off Linux. Busy = everything in /proc/stat's cpu line but idle and iowait (steal included:
    a hypervisor giving the core to someone else is load too)."""
    try:
        with open("/proc/stat", "rb") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != b"cpu" or len(fields) < 5:
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = (sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)) / hz
    t = os.times()
    return _now(), busy, t.user + t.system


def _others_busy(a: tuple[float, float, float], b: tuple[float, float, float]) -> float | None:
    wall = b[0] - a[0]
    if wall <= 0:
        return None
    return max(0.0, ((b[1] - a[1]) - (b[2] - a[2])) / wall)


def others_busy_cores(seconds: float = SAMPLE_SECONDS) -> float | None:
    """Cores' worth of CPU other processes use, measured over ``seconds`` (this thread sleeps;
    this process's own CPU time is subtracted). Off Linux: the 1-minute load average (which
    counts this process too), or None where there is none."""
    a = _cpu_sample()
    if a is None:
        try:
            return float(os.getloadavg()[0])
        except (AttributeError, OSError):
            return None
    time.sleep(seconds)
    b = _cpu_sample()
    return None if b is None else _others_busy(a, b)


def default_threads(environ: Mapping[str, str] | None = None, cores: int | None = None,
                    others_busy: float | None | Callable[[], float | None] = others_busy_cores) -> tuple[int, str]:
    """``(threads, reason)`` for a process that trains: the user's setting (:func:`user_threads`),
    else :func:`choose_threads` on the usable cores and what other processes use now
    (``others_busy``: a number, or a function that measures it), capped by :func:`max_threads`."""
    user = user_threads(environ)
    if user is not None:
        return user
    busy = others_busy() if callable(others_busy) else others_busy
    return choose_threads(physical_cores() if cores is None else cores, busy, max_threads=max_threads(environ))


def max_threads(environ: Mapping[str, str] | None = None) -> int | None:
    """The cap on the load-aware count, ``RNNLAB_MAX_THREADS`` (set by the user or by
    :func:`interactive_thread_env`), or None."""
    return _positive_int((os.environ if environ is None else environ).get("RNNLAB_MAX_THREADS"))


def configure_torch_threads() -> int:
    """Size torch's intra-op pool once per process (:func:`default_threads`); returns the
    thread count in use now."""
    global _CHOICE, _AUTO_LAST
    import torch

    with _lock:
        if _CHOICE is None:
            n, reason = default_threads()
            torch.set_num_threads(n)
            _CHOICE = (n, reason)
            _AUTO_LAST = 0 if user_threads() else n
    return torch.get_num_threads()


def pin_threads(n: int) -> int:
    """Fix the process's torch thread count at ``n`` (benchmarks comparing fixed settings):
    ``torch.set_num_threads(n)``, and the epoch hook leaves it alone from now on. Returns the
    count in use."""
    global _AUTO_LAST
    import torch

    configure_torch_threads()
    torch.set_num_threads(max(1, int(n)))
    with _lock:
        _AUTO_LAST = 0
    return torch.get_num_threads()


def thread_choice() -> tuple[int, str]:
    """``(threads, reason)`` of the process's choice (made now if not yet), for the CLI to print."""
    configure_torch_threads()
    assert _CHOICE is not None
    return _CHOICE


def threads_for_epoch(epoch: int, batch: int = 0) -> tuple[int, str]:
    """The trainer's hook: call it in the thread that trains, at the start of every epoch
    (1-based ``epoch``, ``batch`` 0) and, optionally, after batches (``batch`` >= 1).

    The start of epoch 1 starts a CPU-time measurement; every later call re-chooses the count
    with :func:`choose_threads` from what other processes used since the last choice (this
    process's own time subtracted), at most every :data:`MIN_INTERVAL` seconds (calls in
    between return at once, so short epochs and per-batch calls are pooled), and applies it
    with ``torch.set_num_threads`` when it changes. Calling after batches too bounds what load
    that appears mid-epoch costs to about a second. Returns ``(threads, reason)``. Costs two
    small reads, no sleep. Does nothing when the user set a count (:func:`user_threads`) or
    the caller changed it with ``torch.set_num_threads`` (it then differs from what this
    policy applied last; see also :func:`pin_threads`).
    """
    global _AUTO_LAST
    import torch

    configure_torch_threads()
    current = torch.get_num_threads()
    user = user_threads()
    if user is not None:
        return current, user[1]
    starting = (epoch <= 1 and batch <= 0) or not hasattr(_local, "active")  # a run's first call in this thread
    if starting:
        _local.active = current == _AUTO_LAST
        _local.applied = current
        _local.sample = _cpu_sample()
    if not getattr(_local, "active", False) or current != getattr(_local, "applied", None):
        _local.active = False
        return current, f"{current} (set by the caller with torch.set_num_threads)"
    if starting:
        assert _CHOICE is not None
        _local.reason = _CHOICE[1] if current == _CHOICE[0] else f"{current} (from the previous run)"
        return current, _local.reason
    if _local.sample is None:
        return current, f"{current} (other processes' CPU use unknown)"
    if _now() - _local.sample[0] < MIN_INTERVAL:  # pooled: too short for the clock's 10 ms ticks
        return current, _local.reason
    now = _cpu_sample()
    busy = None if now is None else _others_busy(_local.sample, now)
    if busy is None:
        return current, f"{current} (other processes' CPU use unknown)"
    _local.sample = now
    n, reason = choose_threads(physical_cores(), busy, max_threads=max_threads(), current=current)
    if n != current:
        torch.set_num_threads(n)
        n = torch.get_num_threads()
        with _lock:
            _AUTO_LAST = n
        _local.applied = n
        reason = f"{reason}; was {current}"
    _local.reason = reason
    return n, reason


# Cap on an interactive app's torch threads: the default models (LSTM 64 x 2, batch 64) gain
# little from more intra-op threads, and every extra thread is another waiter at each op's
# barrier. A judgment, not a measurement: only 1 and 2 threads were measured (2-core machine).
INTERACTIVE_MAX_THREADS = 4


def interactive_thread_env(environ: MutableMapping[str, str] | None = None, cores: int | None = None) -> dict[str, str]:
    """Thread settings for a process that trains next to a web server (the dashboard), applied
    to ``environ`` (default ``os.environ``) before torch is imported; returns what it set.

    The server's threads and, usually, the browser share the machine with the training, so
    one core is left to them: a cap ``RNNLAB_MAX_THREADS = cores - 1`` (at least 1, at most
    :data:`INTERACTIVE_MAX_THREADS`) on the load-aware count (:func:`choose_threads`), which
    gives cores to busy processes below it. Only when the cap is above one thread are OpenMP's
    idle workers told to sleep (``OMP_WAIT_POLICY=PASSIVE``): spinning workers fight the
    server for the cores, but a sleeping team pays a wake-up at every op. Measured on the
    2-core reference machine, default LSTM on seattle-weather in the dashboard (browser on the
    same machine): 2 threads + PASSIVE 17-19 s, 2 threads spinning 11 s, 1 thread 9-10 s;
    headless (no browser) 2 threads 2.3 s vs 1 thread 3.2 s, PASSIVE 5.9 s (bench/threads.py,
    app path without a browser, 2 cores: 2 threads 1.3-1.5x faster than 1 when quiet, 6-25x
    slower beside busy processes). Values the user set (``RNNLAB_THREADS``,
    ``OMP_NUM_THREADS``, ``RNNLAB_MAX_THREADS``, ``OMP_WAIT_POLICY``) win.
    """
    env = os.environ if environ is None else environ
    n = physical_cores() if cores is None else max(1, cores)
    applied: dict[str, str] = {}
    user = user_threads(env)
    if user is None and _positive_int(env.get("RNNLAB_MAX_THREADS")) is None:
        applied["RNNLAB_MAX_THREADS"] = str(max(1, min(INTERACTIVE_MAX_THREADS, n - 1)))
    most = user[0] if user else _positive_int(applied.get("RNNLAB_MAX_THREADS") or env.get("RNNLAB_MAX_THREADS"))
    if "OMP_WAIT_POLICY" not in env and (most or 1) > 1:
        applied["OMP_WAIT_POLICY"] = "PASSIVE"
    env.update(applied)
    return applied
