"""Accuracy: rnn, lstm and gru vs naive, seasonal naive, linear AR, ETS and Theta on every built-in dataset,
with the test coverage of the 80 % / 95 % conformal intervals and the MSIS.

For each dataset of ``rnnlab.data.list_datasets()`` the run uses ``RunConfig()`` defaults,
setting only the dataset (and the cell and seed): automatic seq_len / horizon / transform /
season, LSTM-sized defaults (hidden 64 x 2, batch 64, lr 3e-3, early stopping with patience
10, best weights kept). Three seeds per cell. Reported on the untouched test span, in
original units: RMSE and MASE at step 1 and at the configured horizon H (7 for daily and
trading-day data, 24 for hourly, 3 for the short monthly series), mean ± std over seeds.
The baselines are deterministic (the same for every seed), fitted on the training span only.

MASE = MAE / (in-sample MAE of the one-step naive forecast on the training span), so a
naive forecast at step 1 scores about 1 when the test span behaves like the training span.

Modes: the full grid (default: ``RunConfig`` defaults, up to 60 epochs each with early
stopping) takes far longer than the 10-minute budget of ``bench.all`` on a 2-core CPU.
``--quick`` caps the epochs of each run so that it makes about ``QUICK_STEPS`` optimisation
steps: ``epochs = ceil(QUICK_STEPS / batches per epoch)``, at most the default 60. A fixed
epoch cap would be unfair the other way round: 3 epochs are ~290 steps on the hourly series
but 6 steps on the 123-row monthly one. Everything else (early stopping, best weights) is
unchanged; the outputs state the epochs used per dataset. ``--epochs N`` caps all runs at N.
Runs are spread over ``--jobs`` worker processes with one torch thread each (on small
recurrent models two single-threaded processes use two cores better than one process with
two threads); results do not depend on the number of workers.

Writes ``bench/results/accuracy.json`` and ``bench/results/accuracy.md`` (a README table);
with ``--quick`` or ``--epochs`` the files are ``accuracy-quick.*`` / ``accuracy-capped.*``
so a quick run never overwrites the full results.

    python -m bench.accuracy [--quick | --epochs N] [--seeds 0,1,2] [--datasets a,b] [--jobs 2]
"""

from __future__ import annotations

import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench import common
from rnnlab.settings import CELLS

BASELINES = ("naive", "seasonal_naive", "linear", "ets", "theta")
QUICK_STEPS = 120  # optimisation steps per run in --quick mode
LABELS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU", "naive": "naive", "seasonal_naive": "seasonal naive",
          "linear": "linear AR", "ets": "ETS (A,Ad,A)", "theta": "Theta"}
KEYS = ("rmse_1", "rmse_h", "mase_1", "mase_h", "rmse_all", "mase_all", "cov_80", "cov_95", "msis")


