"""Peak memory of one training run (fresh process) and of an app process over three runs.

* ``one run``: a fresh ``python`` process imports rnnlab, prepares the reference windows
  (sp500, seq_len 60, 1-step target) and trains the reference LSTM 64 x 2 (batch 64) for
  ``--epochs`` epochs with ``pipeline.train``; reported: RSS after imports, after prepare,
  after training, and the peak (VmHWM / ``ru_maxrss``).
* ``app``: a fresh process behaves like the dashboard over three runs: three
  ``TrainingJob``s one after the other, each polled with ``snapshot()``, each finished run
  kept (as the session's run list keeps them); RSS after each run, after ``gc.collect()``.
  Growth from run 2 to run 3 should be about the size of the kept run, not more.

RSS comes from psutil when installed, else /proc/self/status (VmRSS, VmHWM).

    python -m bench.memory [--epochs 2]
"""

from __future__ import annotations

import gc
import json
import threading
import time
from typing import Any

from bench import common


def _child_train(epochs: int, rows: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"rss_start_mib": common.rss_mib()}
    import torch  # noqa: F401

    from bench.speed import reference_prepared
    from rnnlab import pipeline

    common.setup_threads()
    out["rss_after_imports_mib"] = common.rss_mib()
    prep = reference_prepared(rows, cell="lstm", hidden_size=64, batch_size=64, epochs=epochs, patience=0)
    out["rss_after_prepare_mib"] = common.rss_mib()
    t = time.perf_counter()
    events: list = []
    run = pipeline.train(prep, callbacks=[events.append], stop_event=threading.Event())
    out["train_s"] = time.perf_counter() - t
    out["epochs"] = len(run.history)
    out["rss_after_train_mib"] = common.rss_mib()
    out["peak_rss_mib"] = common.peak_rss_mib()
    return out


def _run_retained_mib(run: Any) -> float:
    """Rough size of what a kept Run holds: model weights, windows, predictions frame."""
    total = sum(p.numel() * p.element_size() for p in run.model.parameters())
    prep = run._prepared
    if prep is not None:
        for w in (prep.train, prep.val, prep.test):
            total += sum(a.nbytes for a in (w.X, w.Y, w.base, w.y_true, w.anchors))
        total += prep.inputs.nbytes
    if run.predictions is not None:
        total += int(run.predictions.memory_usage(deep=True).sum())
    return total / 1024**2


def _child_app(epochs: int, rows: int | None, n_runs: int) -> dict[str, Any]:
    from bench.speed import reference_prepared
    from rnnlab.jobs import TrainingJob

    common.setup_threads()
    prep = reference_prepared(rows, cell="lstm", hidden_size=64, batch_size=64, epochs=epochs, patience=0)
    kept, per_run = [], []
    rss0 = common.rss_mib()
    for i in range(n_runs):
        job = TrainingJob(prep.dataset, prep.config, heartbeat_timeout=60.0).start()
        while not job.join(0.5):
            job.touch()
            job.snapshot()
        snap = job.snapshot()
        if snap.run is None:
            raise RuntimeError(f"job {i + 1} ended {snap.status}: {snap.message}")
        kept.append(snap.run)
        del job, snap
        gc.collect()
        per_run.append({"run": i + 1, "rss_mib": common.rss_mib(), "peak_rss_mib": common.peak_rss_mib(),
                        "kept_run_mib": _run_retained_mib(kept[-1])})
    return {"rss_before_runs_mib": rss0, "runs": per_run}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--runs", type=int, default=3, help="training jobs in the app process")
    p.add_argument("--rows", type=int, default=0, help="use only the first ROWS rows of the series (tests)")
    p.add_argument("--child", choices=("train", "app"), default=None, help=argparse_hidden())
    args = p.parse_args(argv)
    rows = args.rows or None
    if args.child == "train":
        print(json.dumps(_child_train(args.epochs, rows)))
        return {}
    if args.child == "app":
        print(json.dumps(_child_app(args.epochs, rows, args.runs)))
        return {}
    started = time.perf_counter()
    extra = ["--epochs", str(args.epochs)] + (["--rows", str(args.rows)] if args.rows else [])
    env = {"RNNLAB_THREADS": str(args.threads)} if args.threads else {}
    one = common.run_child("bench.memory", ["--child", "train", *extra], env=env)
    app = common.run_child("bench.memory", ["--child", "app", "--runs", str(args.runs), *extra], env=env)
    runs = app["runs"]
    growth = [round(b["rss_mib"] - a["rss_mib"], 1) for a, b in zip(runs, runs[1:])]
    print(common.table([{"process": "one training run (fresh)", "after imports": one["rss_after_imports_mib"],
                         "after prepare": one["rss_after_prepare_mib"], "after train": one["rss_after_train_mib"],
                         "peak": one["peak_rss_mib"]}],
                       title=f"RSS in MiB, one run of {one['epochs']} epochs (reference LSTM 64 x 2)"))
    print(common.table([{"after run": r["run"], "RSS MiB": r["rss_mib"], "peak MiB": r["peak_rss_mib"],
                         "kept run MiB": r["kept_run_mib"]} for r in runs],
                       title=f"App process: {args.runs} TrainingJobs in sequence, runs kept (RSS before: "
                             f"{app['rss_before_runs_mib']:.0f} MiB); growth run over run: {growth} MiB"))
    payload = {"epochs": args.epochs, "one_run": one, "app": app, "growth_run_over_run_mib": growth,
               "rss_source": "psutil" if _has_psutil() else "/proc/self/status VmRSS / VmHWM",
               "notes": "each part runs in a fresh subprocess; app keeps every finished Run like the "
                        "dashboard's run list, so growth of about kept_run_mib per run is expected."}
    common.write_result("memory", payload, args.out, started)
    return payload


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


def _has_psutil() -> bool:
    try:
        import psutil  # type: ignore[import-not-found]  # noqa: F401

        return True
    except ImportError:
        return False


if __name__ == "__main__":
    main()
