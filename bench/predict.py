"""Batched prediction and hidden-state extraction vs a window-by-window loop.

A synthetic 10,000-step daily series (trend + weekly and yearly seasons + AR(1) noise,
seeded) goes through ``pipeline.prepare`` (seq_len 60, 1-step target); every complete
window of the series (about 9,940) is then scored with the reference model (LSTM 64 x 2):

* ``forecast.predict_scaled(model, X)``: all windows, batched in chunks of 2048;
* ``forecast.hidden_states(model, X)``: the top layer's state at every step of every window;
* the same two done window by window (``model(X[i:i+1])`` in a loop, under ``no_grad``):
  timed on an evenly spaced sample of windows (``--loop-sample``, default 1000) and
  extrapolated to all windows, which the table says.

Variants alternate in one process; medians of ``--reps`` rounds.

    python -m bench.predict [--reps 3] [--rows 10000] [--loop-sample 1000] [--cells lstm,gru,rnn]
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench import common


def synthetic_dataset(rows: int = 10_000, seed: int = 0):
    """A 10k-step daily series with trend, weekly and yearly seasons and AR(1) noise."""
    import pandas as pd

    from rnnlab.data import Dataset

    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    noise = np.zeros(rows)
    eps = rng.standard_normal(rows)
    for i in range(1, rows):
        noise[i] = 0.7 * noise[i - 1] + eps[i]
    y = 50 + 0.002 * t + 5 * np.sin(2 * np.pi * t / 365.25) + 2 * np.sin(2 * np.pi * t / 7) + noise
    index = pd.date_range("1990-01-01", periods=rows, freq="D", name="time")
    frame = pd.DataFrame({"y": y}, index=index)
    return Dataset(name=f"synthetic-{rows}", frame=frame, target="y", freq="D",
                   description="synthetic daily series for benchmarks")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--seq-len", type=int, default=60)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--loop-sample", type=int, default=1000, help="windows timed one by one (extrapolated)")
    p.add_argument("--cells", default="lstm")
    args = p.parse_args(argv)
    started = time.perf_counter()
    threads = common.setup_threads(args.threads)

    import torch

    from rnnlab import pipeline
    from rnnlab.models import build_model
    from rnnlab.settings import RunConfig
    from rnnlab.tasks import forecast
    from rnnlab.tasks.forecast import FORECAST
    from rnnlab.training import seed_everything

    ds = synthetic_dataset(args.rows)
    rows, out = [], []
    for cell in [c.strip() for c in args.cells.split(",") if c.strip()]:
        prep = pipeline.prepare(ds, RunConfig(dataset=ds.name, seq_len=args.seq_len, horizon=1, cell=cell,
                                              hidden_size=args.hidden, num_layers=2))
        pre = prep.preprocessor
        anchors = pre.valid_anchors(len(prep.dataset.frame))
        X = pre.windows(prep.dataset.frame, anchors, prep.inputs).X
        Xt = torch.from_numpy(X)
        n = len(X)
        seed_everything(0)
        model = build_model(prep.config, FORECAST.model_shape(prep)).eval()
        sample = np.unique(np.linspace(0, n - 1, min(n, args.loop_sample)).astype(int))
        results: dict[str, Any] = {}

        def batched_predict() -> None:
            results["pred"] = forecast.predict_scaled(model, X)

        def batched_hidden() -> None:
            results["hidden_shape"] = forecast.hidden_states(model, X).shape

        @torch.no_grad()
        def loop_predict() -> float:
            t = time.perf_counter()
            outs = [model(Xt[i : i + 1])[0] for i in sample]
            results["loop_pred"] = torch.cat(outs).numpy()
            return (time.perf_counter() - t) * n / len(sample)

        @torch.no_grad()
        def loop_hidden() -> float:
            t = time.perf_counter()
            outs = [model(Xt[i : i + 1])[1].numpy() for i in sample]
            results["loop_hidden_n"] = len(outs)
            return (time.perf_counter() - t) * n / len(sample)

        print(f"-- {cell} hidden {args.hidden} x 2: {n} windows of {args.seq_len} steps "
              f"(loop timed on {len(sample)} windows, extrapolated)", flush=True)
        t = common.interleave({"batched_predict": batched_predict, "loop_predict": loop_predict,
                               "batched_hidden": batched_hidden, "loop_hidden": loop_hidden}, reps=args.reps)
        max_diff = float(np.max(np.abs(results["pred"][sample, 0] - results["loop_pred"][:, 0])))
        r = {
            "cell": cell, "hidden": args.hidden, "layers": 2, "windows": n, "seq_len": args.seq_len,
            "loop_sample": len(sample),
            "batched_predict_s": common.summary(t["batched_predict"]), "loop_predict_s": common.summary(t["loop_predict"]),
            "batched_hidden_s": common.summary(t["batched_hidden"]), "loop_hidden_s": common.summary(t["loop_hidden"]),
            "predict_speedup": common.median(common.paired_ratios(t["loop_predict"], t["batched_predict"])),
            "hidden_speedup": common.median(common.paired_ratios(t["loop_hidden"], t["batched_hidden"])),
            "hidden_states_shape": list(results["hidden_shape"]),
            "hidden_states_mib": float(np.prod(results["hidden_shape"]) * 4 / 1024**2),
            "max_abs_diff_batched_vs_loop": max_diff,
        }
        out.append(r)
        rows.append({"cell": cell, "windows": n, "batched predict s": r["batched_predict_s"]["median"],
                     "loop predict s*": r["loop_predict_s"]["median"], "speedup": r["predict_speedup"],
                     "batched hidden s": r["batched_hidden_s"]["median"],
                     "loop hidden s*": r["loop_hidden_s"]["median"], "hidden speedup": r["hidden_speedup"],
                     "states MiB": r["hidden_states_mib"]})
    print()
    print(common.table(rows, title=f"Prediction over all windows of a {args.rows}-step series (medians of {args.reps} "
                                   f"rounds, {threads} torch threads; * loop extrapolated from {args.loop_sample} windows)"))
    payload = {"threads": threads, "reps": args.reps, "series_rows": args.rows, "results": out,
               "notes": "batched = pipeline.predict_scaled / pipeline.hidden_states (chunks of 2048 windows); "
                        "loop = model(X[i:i+1]) per window under no_grad, timed on loop_sample evenly spaced windows "
                        "and scaled to all windows; speedup = loop / batched (median of per-round ratios)."}
    common.write_result("predict", payload, args.out, started)
    return payload


if __name__ == "__main__":
    main()
