"""Process-level tuning applied once when rnnlab is imported.

* glibc malloc: training loops allocate and free many mid-sized tensors; with glibc's
  default dynamic thresholds each one is an mmap/munmap pair plus page faults. Raising
  ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` *together* keeps those blocks in the heap
  (measured on the 2-core reference machine: epoch time halved). Only on glibc; a no-op
  elsewhere (musl, macOS, Windows) and when ``RNNLAB_NO_MALLOPT=1``.
* torch threads: one intra-op pool sized to the physical cores, shared by every training
  job of the process (concurrent dashboard sessions share it instead of oversubscribing).
  Set lazily by :func:`configure_torch_threads` so importing rnnlab stays cheap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

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
        wanted = int(os.environ.get("RNNLAB_THREADS", "0")) or physical_cores()
        torch.set_num_threads(wanted)
        _THREADS_SET = True
    return torch.get_num_threads()
