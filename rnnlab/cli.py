"""Command line: ``python -m rnnlab datasets | train | predict | export``.

Errors a user can cause exit with status 2 and one line on stderr (``error: ...``), never a
traceback. Progress goes to stderr, tables to stdout.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import NoReturn, Sequence

from rnnlab.errors import RnnlabError

EXIT_USER_ERROR = 2


def _fmt(value: float, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.{digits}g}"


def format_metrics_table(metrics: dict, span: str = "test") -> str:
    """Plain-text table: rows model + baselines, columns metrics, plus skill vs naive."""
    rows = metrics[span]
    names = ["mae", "rmse", "mape", "smape", "mase", "directional_accuracy", "r2"]
    heads = ["", "MAE", "RMSE", "MAPE%", "sMAPE%", "MASE", "DirAcc", "R2", "skill"]
    naive_rmse = rows["naive"]["rmse"]
    lines = []
    for who, m in rows.items():
        skill = 1 - m["rmse"] / naive_rmse if naive_rmse else float("nan")
        lines.append([who] + [_fmt(m[k]) for k in names] + [_fmt(skill, 3)])
    widths = [max(len(r[i]) for r in [heads, *lines]) for i in range(len(heads))]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(heads, widths)))]
    for r in lines:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def cmd_datasets(args: argparse.Namespace) -> int:
    from rnnlab.data import list_datasets

    infos = list_datasets()
    w = max(len(i.name) for i in infos)
    for i in infos:
        print(f"{i.name.ljust(w)}  {i.frequency:<8} {i.rows:>6} rows  target={i.target:<10} {i.description}")
        print(f"{''.ljust(w)}  columns: {', '.join(i.columns)}")
        print(f"{''.ljust(w)}  source: {i.source}; licence: {i.licence}")
    return 0


def _config_from_args(args: argparse.Namespace) -> "RunConfig":  # noqa: F821
    from rnnlab.config import RunConfig
    from rnnlab.preprocessing import as_sequence

    cfg = RunConfig(
        dataset=args.data,
        target=args.target,
        features=as_sequence(args.features),
        time_col=args.time_col,
        seq_len=args.seq_len,
        horizon=args.horizon,
        train_frac=args.train_frac,
        val_frac=args.val_frac,
        scaling=args.scaling,
        transform=args.transform,
        season=args.season,
        cell=args.model,
        hidden_size=args.hidden,
        num_layers=args.layers,
        dropout=args.dropout,
        bidirectional=args.bidirectional,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        patience=args.patience,
        seed=args.seed,
    )
    return cfg


def cmd_train(args: argparse.Namespace) -> int:
    from rnnlab.data import load_dataset
    from rnnlab.pipeline import prepare, train
    from rnnlab.runs import save_run
    from rnnlab.training import TrainEvent

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise_user(f"--out '{out}' is a file; give a folder for the run")
    try:  # an unusable --out fails now, not after minutes of training
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise_user(f"cannot create the folder for --out '{out}': {exc.strerror or exc}")
    ds = load_dataset(args.data, time_col=args.time_col)
    cfg = _config_from_args(args)
    prep = prepare(ds, cfg)
    c = prep.config
    err = sys.stderr
    print(f"data: {ds.name} ({len(prep.dataset.frame)} rows, freq {ds.freq or 'irregular'}), target {c.target}"
          f"{', features ' + ','.join(c.features) if c.features else ''}", file=err)
    for w in prep.warnings:
        print(f"warning: {w}", file=err)
    print(f"windows: seq_len={c.seq_len} horizon={c.horizon}; train {len(prep.train)}, val {len(prep.val)}, "
          f"test {len(prep.test)}; transform {prep.preprocessor.transform_} ({prep.preprocessor.transform_reason_})", file=err)
    print(f"model: {c.cell} hidden {c.hidden_size} x {c.num_layers} layers; epochs <= {c.epochs}, batch {c.batch_size}, "
          f"lr {c.lr:g}, seed {c.seed}", file=err)

    def progress(ev: TrainEvent) -> None:
        if ev.kind == "epoch" and not args.quiet:
            star = " *" if ev.best_epoch == ev.epoch else ""
            print(f"epoch {ev.epoch:3d}/{ev.epochs}  train {ev.loss:.4f}  val {ev.val_loss:.4f}  "
                  f"lr {ev.lr:.2g}  {ev.elapsed:5.1f}s{star}", file=err)

    run = train(prep, callbacks=[progress])
    print(f"{run.train_info['message']} ({run.train_info['seconds']:.1f}s)", file=err)
    for w in run.meta.get("warnings", [])[len(prep.warnings):]:
        print(f"warning: {w}", file=err)
    print(f"test span: {run.metrics['n_test_windows']} windows x {c.horizon} steps, original units "
          f"(seasonal naive uses season {run.metrics['season']})")
    print(format_metrics_table(run.metrics))
    ps = run.metrics["per_step"]
    print("RMSE by step: " + "  ".join(f"{k + 1}:{_fmt(m)}/{_fmt(n)}" for k, (m, n) in
                                      enumerate(zip(ps["model"]["rmse"], ps["naive"]["rmse"]))) + "  (model/naive)")
    path = save_run(run, out)
    print(f"run saved to {path}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from rnnlab.data import load_dataset
    from rnnlab.pipeline import future_index, predict_original
    from rnnlab.runs import load_run

    run = load_run(args.run)
    pre = run.preprocessor
    ds = load_dataset(args.data, time_col=args.time_col).select(pre.target, pre.features)
    n = len(ds.frame)
    anchors = pre.valid_anchors(n, 0, n, need_targets=False)
    if len(anchors) == 0:
        raise_user(f"seq_len={pre.seq_len} needs at least {pre.min_anchor() + 1} rows, got {n}")
    w = pre.windows(ds.frame, anchors)
    pred = predict_original(run.model, pre, w)  # (n, h)
    h = pre.horizon
    idx = ds.frame.index
    times = idx.append(future_index(idx, h))
    rows = w.anchors[:, None] + np.arange(1, h + 1)[None, :]
    frame = pd.DataFrame({
        "anchor_time": np.repeat(idx[w.anchors].to_numpy(), h),
        "target_time": times[rows.ravel()].to_numpy(),
        "step": np.tile(np.arange(1, h + 1), len(w)),
        "prediction": pred.ravel(),
        "actual": w.y_true.ravel(),
    })
    try:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out, index=False)
    except OSError as exc:
        raise_user(f"cannot write '{args.out}': {exc.strerror or exc}")
    print(f"{len(w)} windows x {h} steps written to {args.out} (last {h} rows forecast beyond the data)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from rnnlab.export import SUFFIX, export_model
    from rnnlab.runs import load_run

    run = load_run(args.run)
    out = Path(args.out) if args.out else Path(args.run) / f"model{SUFFIX[args.format]}"
    check = run.prepared().test.X[:64]
    export_model(run.model, run.preprocessor.seq_len, args.format, out, check=check)
    print(f"{args.format} model written to {out} (checked against torch on {len(check)} test windows, tolerance 1e-4)")
    return 0


class _UserError(RnnlabError):
    pass


def raise_user(message: str) -> None:
    raise _UserError(message)


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error contract: one ``error: ...`` line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"error: {self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from rnnlab.config import RunConfig

    d = RunConfig()
    p = _Parser(prog="python -m rnnlab", description="Train, evaluate and export recurrent forecasters.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("datasets", help="list the offline built-in datasets").set_defaults(func=cmd_datasets)

    t = sub.add_parser("train", help="train a model and write a run folder")
    t.add_argument("--data", required=True, help="built-in name, CSV path, or yf:TICKER[:START[:END]]")
    t.add_argument("--target", help="column to forecast (default: the dataset's default)")
    t.add_argument("--features", help="extra input columns, comma separated")
    t.add_argument("--time-col", help="CSV time column (default: auto-detect)")
    t.add_argument("--model", default=d.cell, choices=["lstm", "gru", "rnn"])
    t.add_argument("--seq-len", type=int, help="input steps per window (default: by frequency)")
    t.add_argument("--horizon", type=int, help="steps forecast at once (default: by frequency)")
    t.add_argument("--hidden", type=int, default=d.hidden_size)
    t.add_argument("--layers", type=int, default=d.num_layers)
    t.add_argument("--dropout", type=float, default=d.dropout)
    t.add_argument("--bidirectional", action="store_true")
    t.add_argument("--epochs", type=int, default=d.epochs)
    t.add_argument("--batch-size", type=int, default=d.batch_size)
    t.add_argument("--lr", type=float, default=d.lr)
    t.add_argument("--weight-decay", type=float, default=d.weight_decay)
    t.add_argument("--patience", type=int, default=d.patience)
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--scaling", default=d.scaling, choices=["standard", "minmax", "none"])
    t.add_argument("--transform", default=d.transform, choices=["auto", "level", "diff", "log_return"])
    t.add_argument("--season", type=int, help="season length for the seasonal-naive baseline (default: by frequency)")
    t.add_argument("--train-frac", type=float, default=d.train_frac)
    t.add_argument("--val-frac", type=float, default=d.val_frac)
    t.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    t.add_argument("--out", required=True, help="run folder to write")
    t.set_defaults(func=cmd_train)

    pr = sub.add_parser("predict", help="forecast every window of a dataset with a saved run")
    pr.add_argument("--run", required=True)
    pr.add_argument("--data", required=True)
    pr.add_argument("--time-col")
    pr.add_argument("--out", required=True, help="CSV file to write")
    pr.set_defaults(func=cmd_predict)

    ex = sub.add_parser("export", help="export a saved run's model to ONNX or TorchScript")
    ex.add_argument("--run", required=True)
    ex.add_argument("--format", required=True, choices=["onnx", "torchscript"])
    ex.add_argument("--out", help="output file (default: RUN/model.onnx or RUN/model.pt)")
    ex.set_defaults(func=cmd_export)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, one line already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    try:
        return int(args.func(args))
    except RnnlabError as exc:  # one line, even when the message quotes a multi-line library error
        print("error: " + " ".join(str(exc).split("\n")), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
