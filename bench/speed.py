"""Training speed: rnnlab's Trainer vs a minimal hand-written PyTorch loop, interleaved.

Reference setting: the S&P 500 series (``load_dataset("sp500")``, 5031 rows) through
``rnnlab.pipeline.prepare`` with seq_len 60 and a 1-step target, LSTM hidden 64 x 2 layers,
batch 64, on CPU; plus GRU and vanilla RNN with hidden 128, and the LSTM with batch 256.

* ``minimal``: one epoch of the loop anyone would write: shuffled index into the pre-built
  window tensors, the same ``RNNForecaster`` module, Adam, MSE, nothing else (no validation,
  no clipping, no callbacks).
* ``rnnlab``: ``Trainer(RunConfig(epochs=1, batch_size=...)).fit(model, objective)`` with its defaults
  (gradient clipping 1.0, plateau LR schedule, validation pass, best-weights copy), a real
  callback (``events.append``) and a stop ``threading.Event``.
* ``val pass``: ``Trainer.evaluate`` on the validation windows alone, to show how much of
  the rnnlab epoch is the validation pass the minimal loop does not do.

The arms alternate in the same process (order rotated every round); the table reports the
median seconds per epoch and the median of the per-round ratios rnnlab / minimal (wall and
process CPU time). A last section times the reference rnnlab epoch with 1 torch thread vs
the policy's count (``--thread-reps``, 0 to skip).

    python -m bench.speed [--reps 5] [--threads N] [--configs lstm64,gru128,rnn128,lstm64-b256]
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench import common

CONFIGS: dict[str, dict[str, Any]] = {
    "lstm64": {"cell": "lstm", "hidden_size": 64, "batch_size": 64},
    "gru128": {"cell": "gru", "hidden_size": 128, "batch_size": 64},
    "rnn128": {"cell": "rnn", "hidden_size": 128, "batch_size": 64},
    "lstm64-b256": {"cell": "lstm", "hidden_size": 64, "batch_size": 256},
}
GOAL = 1.10


def reference_prepared(rows: int | None = None, seq_len: int = 60, horizon: int = 1, **config: Any):
    """The reference windows: sp500 through ``pipeline.prepare`` (optionally its first ``rows`` rows)."""
    from dataclasses import replace

    from rnnlab import pipeline
    from rnnlab.data import load_dataset
    from rnnlab.settings import RunConfig

    ds = load_dataset("sp500")
    if rows:
        ds = replace(ds, frame=ds.frame.iloc[:rows])
    cfg = RunConfig(dataset="sp500", seq_len=seq_len, horizon=horizon, num_layers=2, **config)
    return pipeline.prepare(ds, cfg)


def minimal_epoch_fn(model, X, Y, batch_size: int, seed: int = 0):
    """A closure running one epoch of the minimal loop (optimizer persists across epochs)."""
    import torch
    from torch import nn

    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.MSELoss()
    gen = torch.Generator().manual_seed(seed)
    n = len(X)

    def epoch() -> None:
        model.train()
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            pred = model(X[idx])[0]
            loss = loss_fn(pred, Y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return epoch


def rnnlab_epoch_fn(model, prep, events: list):
    """A closure running ``Trainer.fit`` for one epoch with a callback and a stop flag."""
    from rnnlab.tasks import get_task
    from rnnlab.training import Trainer

    tcfg = prep.config.replace(epochs=1)
    objective = get_task(prep.config.task).objective(prep)
    stop = threading.Event()

    def epoch() -> None:
        events.clear()
        Trainer(tcfg, [events.append]).fit(model, objective, stop_event=stop)

    return epoch


def warm_up(*models_and_data: Any, batches: int = 2) -> None:
    """Cheap warm-up instead of a whole discarded round: the first optimizer import (torch
    loads torch._dynamo lazily, seconds) and a few forward/backward passes per model."""
    import torch

    *models, X, Y = models_and_data
    for m in models:
        opt = torch.optim.Adam(m.parameters(), lr=0.0)
        for i in range(batches):
            pred = m(X[i * 64 : (i + 1) * 64])[0]
            ((pred - Y[i * 64 : (i + 1) * 64]) ** 2).mean().backward()
        opt.zero_grad(set_to_none=True)


def bench_config(name: str, spec: dict[str, Any], reps: int, warmup: int, rows: int | None,
                 hidden: int | None = None) -> dict[str, Any]:
    from rnnlab.models import build_model
    from rnnlab.tasks import get_task
    from rnnlab.training import Trainer, seed_everything

    spec = dict(spec)
    if hidden:
        spec["hidden_size"] = hidden
    prep = reference_prepared(rows, **spec)
    mcfg = prep.config
    shape = get_task(mcfg.task).model_shape(prep)
    seed_everything(0)
    m_min, m_rnn = build_model(mcfg, shape), build_model(mcfg, shape)
    m_rnn.load_state_dict(m_min.state_dict())
    Xtr, Ytr = prep.tensors("train")
    Xva, Yva = prep.tensors("val")
    events: list = []
    objective = get_task(mcfg.task).objective(prep)
    arms = {
        "minimal": minimal_epoch_fn(m_min, Xtr, Ytr, prep.config.batch_size),
        "rnnlab": rnnlab_epoch_fn(m_rnn, prep, events),
        "val_pass": lambda: Trainer.validate(m_rnn, objective) and None,
    }
    warm_up(m_min, m_rnn, Xtr, Ytr)
    print(f"-- {name}: {mcfg.cell} hidden {mcfg.hidden_size} x {mcfg.num_layers}, batch {prep.config.batch_size}, "
          f"{len(Xtr)} train / {len(Xva)} val windows of {prep.config.seq_len} steps", flush=True)
    cpu: dict[str, list[float]] = {}
    t = common.interleave(arms, reps=reps, warmup=warmup, cpu=cpu)
    ratios = common.paired_ratios(t["rnnlab"], t["minimal"])
    cpu_ratios = common.paired_ratios(cpu["rnnlab"], cpu["minimal"])
    ratios_no_val = common.paired_ratios([a - v for a, v in zip(t["rnnlab"], t["val_pass"])], t["minimal"])
    n_batch_events = sum(1 for e in events if e.kind == "batch")
    return {
        "config": name, "cell": mcfg.cell, "hidden": mcfg.hidden_size, "layers": mcfg.num_layers,
        "batch": prep.config.batch_size, "seq_len": prep.config.seq_len, "train_windows": len(Xtr),
        "val_windows": len(Xva), "batches_per_epoch": -(-len(Xtr) // prep.config.batch_size),
        "callback_events_last_epoch": len(events), "batch_events_last_epoch": n_batch_events,
        "minimal_s": common.summary(t["minimal"]), "rnnlab_s": common.summary(t["rnnlab"]),
        "val_pass_s": common.summary(t["val_pass"]),
        "ratio": common.median(ratios), "ratios": [round(r, 4) for r in ratios],
        "ratio_without_val_pass": common.median(ratios_no_val),
        "cpu_minimal_s": common.summary(cpu["minimal"]), "cpu_rnnlab_s": common.summary(cpu["rnnlab"]),
        "cpu_ratio": common.median(cpu_ratios),
        "goal": GOAL, "goal_met": common.median(ratios) <= GOAL,
    }


def bench_threads(reps: int, rows: int | None, hidden: int | None) -> dict[str, Any]:
    """The reference config's rnnlab epoch with 1 torch thread vs the policy's count (usable
    cores), interleaved in the main thread: how much the second thread buys, or costs when
    other processes compete for the cores."""
    import torch

    from rnnlab._platform import physical_cores
    from rnnlab.models import build_model
    from rnnlab.tasks.forecast import FORECAST
    from rnnlab.training import seed_everything

    before = torch.get_num_threads()
    counts = sorted({1, physical_cores()})
    prep = reference_prepared(rows, **{**CONFIGS["lstm64"], **({"hidden_size": hidden} if hidden else {})})
    seed_everything(0)
    model = build_model(prep.config, FORECAST.model_shape(prep))
    epoch = rnnlab_epoch_fn(model, prep, [])

    def arm(n: int):
        def run() -> float:
            torch.set_num_threads(n)
            t = time.perf_counter()
            epoch()
            return time.perf_counter() - t

        return run

    print(f"-- threads: lstm64 rnnlab epoch with {counts} torch threads (main thread)", flush=True)
    try:
        t = common.interleave({f"{n}": arm(n) for n in counts}, reps=reps, warmup=0)
    finally:
        torch.set_num_threads(before)
    return {"threads": counts, "epoch_s": {k: common.summary(v) for k, v in t.items()},
            "load_average": common.load_average()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5, help="interleaved rounds per configuration (after warm-up)")
    p.add_argument("--warmup", type=int, default=0, help="whole discarded rounds (a cheap warm-up always runs)")
    p.add_argument("--configs", default=",".join(CONFIGS), help="comma list of " + ", ".join(CONFIGS))
    p.add_argument("--rows", type=int, default=0, help="use only the first ROWS rows of the series (tests)")
    p.add_argument("--hidden", type=int, default=0, help="override the hidden size (tests)")
    p.add_argument("--thread-reps", type=int, default=2, help="rounds of the 1-vs-N threads comparison (0: skip)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    threads = common.setup_threads(args.threads)
    rows = []
    for name in [c.strip() for c in args.configs.split(",") if c.strip()]:
        if name not in CONFIGS:
            p.error(f"unknown config {name!r}; choose from {', '.join(CONFIGS)}")
        rows.append(bench_config(name, CONFIGS[name], args.reps, args.warmup, args.rows or None, args.hidden or None))
    display = [{"config": r["config"], "batch": r["batch"], "minimal s/epoch": r["minimal_s"]["median"],
                "rnnlab s/epoch": r["rnnlab_s"]["median"], "val pass s": r["val_pass_s"]["median"],
                "ratio": r["ratio"], "ratio w/o val": r["ratio_without_val_pass"], "CPU-time ratio": r["cpu_ratio"],
                "goal <=1.10": "met" if r["goal_met"] else "MISSED"} for r in rows]
    print()
    print(common.table(display, title=f"Trainer epoch vs minimal loop (medians of {args.reps} interleaved rounds, "
                                      f"{threads} torch threads)"))
    thread_cmp = bench_threads(args.thread_reps, args.rows or None, args.hidden or None) if args.thread_reps else None
    if thread_cmp:
        print(common.table([{"torch threads": k, "rnnlab s/epoch": v["median"], "min": v["min"], "max": v["max"]}
                            for k, v in thread_cmp["epoch_s"].items()],
                           title=f"Threads (lstm64, main thread, load {thread_cmp['load_average']})"))
    payload = {"threads": threads, "reps": args.reps, "warmup": args.warmup, "thread_comparison": thread_cmp,
               "dataset": "sp500" + (f" (first {args.rows} rows)" if args.rows else ""), "results": rows,
               "notes": "rnnlab = Trainer.fit(epochs=1) with defaults (clip 1.0, plateau schedule, validation pass, "
                        "best-weights copy), callback events.append and a stop Event; minimal = Adam + MSE over "
                        "shuffled pre-built windows, same module, no validation. ratio = median of per-round "
                        "rnnlab/minimal; ratio_without_val_pass subtracts the separately timed validation pass; "
                        "cpu_ratio is the same with process CPU seconds (less sensitive to other load)."}
    common.write_result("speed", payload, args.out, started)
    return payload


if __name__ == "__main__":
    main()