def _train_one(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: one (dataset, cell, seed) run; returns per-step metrics of the model and baselines."""
    import torch

    torch.set_num_threads(int(task.get("threads") or 1))
    os.environ["RNNLAB_THREADS"] = str(task.get("threads") or 1)  # pipeline.train applies it
    from rnnlab import pipeline
    from rnnlab.data import load_dataset
    from rnnlab.settings import RunConfig

    t0 = time.perf_counter()
    ds = load_dataset(task["dataset"])
    changes: dict[str, Any] = {"dataset": task["dataset"], "cell": task["cell"], "seed": task["seed"]}
    if task.get("epochs"):
        changes["epochs"] = task["epochs"]
    extra = dict(task.get("settings") or {})  # bench.variants: architecture options on top of the defaults
    if extra.get("highway") == "seq_len":  # the highway forced on over the whole (resolved) input window
        extra["highway"] = pipeline.prepare(ds, RunConfig().replace(**changes)).config.seq_len
    changes.update(extra)
    cfg = RunConfig().replace(**changes)
    prep = pipeline.prepare(ds, cfg)
    if task.get("steps"):  # --quick: about `steps` optimisation steps, whatever the dataset's size
        per_epoch = math.ceil(len(prep.train) / prep.config.batch_size)
        prep.config.epochs = min(prep.config.epochs, max(1, math.ceil(task["steps"] / per_epoch)))
    run = pipeline.train(prep)
    scale = prep.mase_scale
    h = run.config.horizon
    out: dict[str, Any] = {**task, "epochs_cap": run.config.epochs, "horizon": h, "seq_len": run.config.seq_len, "season": prep.season,
                           "highway": run.config.highway,
                           "transform": prep.preprocessor.transform_, "n_test_windows": len(prep.test),
                           "epochs_run": len(run.history), "best_epoch": run.train_info["best_epoch"],
                           "stop_reason": run.train_info["stop_reason"], "seconds": time.perf_counter() - t0,
                           "metrics": {}}
    iv = run.metrics["intervals"]
    out["peer_notes"] = run.metrics.get("peer_notes", [])
    for name, errs in run.metrics["per_step"].items():
        mae, rmse = errs["mae"], errs["rmse"]
        out["metrics"][name] = {
            "rmse_1": rmse[0], "rmse_h": rmse[h - 1], "mase_1": mae[0] / scale, "mase_h": mae[h - 1] / scale,
            "rmse_all": run.metrics["test"][name]["rmse"], "mase_all": run.metrics["test"][name]["mase"],
            "cov_80": iv["0.8"][name]["coverage"], "cov_95": iv["0.95"][name]["coverage"], "msis": iv["msis"][name],
        }
    return out


def _mean_std(xs: list[float]) -> tuple[float, float]:
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if not xs:
        return float("nan"), float("nan")
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def _pm(m: float, sd: float, digits: int = 3) -> str:
    if not math.isfinite(m):
        return "–"
    return f"{m:.{digits}g} ± {sd:.2g}" if sd > 0 else f"{m:.{digits}g}"


def summarise(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows (dataset x model) with mean/std per metric, and plain-words shortfalls of the RNNs."""
    rows: list[dict[str, Any]] = []
    shortfalls: list[str] = []
    datasets = list(dict.fromkeys(r["dataset"] for r in results))
    for ds in datasets:
        runs = [r for r in results if r["dataset"] == ds]
        h = runs[0]["horizon"]
        stats: dict[str, dict[str, tuple[float, float]]] = {}
        for name in (*CELLS, *BASELINES):
            src = runs if name in BASELINES else [r for r in runs if r["cell"] == name]
            if name in BASELINES:  # deterministic: one value per dataset
                src = src[:1]
            key = "model" if name in CELLS else name
            src = [r for r in src if key in r["metrics"]]  # a peer that could not be fitted is missing
            if not src:
                continue
            stats[name] = {k: _mean_std([r["metrics"][key].get(k, float("nan")) for r in src]) for k in KEYS}
            rows.append({"dataset": ds, "H": h, "model": name, "seeds": len(src) if name in CELLS else "-",
                         **{k: v[0] for k, v in stats[name].items()}, **{k + "_std": v[1] for k, v in stats[name].items()},
                         "transform": runs[0]["transform"], "season": runs[0]["season"],
                         "epochs_cap": runs[0]["epochs_cap"],
                         "epochs_run": _mean_std([r["epochs_run"] for r in src])[0] if name in CELLS else None})
        for step_key, step_label in (("rmse_1", "step 1"), ("rmse_h", f"step {h}")):
            base_best = min(BASELINES, key=lambda b: stats[b][step_key][0] if b in stats else float("inf"))
            bb = stats[base_best][step_key][0]
            losers = [c for c in CELLS if c in stats and not stats[c][step_key][0] < bb]
            if losers:
                worst = ", ".join(f"{LABELS[c]} {stats[c][step_key][0]:.4g}" for c in losers)
                shortfalls.append(f"{ds} ({step_label}): {worst} vs {LABELS[base_best]} {bb:.4g} (test RMSE)")
    return rows, shortfalls


def markdown(rows: list[dict[str, Any]], shortfalls: list[str], meta: dict[str, Any]) -> str:
    lines = [
        "# Accuracy of the recurrent models vs baselines",
        "",
        f"Generated by `{meta['command']}` on {meta['date']} ({meta['machine']}).",
        f"Settings: `RunConfig()` defaults with only the dataset set; {meta['epochs_text']}; "
        f"seeds {meta['seeds']}; cells {meta.get('cells', 'rnn / lstm / gru')}. Test span (last 15 % of rows), original units; "
        "mean ± std over seeds (baselines are deterministic). MASE divides MAE by the training span's "
        "one-step naive MAE. Step H is the configured horizon (7 daily / trading days, 24 hourly, 3 monthly). "
        "**Bold**: best RMSE of the dataset at that step.",
        "",
        "| dataset | H | model | RMSE step 1 | RMSE step H | MASE step 1 | MASE step H | cover 80 % | cover 95 % "
        "| MSIS | epochs (cap / run) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    by_ds: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_ds.setdefault(r["dataset"], []).append(r)
    for ds, rs in by_ds.items():
        best1 = min(r["rmse_1"] for r in rs)
        besth = min(r["rmse_h"] for r in rs)
        for r in rs:
            c1 = _pm(r["rmse_1"], r["rmse_1_std"], 4)
            ch = _pm(r["rmse_h"], r["rmse_h_std"], 4)
            if r["rmse_1"] == best1:
                c1 = f"**{c1}**"
            if r["rmse_h"] == besth:
                ch = f"**{ch}**"
            lines.append(f"| {ds} | {r['H']} | {LABELS[r['model']]} | {c1} | {ch} | "
                         f"{_pm(r['mase_1'], r['mase_1_std'])} | {_pm(r['mase_h'], r['mase_h_std'])} | "
                         f"{_pm(100 * r['cov_80'], 100 * r['cov_80_std'])} | {_pm(100 * r['cov_95'], 100 * r['cov_95_std'])} | "
                         f"{_pm(r['msis'], r['msis_std'])} | "
                         + (f"{r['epochs_cap']} / {r['epochs_run']:.3g} |" if r["epochs_run"] is not None else "– |"))
    lines += ["", "## Where the RNNs do not beat the best baseline", ""]
    lines += [f"- {s}" for s in shortfalls] or ["- none: every cell beats every baseline at both steps"]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true",
                   help=f"cap each run's epochs at about {QUICK_STEPS} optimisation steps (see the docstring)")
    g.add_argument("--epochs", type=int, default=0, help="train at most N epochs per run (default: RunConfig's)")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--cells", default=",".join(CELLS))
    p.add_argument("--datasets", default="", help="comma list (default: every built-in dataset)")
    p.add_argument("--jobs", type=int, default=0, help="worker processes (default: usable cores)")
    p.add_argument("--md", default=None, help="markdown output (default: <out>/accuracy.md)")
    args = p.parse_args(argv)
    started = time.perf_counter()

    from rnnlab.data import list_datasets
    from rnnlab.settings import RunConfig

    epochs = args.epochs or None
    steps = QUICK_STEPS if args.quick else None
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()] or [d.name for d in list_datasets()]
    rows_of = {d.name: d.rows for d in list_datasets()}
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    threads = args.threads or 1
    jobs = args.jobs or common.setup_threads() // threads or 1
    tasks = [{"dataset": d, "cell": c, "seed": s, "epochs": epochs, "steps": steps, "threads": threads}
             for d in datasets for c in cells for s in seeds]
    tasks.sort(key=lambda t: -rows_of.get(t["dataset"], 0))  # longest first: better packing on the workers
    epochs_text = (f"--quick: epochs capped at ceil({QUICK_STEPS} / batches per epoch) per dataset" if args.quick else
                   f"training capped at {epochs} epochs" if epochs else
                   f"full training (up to {RunConfig().epochs} epochs, early stopping patience {RunConfig().patience})")
    print(f"-- accuracy: {len(datasets)} datasets x {len(cells)} cells x {len(seeds)} seeds = {len(tasks)} runs; "
          f"{epochs_text}; {jobs} worker process(es) x {threads} torch thread(s)", flush=True)
    results: list[dict[str, Any]] = []
    if jobs > 1:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as ex:
            for r in ex.map(_train_one, tasks):
                results.append(r)
                print(f"   {r['dataset']:<16} {r['cell']:<4} seed {r['seed']}: {r['epochs_run']} epochs, "
                      f"{r['seconds']:.1f} s, step-1 RMSE {r['metrics']['model']['rmse_1']:.4g}", flush=True)
    else:
        for t in tasks:
            r = _train_one(t)
            results.append(r)
            print(f"   {r['dataset']:<16} {r['cell']:<4} seed {r['seed']}: {r['epochs_run']} epochs, "
                  f"{r['seconds']:.1f} s, step-1 RMSE {r['metrics']['model']['rmse_1']:.4g}", flush=True)
    order = {d: i for i, d in enumerate(datasets)}
    results.sort(key=lambda r: (order[r["dataset"]], r["cell"], r["seed"]))
    rows, shortfalls = summarise(results)
    display = [{"dataset": r["dataset"], "H": r["H"], "model": LABELS[r["model"]],
                "RMSE@1": _pm(r["rmse_1"], r["rmse_1_std"], 4), "RMSE@H": _pm(r["rmse_h"], r["rmse_h_std"], 4),
                "MASE@1": _pm(r["mase_1"], r["mase_1_std"]), "MASE@H": _pm(r["mase_h"], r["mase_h_std"]),
                "cov80%": _pm(100 * r["cov_80"], 100 * r["cov_80_std"]), "cov95%": _pm(100 * r["cov_95"], 100 * r["cov_95_std"]),
                "MSIS": _pm(r["msis"], r["msis_std"]),
                "epochs cap/run": f"{r['epochs_cap']}/{r['epochs_run']:.3g}" if r["epochs_run"] is not None else ""}
               for r in rows]
    print()
    print(common.table(display, title=f"Test accuracy, original units, mean ± std over seeds {seeds} ({epochs_text})"))
    print("Where the RNNs do not beat the best baseline (test RMSE):")
    for s in shortfalls or ["none"]:
        print("  - " + s)
    wall = time.perf_counter() - started
    payload = {"mode": "quick" if args.quick else ("capped" if epochs else "full"), "epochs_cap": epochs,
               "epochs_text": epochs_text, "seeds": seeds, "cells": cells, "datasets": datasets, "workers": jobs,
               "threads_per_worker": threads, "table": rows, "rnns_not_beating_baselines": shortfalls,
               "runs": results}
    name = {"quick": "accuracy-quick", "capped": "accuracy-capped"}.get(payload["mode"], "accuracy")
    path = common.write_result(name, payload, args.out, started, benchmark="accuracy")
    m = common.machine()
    md = markdown(rows, shortfalls, {"command": " ".join(["python -m bench.accuracy", *(argv if argv is not None
                                                                                      else sys.argv[1:])]),
                                     "date": time.strftime("%Y-%m-%d"), "epochs_text": epochs_text,
                                     "seeds": ", ".join(map(str, seeds)), "cells": " / ".join(cells),
                                     "machine": f"{m['cores']} cores, {m['cpu_model']}, torch {m.get('torch', '?')}, "
                                                f"{wall:.0f} s"})
    md_path = args.md or str(path.with_name(name + ".md"))
    with open(md_path, "w") as f:
        f.write(md)
    print(f"wrote {md_path}")
    return payload


if __name__ == "__main__":
    main()
