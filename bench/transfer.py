"""Does transfer learning help? Train on one series, fine-tune on a related one with little data.

    python -m bench.transfer [--case series|text] [--seeds 3] [--shares 0.05,0.2,1.0] [--quick]

Source: the default model trained on ``sf-temps`` (one per seed). Target: ``seattle-temps``, the
same hourly temperatures of another city, with only the most recent 5 %, 20 % or 100 % of its
training span kept (validation and test spans are always the same rows). On each, the default
model is trained from scratch, fine-tuned from the source run (every layer), and fine-tuned with
the recurrent layers frozen (the head only). Test RMSE at step 1 and at the last step, beside
naive and the linear AR on the same windows. A fourth start, from scratch but with the source's
target transform, separates what the weights add from what the transform choice adds. Writes ``bench/results/transfer.json``.

``--case text``: the default character model trained on ``shakespeare-small``, fine-tuned on
``python-docs`` (code-like text: brackets, indentation, other words) with the last 5 %, 20 % or
100 % of its training text kept (validation and test text fixed); from scratch, fine-tuned, and
with the recurrent layers frozen (the embedding still learns the new characters). Test bits per
character beside the unigram and trigram baselines. Writes ``bench/results/transfer-text.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common

SOURCE, TARGET = "sf-temps", "seattle-temps"
TRAIN_FRAC, VAL_FRAC = 0.7, 0.15  # the defaults: the spans every share keeps for validation and test
TEXT_SOURCE, TEXT_TARGET = "shakespeare-small", "python-docs"
TEXT_TRAIN_FRAC, TEXT_VAL_FRAC = 0.9, 0.05  # the text task's defaults


def target_subset(share: float) -> tuple[Any, float, float]:
    """The target series with only the last ``share`` of its training rows, and the fractions that
    keep the validation and test spans the same rows as with all of them."""
    from dataclasses import replace

    from rnnlab.data import load_dataset

    ds = load_dataset(TARGET)
    n = len(ds.frame)
    n_train, n_val = round(n * TRAIN_FRAC), round(n * (TRAIN_FRAC + VAL_FRAC)) - round(n * TRAIN_FRAC)
    keep = max(1, round(n_train * share))
    frame = ds.frame.iloc[n_train - keep:]
    m = len(frame)
    return replace(ds, frame=frame), keep / m, n_val / m


def text_subset(share: float) -> tuple[Any, float, float]:
    """The target corpus with only the last ``share`` of its training text, and the fractions that
    keep its validation and test text the same characters as with all of it."""
    from dataclasses import replace

    from rnnlab.corpora import load_corpus

    corpus = load_corpus(TEXT_TARGET)
    n = len(corpus.text)
    a, b = int(n * TEXT_TRAIN_FRAC), int(n * (TEXT_TRAIN_FRAC + TEXT_VAL_FRAC))
    keep = max(1, round(a * share))
    text = corpus.text[a - keep:]
    m = len(text)
    return replace(corpus, text=text), (keep + 0.5) / m, (b - a) / m  # +0.5: int() lands on the same character


def text_case(seeds: int, shares: list[float], extra: dict[str, Any]) -> dict[str, Any]:
    from rnnlab import pipeline
    from rnnlab.corpora import load_corpus
    from rnnlab.runs import save_run
    from rnnlab.settings import RunConfig

    rows: list[dict[str, Any]] = []
    modes = (("scratch", {}), ("fine-tune", {"init_from": None}), ("head only", {"init_from": None, "freeze": "recurrent"}))
    with tempfile.TemporaryDirectory(prefix="rnnlab-transfer-text-") as tmp:
        for seed in range(seeds):
            src = pipeline.fit(load_corpus(TEXT_SOURCE), RunConfig.defaults("text", dataset=TEXT_SOURCE, seed=seed, **extra))
            folder = save_run(src, Path(tmp) / f"src{seed}")
            for share in shares:
                corpus, tf, vf = text_subset(share)
                base = RunConfig.defaults("text", dataset=TEXT_TARGET, seed=seed, train_frac=tf, val_frac=vf, **extra)
                for mode, kw in modes:
                    kw = {k: (str(folder) if k == "init_from" else v) for k, v in kw.items()}
                    t = time.perf_counter()
                    run = pipeline.fit(corpus, base.replace(**kw))
                    test = run.metrics["test"]
                    rows.append({"share": share, "seed": seed, "mode": mode, "epochs": len(run.history),
                                 "train_chars": len(run.prepared().train.text),
                                 "seconds": round(time.perf_counter() - t, 1),
                                 **{f"{who}_bits": test[who]["bits_per_char"] for who in ("model", "unigram", "ngram")},
                                 "model_top1": test["model"]["accuracy"]})
                    print(f"share {share:.0%} seed {seed} {mode:10s}: {rows[-1]['model_bits']:.3f} bits/char "
                          f"(trigram {rows[-1]['ngram_bits']:.3f}; {rows[-1]['seconds']} s)", flush=True)
    table = []
    for share in shares:
        for mode, _ in modes:
            sel = [r for r in rows if r["share"] == share and r["mode"] == mode]
            bits = [r["model_bits"] for r in sel]
            table.append({"training share": f"{share:.0%}", "characters": sel[0]["train_chars"], "start": mode,
                          "bits/char": f"{statistics.mean(bits):.3f} ± {statistics.pstdev(bits):.3f}",
                          "unigram": f"{sel[0]['unigram_bits']:.3f}", "trigram": f"{sel[0]['ngram_bits']:.3f}"})
    print(common.table(table, title=f"Transfer {TEXT_SOURCE} -> {TEXT_TARGET}, default text model, {seeds} seed(s), "
                                    "test bits/char"))
    return {"source": TEXT_SOURCE, "target": TEXT_TARGET, "seeds": seeds, "rows": rows, "table": table}


def score(run: Any) -> dict[str, float]:
    ps = run.metrics["per_step"]
    return {f"{who}_{k}": ps[who]["rmse"][i] for who in ("model", "naive", "linear") for k, i in (("1", 0), ("H", -1))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--shares", default="0.05,0.2,1.0")
    ap.add_argument("--case", choices=("series", "text"), default="series")
    ap.add_argument("--quick", action="store_true", help="1 seed, 5 %% only, 5 epochs (text: 1 epoch)")
    args = ap.parse_args(argv)
    common.setup_threads()
    if args.case == "text":
        t0 = time.perf_counter()
        payload = text_case(1 if args.quick else args.seeds, [0.05] if args.quick else
                            [float(s) for s in args.shares.split(",")], {"epochs": 1} if args.quick else {})
        common.write_result("transfer-text", payload, started=t0, benchmark="transfer")
        return 0
    from rnnlab import pipeline
    from rnnlab.data import load_dataset
    from rnnlab.runs import save_run
    from rnnlab.settings import RunConfig

    seeds = 1 if args.quick else args.seeds
    shares = [0.05] if args.quick else [float(s) for s in args.shares.split(",")]
    extra = {"epochs": 5} if args.quick else {}
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="rnnlab-transfer-") as tmp:
        for seed in range(seeds):
            src = pipeline.fit(load_dataset(SOURCE), RunConfig(dataset=SOURCE, seed=seed, **extra))
            folder = save_run(src, Path(tmp) / f"src{seed}")
            for share in shares:
                ds, tf, vf = target_subset(share)
                base = RunConfig(dataset=TARGET, seed=seed, train_frac=tf, val_frac=vf, **extra)
                # "scratch, same transform": from scratch, but modelled the way the source is (a short span
                # alone can look stationary to auto): what the weights add beyond the transform
                for mode, kw in (("scratch", {}), ("scratch, same transform", {"transform": src.preprocessor.transform_}),
                                 ("fine-tune", {"init_from": str(folder)}),
                                 ("head only", {"init_from": str(folder), "freeze": "recurrent"})):
                    t = time.perf_counter()
                    run = pipeline.fit(ds, base.replace(**kw))
                    rows.append({"share": share, "seed": seed, "mode": mode, "epochs": len(run.history),
                                 "train_windows": run.train_info.get("n_train_windows"),
                                 "seconds": round(time.perf_counter() - t, 1), **score(run)})
                    print(f"share {share:.0%} seed {seed} {mode:23s}: step 1 {rows[-1]['model_1']:.4f}, "
                          f"step H {rows[-1]['model_H']:.4f} ({rows[-1]['seconds']} s)", flush=True)
    table = []
    for share in shares:
        for mode in ("scratch", "scratch, same transform", "fine-tune", "head only"):
            sel = [r for r in rows if r["share"] == share and r["mode"] == mode]
            agg = {k: (statistics.mean(r[k] for r in sel), statistics.pstdev(r[k] for r in sel))
                   for k in ("model_1", "model_H")}
            table.append({"training share": f"{share:.0%}", "windows": sel[0]["train_windows"], "start": mode,
                          "RMSE step 1": f"{agg['model_1'][0]:.4f} ± {agg['model_1'][1]:.4f}",
                          "RMSE step H": f"{agg['model_H'][0]:.4f} ± {agg['model_H'][1]:.4f}",
                          "naive 1 / H": f"{sel[0]['naive_1']:.4f} / {sel[0]['naive_H']:.4f}",
                          "linear 1 / H": f"{sel[0]['linear_1']:.4f} / {sel[0]['linear_H']:.4f}"})
    print(common.table(table, title=f"Transfer {SOURCE} -> {TARGET}, default model, {seeds} seed(s), test RMSE (°F)"))
    common.write_result("transfer", {"source": SOURCE, "target": TARGET, "seeds": seeds, "rows": rows, "table": table},
                        started=t0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
