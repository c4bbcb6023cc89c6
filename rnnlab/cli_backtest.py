"""``python -m rnnlab backtest --data NAME --origins 5 [--refit every|once|finetune]``: a rolling-origin
backtest (:mod:`rnnlab.backtest`) with a table per origin and the mean, spread and rank."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _f(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:,.1f}" if abs(v) >= 1000 else f"{v:.4g}"


def cmd_backtest(args: argparse.Namespace, config_from_args: Callable[[argparse.Namespace], Any]) -> int:
    from rnnlab.backtest import backtest
    from rnnlab.pipeline import load_data

    if getattr(args, "refit_mode", None):
        args.backtest_refit = args.refit_mode
    cfg = config_from_args(args)
    ds = load_data(cfg)
    err = sys.stderr
    print(f"backtest: {ds.name}, {args.origins} origins, refit {cfg.backtest_refit}", file=err)

    def progress(o: Any, k: int) -> None:
        print(f"origin {o.index + 1}/{k} at {o.time}: train {o.train_rows}, val {o.val_rows}, test {o.test_rows} rows; "
              f"model RMSE {_f(o.scores['model']['rmse'])} (rank {o.rank}), {o.seconds:.1f}s", file=err)

    res = backtest(ds, cfg, args.origins, cfg.backtest_refit, on_origin=progress)
    who = list(res.origins[0].scores)
    heads = ["origin", "time", *who, "model rank"]
    rows = [[str(o.index + 1), o.time[:16], *(_f(o.scores[w]["rmse"]) for w in who), str(o.rank)] for o in res.origins]
    summ = res.summary()
    rows.append(["mean", "", *(_f(summ[w]["rmse_mean"]) for w in who), f"{summ['model']['rank_mean']:.2g}"])
    rows.append(["std", "", *(_f(summ[w]["rmse_std"]) for w in who), ""])
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(len(heads))]
    print("test RMSE by origin (original units)")
    for r in [heads, *rows]:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res.to_dict(), indent=1))
        print(f"written to {args.json}")
    return 0


def add_command(sub: Any, add_setting_flags: Callable[..., None],
                config_from_args: Callable[[argparse.Namespace], Any]) -> None:
    b = sub.add_parser("backtest", help="rolling-origin backtest: train at k origins, score the model and baselines",
                       description="Rolling-origin backtest; every setting has a flag as for train.")
    add_setting_flags(b)
    b.add_argument("--origins", type=int, default=5, help="number of origins over the test share (default 5)")
    b.add_argument("--refit", dest="refit_mode", choices=["every", "once", "finetune"],
                   help="short for --backtest-refit")
    b.add_argument("--json", help="also write the per-origin results to this JSON file")
    b.set_defaults(func=lambda a: cmd_backtest(a, config_from_args))
