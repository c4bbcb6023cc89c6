"""Sequence classification with the default settings: the network against the majority class and
logistic regression on the same test sequences, and how long it trains.

    python -m bench.classify [--datasets japanese-vowels,names-sex] [--seeds 0,1,2] [--variants default,...]

Japanese Vowels keeps its published split (370 test utterances); names -> sex is split 70/15/15
by name, stratified. Variants change one thing from the defaults (``lstm``, ``2layers``,
``mean``, ``attention``, ``bidirectional``, ``accuracy`` = best epoch by validation accuracy).
Writes ``bench/results/classify.json``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import common

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {}, "lstm": {"cell": "lstm"}, "2layers": {"num_layers": 2}, "mean": {"pooling": "mean"},
    "attention": {"pooling": "attention"}, "bidirectional": {"bidirectional": True},
    "accuracy": {"select_on": "accuracy"},
}


def one(dataset: str, seed: int, changes: dict[str, Any], epochs: int | None) -> dict[str, Any]:
    from rnnlab import pipeline
    from rnnlab.settings import RunConfig

    extra = {"epochs": epochs} if epochs else {}
    cfg = RunConfig.defaults("classify", dataset=dataset, seed=seed, **changes, **extra)
    ds = pipeline.load_data(cfg)
    t0 = time.perf_counter()
    run = pipeline.fit(ds, cfg)
    test = run.metrics["test"]
    return {"dataset": dataset, "seed": seed, "seconds_total": round(time.perf_counter() - t0, 2),
            "seconds_training": round(run.train_info["seconds"], 2), "epochs": len(run.history),
            "best_epoch": run.train_info["best_epoch"], "n_test": run.metrics["n_test_sequences"],
            **{f"{who}_{k}": round(v[k], 4) for who, v in test.items() for k in ("accuracy", "macro_f1")},
            "verdict": run.metrics["verdict"]}


def main(argv: list[str] | None = None) -> None:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--datasets", default="japanese-vowels,names-sex")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--variants", default="default")
    p.add_argument("--epochs", type=int, default=0, help="override the default maximum epochs (0: default)")
    args = p.parse_args(argv)
    threads = common.setup_threads(args.threads or None)
    started = time.perf_counter()
    rows, summary = [], []
    for dataset in args.datasets.split(","):
        for variant in args.variants.split(","):
            runs = [one(dataset, int(s), VARIANTS[variant], args.epochs or None) for s in args.seeds.split(",")]
            for r in runs:
                r["variant"] = variant
                print(r, flush=True)
            rows += runs
            summary.append({"dataset": dataset, "variant": variant, "seeds": len(runs), **{
                k: round(statistics.mean(r[k] for r in runs), 4) for k in (
                    "model_accuracy", "logistic_accuracy", "majority_accuracy", "model_macro_f1",
                    "logistic_macro_f1", "seconds_training")},
                "model_wins": sum(r["model_accuracy"] > r["logistic_accuracy"] for r in runs)})
    print(common.table(summary, title="classify: test accuracy (mean over seeds) vs baselines"))
    common.write_result("classify", {"threads": threads, "summary": summary, "runs": rows}, args.out, started)


if __name__ == "__main__":
    main()
