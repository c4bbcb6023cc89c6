"""Effect of rnnlab's glibc malloc tuning on epoch time, in fresh processes, interleaved.

``rnnlab._platform.apply_malloc_tuning`` raises glibc's mmap and trim thresholds when
rnnlab is imported; ``RNNLAB_NO_MALLOPT=1`` disables it. Each measurement is a fresh
``python`` process (the setting is process-wide and cannot be undone) that prepares the
reference windows (sp500, seq_len 60, 1-step target) and trains the reference LSTM 64 x 2,
batch 64, with ``Trainer.fit`` for ``--epochs`` epochs; it reports the median epoch time
(the first epoch dropped when there are more than one), peak RSS and minor page faults.
Processes alternate tuned / untuned; the table gives medians and the median paired ratio.

    python -m bench.malloc [--reps 3] [--epochs 3]
"""

from __future__ import annotations

import json
import resource
import threading
import time
from typing import Any

from bench import common


def _child(epochs: int, rows: int | None, cell: str, hidden: int) -> dict[str, Any]:
    from bench.speed import reference_prepared
    from rnnlab import _platform
    from rnnlab.models import build_model
    from rnnlab.tasks.forecast import FORECAST
    from rnnlab.training import Trainer, seed_everything

    threads = common.setup_threads()
    prep = reference_prepared(rows, cell=cell, hidden_size=hidden, batch_size=64, epochs=epochs, patience=0)
    seed_everything(0)
    model = build_model(prep.config, FORECAST.model_shape(prep))
    Xtr, Ytr = prep.tensors("train")
    Xva, Yva = prep.tensors("val")
    events: list = []
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    result = Trainer(prep.config, [events.append]).fit(model, FORECAST.objective(prep), stop_event=threading.Event())
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0
    secs = [r.seconds for r in result.history]
    steady = secs[1:] if len(secs) > 1 else secs
    return {"malloc_tuning": _platform.MALLOPT_APPLIED, "threads": threads, "epoch_seconds": secs,
            "epoch_s": common.median(steady), "train_s": result.seconds, "peak_rss_mib": common.peak_rss_mib(),
            "minor_page_faults": faults}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=3, help="process pairs (tuned, untuned)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--cell", default="lstm")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--rows", type=int, default=0, help="use only the first ROWS rows of the series (tests)")
    p.add_argument("--child", action="store_true", help=__import__("argparse").SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.epochs, args.rows or None, args.cell, args.hidden)))
        return {}
    started = time.perf_counter()
    child_args = ["--child", "--epochs", str(args.epochs), "--cell", args.cell, "--hidden", str(args.hidden)]
    if args.rows:
        child_args += ["--rows", str(args.rows)]
    base_env = {"RNNLAB_THREADS": str(args.threads)} if args.threads else {}
    envs = {"tuned": {**base_env, "RNNLAB_NO_MALLOPT": "0"}, "untuned": {**base_env, "RNNLAB_NO_MALLOPT": "1"}}
    runs: dict[str, list[dict[str, Any]]] = {"tuned": [], "untuned": []}
    print(f"-- malloc tuning: {args.reps} pairs of fresh processes, {args.cell} {args.hidden} x 2, "
          f"{args.epochs} epochs each", flush=True)
    for r in range(args.reps):
        order = ["tuned", "untuned"] if r % 2 == 0 else ["untuned", "tuned"]
        for name in order:
            runs[name].append(common.run_child("bench.malloc", child_args, env=envs[name]))
        print(f"   pair {r + 1}: " + "  ".join(f"{k}={runs[k][-1]['epoch_s']:.3f}s/epoch" for k in runs), flush=True)
    applied = {k: [x["malloc_tuning"] for x in v] for k, v in runs.items()}
    ratio = common.median(common.paired_ratios([x["epoch_s"] for x in runs["untuned"]],
                                               [x["epoch_s"] for x in runs["tuned"]]))
    rows = [{"malloc": k, "applied": all(applied[k]), "epoch s": common.median([x["epoch_s"] for x in v]),
             "peak RSS MiB": common.median([x["peak_rss_mib"] for x in v]),
             "minor faults": common.median([x["minor_page_faults"] for x in v])} for k, v in runs.items()]
    print()
    print(common.table(rows, title=f"glibc malloc tuning (medians of {args.reps} fresh processes each); "
                                   f"untuned / tuned epoch time = {ratio:.3f}"))
    payload = {"reps": args.reps, "epochs": args.epochs, "cell": args.cell, "hidden": args.hidden, "runs": runs,
               "summary": rows, "ratio_untuned_over_tuned": ratio,
               "notes": "tuned = default (mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD raised at import); "
                        "untuned = RNNLAB_NO_MALLOPT=1. Epoch time excludes the first epoch when epochs > 1."}
    common.write_result("malloc", payload, args.out, started)
    return payload


if __name__ == "__main__":
    main()
