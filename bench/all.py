"""Run every benchmark in one go (each in a fresh process) within about 10 minutes on 2 cores.

Lean settings per benchmark (fewer interleaved rounds, ``accuracy --quick``); run a single
benchmark with its own defaults for more rounds. Writes ``bench/results/all.json`` with
each benchmark's exit status and seconds, and the total.

    python -m bench.all [--only speed,live] [--skip darts_peer] [--threads N]
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
    for name, extra in PLAN:
        if (only and name not in only) or name in skip:
            continue
        cmd = [sys.executable, "-m", f"bench.{name}", *extra]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
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
    payload = {"steps": steps, "total_seconds": round(total, 1), "budget_seconds": 600,
               "within_budget": total <= 600, "failed": [s["benchmark"] for s in steps if s["exit"] != 0]}
    common.write_result("all", payload, args.out, started)
    if payload["failed"]:
        sys.exit(1)
    return payload


if __name__ == "__main__":
    main()
