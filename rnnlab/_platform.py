"""Process-level tuning applied once when rnnlab is imported.

* glibc malloc: training loops allocate and free many mid-sized tensors; with glibc's
  default dynamic thresholds each one is an mmap/munmap pair plus page faults. Raising
  ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` *together* keeps those blocks in the heap
  (measured on the 2-core reference machine: epoch time halved). Only on glibc; a no-op
  elsewhere (musl, macOS, Windows) and when ``RNNLAB_NO_MALLOPT=1``.
* torch threads: one intra-op thread count for the process, sized to the usable cores
  (scripts, CLI, benchmarks) or, in an interactive app, by :func:`interactive_thread_env`.
  Set lazily by :func:`configure_torch_threads` so importing rnnlab stays cheap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from collections.abc import MutableMapping

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_THRESHOLD_BYTES = 512 * 1024 * 1024

MALLOPT_APPLIED: bool = False
_THREADS_SET: bool = False


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


def configure_torch_threads() -> int:
    """Size torch's intra-op pool once per process; returns the thread count in use."""
    global _THREADS_SET
    import torch

    if not _THREADS_SET:
        value = os.environ.get("RNNLAB_THREADS", "").strip()
        wanted = int(value) if value.isdigit() and int(value) > 0 else physical_cores()
        torch.set_num_threads(wanted)
        _THREADS_SET = True
    return torch.get_num_threads()


# Cap on an interactive app's torch threads: the default models (LSTM 64 x 2, batch 64) gain
# little from more intra-op threads, and every extra thread is another waiter at each op's
# barrier. A judgment, not a measurement: only 1 and 2 threads were measured (2-core machine).
INTERACTIVE_MAX_THREADS = 4


def interactive_thread_env(environ: MutableMapping[str, str] | None = None, cores: int | None = None) -> dict[str, str]:
    """Thread settings for a process that trains next to a web server (the dashboard), applied
    to ``environ`` (default ``os.environ``) before torch is imported; returns what it set.

    The server's threads and, usually, the browser share the machine with the training, so
    one core is left to them: ``RNNLAB_THREADS = cores - 1`` (at least 1, at most
    :data:`INTERACTIVE_MAX_THREADS`). Only with more than one thread are OpenMP's idle
    workers told to sleep (``OMP_WAIT_POLICY=PASSIVE``): spinning workers fight the server
    for the cores, but a sleeping team pays a wake-up at every op. Measured on the 2-core
    reference machine, default LSTM on seattle-weather in the dashboard (browser on the same
    machine): 2 threads + PASSIVE 17-19 s, 2 threads spinning 11 s, 1 thread 9-10 s; headless
    (no browser) 2 threads 2.3 s vs 1 thread 3.2 s, PASSIVE 5.9 s. Values the user set win.
    """
    env = os.environ if environ is None else environ
    n = physical_cores() if cores is None else max(1, cores)
    applied: dict[str, str] = {}
    if "RNNLAB_THREADS" not in env:
        applied["RNNLAB_THREADS"] = str(max(1, min(INTERACTIVE_MAX_THREADS, n - 1)))
    threads = applied.get("RNNLAB_THREADS") or env.get("RNNLAB_THREADS", "")
    if "OMP_WAIT_POLICY" not in env and threads.isdigit() and int(threads) > 1:
        applied["OMP_WAIT_POLICY"] = "PASSIVE"
    env.update(applied)
    return applied
