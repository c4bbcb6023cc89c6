"""Run every benchmark in one go (each in a fresh process) within about 10 minutes on 2 cores.

Lean settings per benchmark (fewer interleaved rounds, ``accuracy --quick``); run a single
benchmark with its own defaults for more rounds. Writes ``bench/results/all.json`` with
each benchmark's exit status and seconds, and the total.

    python -m bench.all [--only speed,live] [--skip darts_peer] [--threads N]

Threads: by default each benchmark uses rnnlab's policy (one torch pool sized to the usable
cores, 2 here) unless the machine is already busy when bench.all starts (1-minute load
average >= 1, i.e. another process is using a core): then every benchmark runs with 1 torch thread, because a 2-thread
OpenMP pool on 2 shared cores stalls at every barrier (epochs 5-10x slower, measured) and
the suite would neither fit its budget nor give stable ratios. ``--threads N`` forces N.
``bench.threads`` measures the thread settings themselves and is never given ``--threads``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from bench import common

PLAN: list[tuple[str, list[str]]] = [
    ("speed", ["--reps", "3"]),
    ("live", ["--reps", "2", "--epochs", "2"]),
    ("predict", ["--reps", "2", "--loop-sample", "300"]),
    ("memory", ["--epochs", "1"]),
    ("malloc", ["--reps", "2", "--epochs", "2"]),
    ("threads", ["--quick"]),  # sets its own thread counts (never given --threads)
    ("darts_peer", ["--epochs", "1", "--reps", "1"]),
    ("accuracy", ["--quick"]),
]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--only", default="", help="comma list of benchmarks to run")
    p.add_argument("--skip", default="", help="comma list of benchmarks to leave out")
    args = p.parse_args(argv)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    skip = {x.strip() for x in args.skip.split(",") if x.strip()}
    started = time.perf_counter()
    steps = []
    load = common.load_average()
    cores = common.machine()["cores_usable"] or 1
    threads, why = args.threads, "given with --threads" if args.threads else "rnnlab's policy (usable cores)"
    if not threads and cores > 1 and load and load[0] >= 1.0:
        threads, why = 1, f"machine busy at start (1-min load {load[0]} on {cores} cores): 1 torch thread"
    print(f"bench.all: torch threads: {threads or 'policy'} ({why})", flush=True)
    for name, extra in PLAN:
        if (only and name not in only) or name in skip:
            continue
        cmd = [sys.executable, "-m", f"bench.{name}", *extra]
        if threads and name != "threads":
            cmd += ["--threads", str(threads)]
        if args.out:
            cmd += ["--out", args.out]
        print(f"\n=== {' '.join(cmd[1:])}  (load {common.load_average()})", flush=True)
        t = time.perf_counter()
        rc = subprocess.call(cmd, cwd=common.ROOT)
        steps.append({"benchmark": name, "args": extra, "exit": rc, "seconds": round(time.perf_counter() - t, 1),
                      "load_average_after": common.load_average()})
    total = time.perf_counter() - started
    print()
    print(common.table([{"benchmark": s["benchmark"], "exit": s["exit"], "seconds": s["seconds"]} for s in steps],
                       title=f"bench.all: {total:.0f} s in total ({total / 60:.1f} min)"))
    payload = {"steps": steps, "threads": threads or "policy", "threads_reason": why, "load_at_start": load,
               "total_seconds": round(total, 1), "budget_seconds": 600,
               "within_budget": total <= 600, "failed": [s["benchmark"] for s in steps if s["exit"] != 0]}
    common.write_result("all", payload, args.out, started)
    if payload["failed"]:
        sys.exit(1)
    return payload


if __name__ == "__main__":
    main()
