"""Architecture variants of the default model on every built-in series: is the default the right one?

The default LSTM (``RunConfig()`` with only the dataset set, full training with early stopping)
against the same model with one architecture option changed, each scored on the test span at
step 1 and at the last horizon step H, beside the naive, seasonal-naive and linear-AR baselines
of the same windows (the grid of ``bench.accuracy``; its worker trains every run):

* ``default``: the automatic highway (on where the linear AR beats persistence on the
  validation span, off elsewhere; ``rnnlab.tasks.forecast``);
* ``no highway``: ``highway=0`` (the plain recurrent model);
* ``highway on``: ``highway=seq_len`` everywhere, prices included;
* ``attention``: additive attention over the input window's states (with the default highway);
* ``CNN-RNN``: one causal convolution layer (32 channels, kernel 3) before the LSTM.

Seeds: ``--seeds`` for the first three (the highway decision), ``--seeds-other`` for the last
two. Writes ``bench/results/variants.json`` and ``variants.md``.

    python -m bench.variants [--seeds 0,1,2] [--seeds-other 0] [--datasets a,b] [--jobs 2]
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench import common
from bench.accuracy import BASELINES, LABELS, _mean_std, _pm, _train_one

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "no highway": {"highway": 0},
    "highway on": {"highway": "seq_len"},
    "attention": {"attention": "additive"},
    "CNN-RNN": {"conv_layers": 1},
}
HIGHWAY_VARIANTS = ("default", "no highway", "highway on")


def _run(task: dict[str, Any]) -> dict[str, Any]:
    out = _train_one(task)
    out["variant"] = task["variant"]
    return out


def summarise(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per dataset and step: each variant's mean ± std, each baseline, and the best."""
    rows = []
    for ds in dict.fromkeys(r["dataset"] for r in results):
        runs = [r for r in results if r["dataset"] == ds]
        h = runs[0]["horizon"]
        for key, step in (("rmse_1", 1), ("rmse_h", h)):
            row: dict[str, Any] = {"dataset": ds, "step": step}
            means: dict[str, float] = {}
            for v in VARIANTS:
                src = [r["metrics"]["model"][key] for r in runs if r["variant"] == v]
                if src:
                    m, sd = _mean_std(src)
                    means[v] = m
                    row[v] = _pm(m, sd, 4) + ("" if len(src) > 1 else " (1 seed)")
            for b in BASELINES:
                means[b] = runs[0]["metrics"][b][key]
                row[LABELS[b]] = f"{means[b]:.4g}"
            best = min(means, key=lambda k: means[k] if math.isfinite(means[k]) else float("inf"))
            row["best"] = LABELS.get(best, best)
            row["auto highway"] = next((r.get("highway") or "off" for r in runs if r["variant"] == "default"), "")
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seeds-other", default="0")
    p.add_argument("--datasets", default="")
    p.add_argument("--jobs", type=int, default=0)
    args = p.parse_args(argv)
    started = time.perf_counter()
    from rnnlab.data import list_datasets

    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()] or [d.name for d in list_datasets()]
    rows_of = {d.name: d.rows for d in list_datasets()}
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    other = [int(s) for s in args.seeds_other.split(",") if s.strip()]
    jobs = args.jobs or common.setup_threads() or 1
    tasks = [{"dataset": d, "cell": "lstm", "seed": s, "epochs": None, "steps": None, "threads": 1, "variant": v,
              "settings": dict(VARIANTS[v])}
             for d in datasets for v in VARIANTS for s in (seeds if v in HIGHWAY_VARIANTS else other)]
    tasks.sort(key=lambda t: -rows_of.get(t["dataset"], 0))
    print(f"-- variants: {len(tasks)} runs on {jobs} worker process(es)", flush=True)
    results: list[dict[str, Any]] = []
    import multiprocessing as mp

    partial = common.RESULTS / "variants-partial.jsonl"  # every finished run at once: a stopped sweep keeps them
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_text("")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as ex:
        for r in ex.map(_run, tasks):
            results.append(r)
            with partial.open("a") as fh:
                fh.write(json.dumps(r, default=str) + "\n")
            print(f"   {r['dataset']:<16} {r['variant']:<11} seed {r['seed']}: {r['epochs_run']} epochs, {r['seconds']:.1f} s, "
                  f"RMSE@1 {r['metrics']['model']['rmse_1']:.4g} @H {r['metrics']['model']['rmse_h']:.4g}", flush=True)
    rows = summarise(results)
    print()
    print(common.table(rows, title="Test RMSE by architecture variant (LSTM defaults), original units"))
    wall = time.perf_counter() - started
    payload = {"seeds": seeds, "seeds_other": other, "workers": jobs, "table": rows, "runs": results}
    path = common.write_result("variants", payload, args.out, started)
    partial.unlink(missing_ok=True)
    cols = ["dataset", "step", "auto highway", *VARIANTS, *(LABELS[b] for b in BASELINES), "best"]
    md = [f"Generated by `python -m bench.variants` on {time.strftime('%Y-%m-%d')} ({wall:.0f} s). Test RMSE, "
          f"original units; mean ± std over seeds {seeds} (attention, CNN-RNN: seeds {other}).", "",
          "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    path.with_name("variants.md").write_text("\n".join(md) + "\n")
    return payload


if __name__ == "__main__":
    main()
