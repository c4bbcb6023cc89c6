"""Torch threads on a quiet and on a loaded machine: 1 vs all cores vs rnnlab's rule, for the
CLI, a script and the app's background job, each measurement a fresh process.

* conditions: ``quiet`` (nothing started beside it) and ``loaded`` (``--hogs`` busy-loop
  processes started before the condition's measurements and killed after them, also on
  Ctrl-C or an error; each hog also exits by itself when this process goes away);
* paths: ``cli`` = ``python -m rnnlab train --data sp500 --seq-len 52 --horizon 1 --epochs E
  --patience 0`` (epoch seconds read back from the saved run's ``history.json``); ``script`` =
  ``pipeline.fit`` in the main thread; ``app`` = ``rnnlab.jobs.TrainingJob`` (background
  thread, live previews, evolution recorder) with a "server" thread that, like the Train
  page, calls ``touch()`` / ``snapshot()`` and builds the page's two charts every second;
* settings: ``1`` and ``N`` (all usable cores) through ``RNNLAB_THREADS`` set before torch is
  imported, and ``rule``: nothing set, rnnlab's default (``rnnlab._platform.default_threads``
  at start-up, ``threads_for_epoch`` between epochs).

Reference: sp500 (5031 rows) with seq_len 52 and a 1-step target (3469 training windows),
LSTM 64 x 2, batch 64: about 0.5-0.8 s per epoch on a quiet 2-core machine. A cell's figure is
the median epoch time after the first epoch. A run still training after ``--cap`` seconds (or
3 x epochs x the best epoch time seen so far in the condition, when that is longer) is stopped,
as a 2-thread team beside busy processes can take minutes per epoch: its figure is then the
stopped epoch's time per batch x batches per epoch, or the first epoch, or, for the CLI killed
before one epoch, the cap as a lower bound (marked in the table).

Every round runs all cells of a condition in a rotated order (reversed every other round); the
table gives the median s/epoch and the median per-round ratio to the best setting of the same
path and condition (1.00 = the best), and whether the rule used the best fixed setting's
count: "rule" and that setting then run the same configuration, and their ratio is the
machine's noise. Recorded with every measurement: the 1-minute load average before and after,
the cores' worth of CPU everything else used meanwhile (``/proc/stat`` minus this process and
the measured one), and the thread count the rule chose and why.

    python -m bench.threads [--reps 2] [--epochs 2] [--hogs 3] [--cap 8] [--quick]
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from bench import common

PATHS = ("cli", "script", "app")
CONDITIONS = ("quiet", "loaded")
# a busy loop that ends when its parent (this benchmark) is gone, even after a SIGKILL
CAP_FACTOR = 3.0  # a measurement may train for CAP_FACTOR x epochs x the best epoch time seen (or --cap)
HOG = "import os\np = os.getppid()\nwhile os.getppid() == p:\n    for _ in range(200000):\n        pass\n"


# ----------------------------------------------------------------------------- children
def _config(args: Any):
    from rnnlab.settings import RunConfig

    return RunConfig(dataset="sp500", seq_len=52, horizon=1, epochs=args.epochs, patience=0,
                     **({"hidden_size": args.hidden} if args.hidden else {}))


def _dataset(rows: int | None):
    from dataclasses import replace

    from rnnlab.data import load_dataset

    ds = load_dataset("sp500")
    return replace(ds, frame=ds.frame.iloc[:rows]) if rows else ds


class _Clock:
    """Training callback: times every epoch and batch and notes the thread count in use, so a
    run cut off at the cap still gives a figure (a partial epoch's time per batch x batches)."""

    def __init__(self) -> None:
        self.epoch_start: dict[int, float] = {}
        self.last_batch: dict[int, tuple[int, float]] = {}
        self.threads: dict[int, int] = {}  # epoch -> torch threads in the training thread
        self.n_batches = 0
        self.t_start: float | None = None

    def __call__(self, ev: Any) -> None:
        import torch

        t = time.perf_counter()
        if ev.kind == "start":
            self.t_start, self.n_batches = t, ev.n_batches
            self.epoch_start[1] = t
            self.threads[1] = torch.get_num_threads()
        elif ev.kind == "batch":
            self.last_batch[ev.epoch] = (ev.batch, t)
        elif ev.kind == "epoch":  # after rnnlab's own epoch hook (pipeline.train puts it first)
            self.epoch_start[ev.epoch + 1] = t
            self.threads[ev.epoch + 1] = torch.get_num_threads()

    def result(self) -> dict[str, Any]:
        """Complete epochs' seconds (epoch event to epoch event) and an estimate of the one under way."""
        starts = sorted(self.epoch_start.items())
        secs = [b - a for (_, a), (_, b) in itertools.pairwise(starts)]
        e = len(secs) + 1
        partial = None
        if e in self.last_batch and e in self.epoch_start and 0 < self.last_batch[e][0] < self.n_batches:
            done, t = self.last_batch[e]
            partial = {"epoch": e, "batches": done, "n_batches": self.n_batches,
                       "estimate_s": (t - self.epoch_start[e]) / done * self.n_batches}
        used = sorted(set(self.threads.values()))
        return {"epoch_seconds": secs, "partial": partial, "threads_seen": used}


def _train_capped(args: Any, train: Callable[[_Clock], dict[str, Any]]) -> None:
    """Run ``train(clock)`` and print its JSON result; ``args.cap`` seconds after training
    started, print what the clock has instead and leave at once (a stopped run would still
    score its partial epoch: a validation pass that can take as long again under load)."""
    clock, lock, printed = _Clock(), threading.Lock(), threading.Event()

    def watch() -> None:
        while clock.t_start is None or time.perf_counter() - clock.t_start <= args.cap:
            time.sleep(0.05)
        with lock:
            if not printed.is_set():
                print(json.dumps({**clock.result(), "stopped_at_cap": True, "thread_choices": []}), flush=True)
                os._exit(0)

    threading.Thread(target=watch, name="cap", daemon=True).start()
    out = train(clock)
    with lock:
        print(json.dumps({**out, "stopped_at_cap": False, "partial": None,
                          "threads_seen": clock.result()["threads_seen"]}), flush=True)
        printed.set()


def _child_script(args: Any, clock: _Clock) -> dict[str, Any]:
    from rnnlab import pipeline

    run = pipeline.fit(_dataset(args.rows or None), _config(args), callbacks=[clock])
    return {"epoch_seconds": [h["seconds"] for h in run.history], "thread_choices": run.train_info["thread_choices"]}


def _child_app(args: Any, clock: _Clock) -> dict[str, Any]:
    from bench.live import draw_like_page
    from rnnlab.jobs import TrainingJob

    job = TrainingJob(_dataset(args.rows or None), _config(args), heartbeat_timeout=60)
    job_callback = job._callback
    job._callback = lambda ev: (clock(ev), job_callback(ev))  # type: ignore[method-assign]
    target = job.config.target or ""
    done = threading.Event()
    redraws = [0]

    def server() -> None:  # the Train page's fragment: every second touch, snapshot, both charts
        while not done.is_set():
            job.touch()
            draw_like_page(job.snapshot(), target)
            redraws[0] += 1
            done.wait(1.0)

    poller = threading.Thread(target=server, name="server", daemon=True)
    poller.start()
    job.start()
    job.join()
    done.set()
    poller.join()
    snap = job.snapshot()
    if snap.run is None:
        raise RuntimeError(f"the job failed: {snap.message}")
    return {"epoch_seconds": [h["seconds"] for h in snap.run.history],
            "thread_choices": snap.run.train_info["thread_choices"], "redraws": redraws[0]}


_EPOCH_LINE = re.compile(r"^epoch\s+(\d+)/(\d+)\s.*?([\d.]+)s( \*)?$")


def _run_cli(args: Any, env: dict[str, str], cap: float) -> dict[str, Any]:
    """``python -m rnnlab train``; killed ``cap`` s after it starts training (its "torch
    threads:" line), then the epochs it printed are all there is (or a lower bound)."""
    with tempfile.TemporaryDirectory(prefix="rnnlab-threads-") as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "rnnlab", "train", "--data", "sp500", "--target", "adj_close",
               "--seq-len", "52", "--horizon", "1", "--epochs", str(args.epochs), "--patience", "0", "--out", str(out)]
        if args.hidden:
            cmd += ["--hidden", str(args.hidden)]
        if args.rows:  # the CLI cannot cut a built-in series: give it the first rows as a CSV
            csv = Path(tmp) / "sp500.csv"
            _dataset(args.rows).frame.reset_index().to_csv(csv, index=False)
            cmd[cmd.index("sp500")] = str(csv)
        proc = subprocess.Popen(cmd, cwd=common.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        lines: queue.Queue[tuple[float, str | None]] = queue.Queue()

        def read() -> None:
            assert proc.stderr is not None
            for ln in proc.stderr:
                lines.put((time.perf_counter(), ln.rstrip("\n")))
            lines.put((time.perf_counter(), None))

        threading.Thread(target=read, daemon=True).start()
        said, elapsed, tail, deadline, killed = "", [], [], time.perf_counter() + args.timeout, False
        while True:
            try:
                t, ln = lines.get(timeout=max(0.01, deadline - time.perf_counter()))
            except queue.Empty:
                proc.kill()
                killed = True
                break
            if ln is None:
                break
            tail = (tail + [ln])[-20:]
            if ln.startswith("torch threads:"):
                said, deadline = ln, t + cap
            m = _EPOCH_LINE.match(ln)
            if m:
                elapsed.append(float(m.group(3)))
        proc.wait()
        if killed:
            secs = [b - a for a, b in zip([0.0, *elapsed], elapsed)]
            return {"epoch_seconds": secs, "stopped_at_cap": True, "cli_says": said, "thread_choices": [],
                    "partial": None if secs else {"epoch": 1, "batches": 0, "lower_bound_s": cap}}
        if proc.returncode != 0:
            raise RuntimeError(f"rnnlab train failed (exit {proc.returncode}):\n" + "\n".join(tail))
        history = json.loads((out / "history.json").read_text())
        info = json.loads((out / "config.json").read_text()).get("train_info", {})
        return {"epoch_seconds": [h["seconds"] for h in history], "thread_choices": info.get("thread_choices", []),
                "cli_says": said, "stopped_at_cap": False, "partial": None}


def epoch_figure(out: dict[str, Any], cap: float = float("nan")) -> tuple[float, str]:
    """The cell's s/epoch and how it was obtained: the median complete epoch after the first;
    else an estimate from the batches of a capped epoch; else the first epoch; else a lower bound."""
    secs, part = out["epoch_seconds"], out.get("partial") or {}
    if len(secs) > 1:
        return common.median(secs[1:]), "epochs 2+"
    if part.get("estimate_s") and (part["epoch"] > 1 or not secs) and part["batches"] >= 3:
        return part["estimate_s"], f"epoch {part['epoch']} estimated from {part['batches']}/{part['n_batches']} batches"
    if secs:
        return secs[0], "epoch 1 (capped before epoch 2)" if out.get("stopped_at_cap") else "epoch 1"
    if part.get("estimate_s"):
        return part["estimate_s"], f"epoch 1 estimated from {part['batches']} batches"
    return float(part.get("lower_bound_s", cap)), "lower bound (no epoch within the cap)"


def _busy_now() -> tuple[float, float, float] | None:
    from rnnlab._platform import _cpu_sample

    s = _cpu_sample()
    if s is None:
        return None
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s[0], s[1], s[2] + ch.ru_utime + ch.ru_stime  # this process + the measured (reaped) child


def measure(path: str, setting: str, args: Any, cap: float) -> dict[str, Any]:
    """One fresh process for ``path`` with ``setting`` ("1", "2", ... or "rule")."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RNNLAB_THREADS", "RNNLAB_MAX_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    env["PYTHONPATH"] = str(common.ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if setting != "rule":
        env["RNNLAB_THREADS"] = setting
    load_before, b0 = common.load_average(), _busy_now()
    t = time.perf_counter()
    if path == "cli":
        out = _run_cli(args, env, cap)
    else:
        cmd = [sys.executable, "-m", "bench.threads", "--child", path, "--epochs", str(args.epochs),
               "--rows", str(args.rows), "--hidden", str(args.hidden), "--cap", str(cap)]
        proc = subprocess.run(cmd, check=False, cwd=common.ROOT, env=env, capture_output=True, text=True,
                              timeout=args.timeout)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"bench.threads --child {path} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        out = json.loads(lines[-1])
    b1 = _busy_now()
    from rnnlab._platform import _others_busy

    out["epoch_s"], out["figure"] = epoch_figure(out, cap)
    out["cap_s"] = cap
    said = re.match(r"torch threads: (?:RNNLAB_THREADS=)?(\d+)", out.get("cli_says", ""))  # a killed CLI's choice
    out.update({"path": path, "setting": setting, "process_s": time.perf_counter() - t,
                "load_before": load_before, "load_after": common.load_average(),
                "others_busy_cores": _others_busy(b0, b1) if b0 and b1 else None,
                "lower_bound": out["figure"].startswith("lower bound"),
                "threads_used": sorted({c["threads"] for c in out.get("thread_choices", [])}
                                       | set(out.get("threads_seen", [])) | ({int(said.group(1))} if said else set()))
                or ([int(setting)] if setting.isdigit() else [])})
    return out


# ----------------------------------------------------------------------------- load
class Hogs:
    """``n`` busy-loop processes for the ``with`` block; always killed on the way out."""

    def __init__(self, n: int) -> None:
        self.n, self.procs = n, []

    def __enter__(self) -> Self:
        try:
            for _ in range(self.n):
                self.procs.append(subprocess.Popen([sys.executable, "-c", HOG]))
        except BaseException:
            self.__exit__()
            raise
        time.sleep(0.5 if self.n else 0)
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=10)
        self.procs = []


def wait_quiet(limit: float, below: float = 0.2) -> dict[str, Any]:
    """Wait (up to ``limit`` s) until other processes use fewer than ``below`` cores over a second."""
    from rnnlab._platform import others_busy_cores

    t, busy = time.perf_counter(), None
    while True:
        busy = others_busy_cores(1.0)
        if busy is None or busy < below or time.perf_counter() - t >= limit:
            break
    out = {"waited_s": round(time.perf_counter() - t, 1), "others_busy_cores": busy,
           "quiet": busy is not None and busy < below}
    if not out["quiet"]:
        print(f"   (machine not quiet: other processes use {busy} cores after {out['waited_s']} s; measuring anyway)",
              flush=True)
    return out


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=2, help="rounds per condition (all cells of a condition in each)")
    p.add_argument("--epochs", type=int, default=2, help="epochs per measurement (the first is not counted)")
    p.add_argument("--hogs", type=int, default=3, help="busy-loop processes in the loaded condition")
    p.add_argument("--quick", action="store_true",
                   help="1 round, the first 2500 rows, a 5 s cap, paths cli and app (script = cli's main thread)")
    p.add_argument("--paths", default="", help="comma list of " + ", ".join(PATHS) + " (default: all)")
    p.add_argument("--settings", default="", help="comma list of thread counts and 'rule' (default: 1,N,rule)")
    p.add_argument("--conditions", default=",".join(CONDITIONS), help="comma list of " + ", ".join(CONDITIONS))
    p.add_argument("--rows", type=int, default=0, help="use only the first ROWS rows of the series")
    p.add_argument("--hidden", type=int, default=0, help="override the hidden size (tests)")
    p.add_argument("--cap", type=float, default=8.0,
                   help="seconds of training per measurement, or 3 x epochs x the best epoch time seen in the "
                        "condition if more; a run still going is stopped and its epoch time estimated from its "
                        "batches (CLI: killed; the epochs it printed, or a lower bound)")
    p.add_argument("--timeout", type=float, default=300, help="seconds per measurement process at most")
    p.add_argument("--wait-quiet", type=float, default=20.0,
                   help="before each quiet round, wait up to this many seconds for other processes to use "
                        "< 0.2 cores (a shared machine); what they used is recorded either way")
    p.add_argument("--child", choices=("script", "app"), help=__import__("argparse").SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _train_capped(args, lambda clock: (_child_script if args.child == "script" else _child_app)(args, clock))
        return {}
    if args.quick:
        args.reps, args.rows, args.cap = 1, args.rows or 2500, min(args.cap, 5.0)
        args.wait_quiet = min(args.wait_quiet, 10.0)
        args.paths = args.paths or "cli,app"
    started = time.perf_counter()
    from rnnlab._platform import default_threads, physical_cores

    cores = physical_cores()
    settings = [s.strip() for s in (args.settings or f"1,{cores},rule").split(",") if s.strip()]
    settings = list(dict.fromkeys(settings))
    paths = [x.strip() for x in (args.paths or ",".join(PATHS)).split(",") if x.strip()]
    conditions = [x.strip() for x in args.conditions.split(",") if x.strip()]
    for x in paths:
        if x not in PATHS:
            p.error(f"unknown path {x!r}")
    for x in conditions:
        if x not in CONDITIONS:
            p.error(f"unknown condition {x!r}")
    if args.threads:
        print(f"(--threads {args.threads} ignored: this benchmark sets the thread counts itself)")
    cells = [(path, s) for path in paths for s in settings]
    print(f"-- threads: {', '.join(conditions)} x {', '.join(paths)} x {', '.join(settings)}; {args.reps} rounds, "
          f"{args.epochs} epochs each (cap {args.cap:g} s), {args.hogs} hogs when loaded; {cores} usable cores; "
          f"rule here and now: {default_threads()}", flush=True)
    results: dict[str, list[dict[str, Any]]] = {c: [] for c in conditions}
    waits: list[dict[str, Any]] = []
    old = signal.signal(signal.SIGTERM, _sigterm)
    try:
        for r in range(args.reps):
            for cond in conditions if r % 2 == 0 else conditions[::-1]:
                k = (r * 7) % len(cells)
                order = cells[k:] + cells[:k]
                order = order if r % 2 == 0 else order[::-1]  # no cell always follows the same one
                if cond == "quiet":
                    waits.append(wait_quiet(args.wait_quiet))
                with Hogs(args.hogs if cond == "loaded" else 0):
                    for path, s in order:
                        # the cap cuts off only what is far slower than the best seen in this condition
                        best = min((x["epoch_s"] for x in results[cond] if not x["lower_bound"]), default=0.0)
                        m = measure(path, s, args, max(args.cap, CAP_FACTOR * args.epochs * best))
                        m.update({"condition": cond, "round": r + 1})
                        results[cond].append(m)
                        busy = m["others_busy_cores"]
                        print(f"   round {r + 1} {cond:6s} {path:6s} {s:>4s}: {m['epoch_s']:.3f} s/epoch "
                              f"({m['figure']}; threads {m['threads_used']}; others busy "
                              f"{'?' if busy is None else f'{busy:.2f}'} cores; load {m['load_before'][:1]} -> "
                              f"{m['load_after'][:1]})", flush=True)
    finally:
        signal.signal(signal.SIGTERM, old)
    rows = summarise(results, settings, paths, args.reps)
    print()
    print(common.table(rows, ["condition", "path", "setting", "threads used", "s/epoch", "min", "max", "ratio to best",
                              "others busy", "load 1-min", "rule's count = best fixed", "note"],
                       title=f"Seconds per epoch (median of {args.reps} rounds) and the median per-round ratio to the "
                             f"best setting of the same path and condition"))
    worst = {c: max((r["ratio to best"] for r in rows if r["condition"] == c and r["setting"] == "rule"), default=None)
             for c in conditions}
    print("rule vs the best setting, worst path: " + ", ".join(f"{c} {v:.2f}x" for c, v in worst.items() if v))
    payload = {"reps": args.reps, "epochs": args.epochs, "hogs": args.hogs, "rows": args.rows or None, "cap_s": args.cap,
               "quiet_waits": waits,
               "hidden": args.hidden or None, "settings": settings, "paths": paths, "conditions": conditions,
               "cores_usable": cores, "table": rows, "rule_worst_ratio": worst, "measurements": results,
               "notes": "s/epoch = median epoch time after the first epoch (Trainer's own per-epoch seconds); a "
                        "run still training after cap_s is stopped: then the stopped epoch's time per batch x "
                        "batches per epoch, or the first epoch, or (CLI killed before one epoch) a lower bound; "
                        "others busy = cores' worth of CPU used by everything but the measured process and this "
                        "one (/proc/stat) during the measurement; "
                        "ratio to best = median over rounds of (this setting / the fastest setting of the same "
                        "path, condition and round). rule = nothing set (rnnlab._platform.default_threads at "
                        "start, threads_for_epoch between epochs); 1 / N = RNNLAB_THREADS. loaded = --hogs "
                        "busy-loop processes beside the measurement."}
    common.write_result("threads", payload, args.out, started)
    return payload


def summarise(results: dict[str, list[dict[str, Any]]], settings: list[str], paths: list[str],
              reps: int) -> list[dict[str, Any]]:
    """One row per condition, path and setting: median s/epoch, median per-round ratio to the best
    setting of that round (a lower bound when the cell's figure is one), others' busy cores, load."""
    rows = []
    for cond, ms in results.items():
        for path in paths:
            per_round: dict[int, dict[str, float]] = {}
            for m in ms:
                if m["path"] == path:
                    per_round.setdefault(m["round"], {})[m["setting"]] = m["epoch_s"]
            for s in settings:
                mine = [m for m in ms if m["path"] == path and m["setting"] == s]
                if not mine:
                    continue
                ratios = [v[s] / min(v.values()) for v in per_round.values() if s in v and min(v.values()) > 0]
                used = sorted({t for m in mine for t in m["threads_used"]})
                loads = [x for m in mine for x in (m["load_before"][:1] + m["load_after"][:1])]
                secs = [m["epoch_s"] for m in mine]
                busy = [m["others_busy_cores"] for m in mine if m["others_busy_cores"] is not None]
                how = sorted({m["figure"] for m in mine if m["figure"] != "epochs 2+"})
                lower = any(m["lower_bound"] for m in mine)
                fixed = {x: common.median([m["epoch_s"] for m in ms if m["path"] == path and m["setting"] == x])
                         for x in settings if x != "rule"}
                best = min(fixed, key=lambda x: fixed[x]) if fixed else ""
                rows.append({"condition": cond, "path": path, "setting": s,
                             "threads used": ",".join(map(str, used)), "s/epoch": common.median(secs),
                             "min": min(secs), "max": max(secs), "ratio to best": common.median(ratios),
                             "others busy": common.median(busy) if busy else float("nan"),
                             "load 1-min": f"{min(loads):.1f}-{max(loads):.1f}" if loads else "",
                             "rule's count = best fixed": (used == [int(best)]) if s == "rule" and best else "",
                             "note": ("ratio is a lower bound; " if lower else "") + "; ".join(how)})
    return rows


if __name__ == "__main__":
    main()
