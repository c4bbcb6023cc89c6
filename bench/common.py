"""Shared helpers of the benchmarks: machine description, interleaved timing, tables, JSON.

Every benchmark writes ``bench/results/<name>.json`` through :func:`write_result`, which adds
the date, the machine (cores, CPU model, memory, load average), the torch version and its
thread count. Timings are noisy on a shared 2-core machine, so the benchmarks always run
the compared variants *interleaved* (A, B, A, B, ...) in the same process and report medians
and the median of the per-pair ratios, never a single best run.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


# ----------------------------------------------------------------------------- machine
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - non-Unix
        return []


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, OS, Python, torch version and threads, glibc malloc tuning."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_1_5_15": load_average(),
    }
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    try:
        from rnnlab import _platform

        info["rnnlab_malloc_tuning"] = _platform.MALLOPT_APPLIED
    except ImportError:  # pragma: no cover
        pass
    return info


def setup_threads(threads: int | None = None) -> int:
    """Apply rnnlab's thread policy (``RNNLAB_THREADS`` if set, else load-aware: the usable
    cores, fewer when other processes keep them busy at start), or ``threads``; then keep that
    count for the whole benchmark (``pin_threads``: rnnlab's between-epoch re-choice would
    change it between the arms being compared)."""
    from rnnlab._platform import configure_torch_threads, pin_threads

    return pin_threads(int(threads) if threads else configure_torch_threads())


# ----------------------------------------------------------------------------- memory
def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_mib() -> float:
    """Current resident set size of this process in MiB (psutil if installed, else /proc)."""
    try:
        import psutil  # type: ignore[import-not-found]

        return psutil.Process().memory_info().rss / 1024**2
    except ImportError:
        kb = _status_kb("VmRSS")
        return float("nan") if kb is None else kb / 1024


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (VmHWM, else ``ru_maxrss``)."""
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024


# ----------------------------------------------------------------------------- timing
def median(xs: Sequence[float]) -> float:
    xs = [x for x in xs if x == x]
    return float(statistics.median(xs)) if xs else float("nan")


def summary(xs: Sequence[float]) -> dict[str, Any]:
    xs = [float(x) for x in xs]
    return {"median": median(xs), "min": min(xs) if xs else float("nan"), "max": max(xs) if xs else float("nan"),
            "n": len(xs), "all": [round(x, 4) for x in xs]}


def interleave(arms: dict[str, Callable[[], float | None]], reps: int, warmup: int = 1,
               verbose: bool = True, cpu: dict[str, list[float]] | None = None) -> dict[str, list[float]]:
    """Run every arm in turn ``reps`` times (order rotated each round to cancel drift).

    An arm returns its own measurement in seconds, or None to be timed as a whole.
    Returns ``{arm: [wall seconds, ...]}``; warm-up rounds are discarded. When ``cpu`` is
    given it is filled with the process CPU seconds (all threads) of each arm: less
    sensitive than wall time to other processes competing for the cores.
    """
    names = list(arms)
    out: dict[str, list[float]] = {k: [] for k in names}
    if cpu is not None:
        cpu.update({k: [] for k in names})
    for r in range(warmup + reps):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            c0 = time.process_time()
            t0 = time.perf_counter()
            value = arms[name]()
            dt = time.perf_counter() - t0 if value is None else float(value)
            dc = time.process_time() - c0
            if r >= warmup:
                out[name].append(dt)
                if cpu is not None:
                    cpu[name].append(dc)
        if verbose and r >= warmup:
            print(f"   round {r - warmup + 1}: " + "  ".join(f"{k}={out[k][-1]:.3f}s" for k in names)
                  + (f"  load {load_average()[:1]}" if load_average() else ""), flush=True)
    return out


def paired_ratios(num: Sequence[float], den: Sequence[float]) -> list[float]:
    return [a / b for a, b in zip(num, den) if b > 0]


# ----------------------------------------------------------------------------- output
def fmt(x: Any, digits: int = 3) -> str:
    if isinstance(x, float):
        if not math.isfinite(x):
            return "–"
        return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"
    return str(x)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, title: str = "") -> str:
    """Plain-text table for the terminal."""
    if not rows:
        return f"{title}\n(no rows)\n" if title else "(no rows)\n"
    cols = list(columns or rows[0].keys())
    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = [title] if title else []
    lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines) + "\n"


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        try:
            obj = obj.item()
        except (ValueError, TypeError):
            return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_result(name: str, payload: dict[str, Any], out_dir: Path | str | None = None,
                 started: float | None = None, benchmark: str | None = None) -> Path:
    """Write ``<out_dir>/<name>.json`` (default bench/results) with date and machine added."""
    out = Path(out_dir) if out_dir else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": benchmark or name,
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "command": "python -m bench." + (benchmark or name) + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""),
        "machine": machine(),
        **({"seconds": round(time.perf_counter() - started, 1)} if started is not None else {}),
        **payload,
    }
    path = out / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_clean(doc), indent=2, allow_nan=False) + "\n")
    tmp.replace(path)
    print(f"wrote {path}")
    return path


def base_parser(description: str):
    import argparse

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", default=None, help="results folder (default bench/results)")
    p.add_argument("--threads", type=int, default=0,
                   help="torch threads (default: rnnlab's policy, one pool sized to the usable cores)")
    return p


# ----------------------------------------------------------------------------- subprocesses
def run_child(module: str, args: Sequence[str] = (), env: dict[str, str] | None = None,
              timeout: float = 900, python: str | None = None) -> dict[str, Any]:
    """Run ``python -m <module> <args>`` in a fresh process at the repo root; its last stdout
    line must be a JSON object, which is returned (with ``wall_s`` of the whole process)."""
    import subprocess

    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(ROOT) + (os.pathsep + full_env["PYTHONPATH"] if full_env.get("PYTHONPATH") else "")
    t = time.perf_counter()
    proc = subprocess.run([python or sys.executable, "-m", module, *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{module} {' '.join(args)} failed (exit {proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    out = json.loads(lines[-1])
    out["wall_s"] = wall
    return out
