"""Command line: ``python -m rnnlab datasets | train | predict | export | runs | sweep | sample | backtest``.

``train`` has a flag for every setting of :class:`rnnlab.settings.RunConfig`, generated from
it (``python -m rnnlab train --help`` lists them by group). Errors a user can cause exit with
status 2 and one line on stderr (``error: ...``), never a traceback. Progress goes to stderr,
tables to stdout.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from rnnlab.errors import RnnlabError
from rnnlab.settings import GROUPS, SPECS, RunConfig, SettingSpec

EXIT_USER_ERROR = 2


class UsageError(RnnlabError):
    """A command-line argument that cannot work (before anything is computed)."""


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.{digits}g}"


def format_metrics_table(metrics: dict[str, Any], span: str = "test") -> str:
    """Plain-text table: rows model + baselines, columns metrics, plus skill vs naive."""
    from rnnlab.intervals import level_keys, level_label

    rows = metrics[span]
    names = ["mae", "rmse", "mape", "smape", "mase", "directional_accuracy", "r2"]
    heads = ["", "MAE", "RMSE", "MAPE%", "sMAPE%", "MASE", "DirAcc", "R2", "skill"]
    intervals = metrics.get("intervals") if span == "test" else None
    levels = level_keys(intervals) if isinstance(intervals, dict) else []
    heads += [f"cov{level_label(float(k))}%" for k in levels] + (["MSIS"] if levels else [])
    naive_rmse = rows["naive"]["rmse"]
    lines = []
    for who, m in rows.items():
        skill = 1 - m["rmse"] / naive_rmse if naive_rmse else float("nan")
        cells = [who] + [_fmt(m[k]) for k in names] + [_fmt(skill, 3)]
        if levels:
            cells += [_fmt(100 * intervals[k].get(who, {}).get("coverage", float("nan")), 3) for k in levels]
            cells.append(_fmt(intervals.get("msis", {}).get(who, float("nan"))))
        lines.append(cells)
    widths = [max(len(r[i]) for r in [heads, *lines]) for i in range(len(heads))]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(heads, widths)))]
    for r in lines:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


# ----------------------------------------------------------------------------- flags from the settings
def _value_parser(s: SettingSpec) -> Any:
    """argparse ``type`` for a setting: numbers (``auto`` for automatic ones), lists, text."""
    def parse(text: str) -> Any:
        if s.optional and text.strip().lower() == "auto":
            return None
        if s.kind is int:
            try:
                return int(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if s.kind is float:
            try:
                return float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if s.kind is list:
            return [v.strip() for v in text.split(",") if v.strip()]
        return text
    parse.__name__ = s.kind.__name__
    return parse


def _help(s: SettingSpec) -> str:
    default = "auto" if s.default is None else (",".join(s.default) or "none") if s.kind is list else s.default
    rule = s.rule()
    extra = f"; {rule}" if rule and not s.choices else ""
    return f"{s.help} (default: {default}{extra})".replace("%", "%%")


def add_setting_flags(parser: argparse.ArgumentParser, skip: Sequence[str] = ()) -> None:
    """One flag per setting (``--seq-len``; aliases such as ``--model`` for ``--cell``), grouped as
    the settings are. Flags not given stay out of the namespace, so the settings' defaults apply."""
    groups = {g: parser.add_argument_group(f"{g} settings") for g in GROUPS}
    for s in SPECS.values():
        if s.name in skip:
            continue
        flags = [s.flag, *("--" + a.replace("_", "-") for a in s.aliases)]
        kw: dict[str, Any] = dict(dest=s.name, default=argparse.SUPPRESS, help=_help(s))
        if s.kind is bool:
            kw["action"] = argparse.BooleanOptionalAction
        else:
            kw["type"] = _value_parser(s)
            if s.choices:
                kw["choices"] = s.choices
            kw["metavar"] = "{" + ",".join(s.choices) + "}" if s.choices else s.name.upper()
        groups[s.group].add_argument(*flags, **kw)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The RunConfig of the setting flags given (checked; defaults for the rest). A flag that the
    chosen task does not use is refused, so it cannot be silently ignored."""
    given = {name: getattr(args, name) for name in SPECS if hasattr(args, name)}
    task = given.pop("task", "forecast")
    cfg = RunConfig.defaults(task, **given)  # the task's own defaults where a flag is not given
    given["task"] = task
    unused = [SPECS[n].flag for n in given if not cfg.applies(n)]
    if unused:
        raise UsageError(f"{', '.join(unused)} do(es) not apply to --task {cfg.task}")
    return cfg


# ----------------------------------------------------------------------------- commands
def cmd_datasets(args: argparse.Namespace) -> int:
    from rnnlab.tasks import REGISTRY

    entries = [(task, e) for task, t in REGISTRY.items() for e in t.catalogue()]
    w = max(len(e.name) for _, e in entries)
    for task, e in entries:
        print(f"{e.name.ljust(w)}  {e.kind:<9} {e.size}  (--task {task})  {e.description}")
        print(f"{''.ljust(w)}  {e.detail}")
        print(f"{''.ljust(w)}  source: {e.source}; licence: {e.licence}")
    return 0


def check_out_folder(out: Path) -> None:
    """``--out`` must be writable and new, empty or an rnnlab run: checked before any training."""
    from rnnlab.runs import is_run_folder

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out '{out}' is a file; give a folder for the run")
    if out.is_dir() and any(out.iterdir()) and not is_run_folder(out):
        raise UsageError(f"--out '{out}' holds files that are not an rnnlab run; choose an empty or new folder "
                         f"(nothing was written)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=".rnnlab-write-check-", dir=out.parent)
        os.rmdir(probe)
    except OSError as exc:
        raise UsageError(f"cannot write the run to --out '{out}': {exc.strerror or exc}") from exc


def cmd_train(args: argparse.Namespace) -> int:
    from rnnlab.pipeline import load_data, prepare, train
    from rnnlab.runs import save_run
    from rnnlab.store import default_store, new_run_id
    from rnnlab.training import TrainEvent

    run_id = new_run_id()
    out = Path(args.out) if args.out else default_store().folder_for(run_id)  # default: a new run of the store
    cfg = config_from_args(args)
    check_out_folder(out)
    if cfg.task == "classify":
        from rnnlab import cli_classify

        return cli_classify.train(args, cfg, out, run_id)
    if cfg.task == "text":
        from rnnlab.cli_text import train_text

        return train_text(cfg, out, run_id, args.quiet)
    ds = load_data(cfg)
    prep = prepare(ds, cfg)
    c = prep.config
    err = sys.stderr
    print(f"data: {ds.name} ({len(prep.dataset.frame)} rows, freq {ds.freq or 'irregular'}), target {c.target}"
          f"{', features ' + ','.join(c.features) if c.features else ''}", file=err)
    for w in prep.warnings:
        print(f"warning: {w}", file=err)
    print(f"windows: seq_len={c.seq_len} horizon={c.horizon}; train {len(prep.train)}, val {len(prep.val)}, "
          f"test {len(prep.test)}; transform {prep.preprocessor.transform_} ({prep.preprocessor.transform_reason_})",
          file=err)
    print(f"model: {c.cell} hidden {c.hidden_size} x {c.num_layers} layers; epochs <= {c.epochs}, "
          f"batch {c.batch_size}, lr {c.lr:g}, seed {c.seed}", file=err)
    from rnnlab._platform import thread_choice, user_threads

    _, why = thread_choice()
    print(f"torch threads: {why}" + ("" if user_threads() else "; re-chosen between epochs from the load"), file=err)

    def progress(ev: TrainEvent) -> None:
        if ev.kind == "epoch" and not args.quiet:
            print(ev.epoch_line(), file=err)

    run = train(prep, callbacks=[progress])
    run.meta["id"] = run_id
    print("\n".join(run.ending_lines(len(prep.warnings))), file=err)  # how it ended; warnings training added
    print(f"test span: {run.metrics['n_test_windows']} windows x {c.horizon} steps, original units "
          f"(seasonal naive uses season {run.metrics['season']})")
    print(format_metrics_table(run.metrics))
    iv = run.metrics["intervals"]
    print(f"intervals: split conformal from {iv['n_calibration']} validation windows, {iv['method_reason']}; "
          f"cov = share of test targets inside the band, MSIS at 95 % (lower is better)")
    for key in (k for k in iv if k[:1].isdigit()):
        need = math.ceil(float(key) / (1 - float(key)) - 1e-9)
        if iv["n_calibration"] < need:
            print(f"note: no finite {float(key):.0%} band: {iv['n_calibration']} validation windows are too few "
                  f"(split conformal needs at least {need}); raise val_frac or lower the level")
    for note in run.metrics.get("peer_notes", []):
        print(f"note: {note}")
    ps = run.metrics["per_step"]
    print("RMSE by step: " + "  ".join(f"{k + 1}:{_fmt(m)}/{_fmt(n)}" for k, (m, n) in
                                      enumerate(zip(ps["model"]["rmse"], ps["naive"]["rmse"]))) + "  (model/naive)")
    path = save_run(run, out)
    print(f"run saved to {path}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from rnnlab.calendar import future_index
    from rnnlab.cli_store import resolve_run
    from rnnlab.data import load_dataset
    from rnnlab.intervals import level_label
    from rnnlab.runs import load_run
    from rnnlab.tasks.forecast import predict_original

    run = load_run(resolve_run(args.run))
    if run.task == "classify":
        from rnnlab import cli_classify

        return cli_classify.predict(run, args)
    pre = run.preprocessor
    ds = load_dataset(args.data, time_col=args.time_col, dayfirst=args.dayfirst).select(pre.target, pre.features)
    n = len(ds.frame)
    anchors = pre.valid_anchors(n, 0, n, need_targets=False)
    if len(anchors) == 0:
        raise UsageError(f"seq_len={pre.seq_len} needs at least {pre.min_anchor() + 1} rows, got {n}")
    w = pre.windows(ds.frame, anchors)
    pred = predict_original(run.model, pre, w)  # (n, h)
    if not np.isfinite(pred).all():
        bad = int((~np.isfinite(pred)).any(axis=1).sum())
        raise UsageError(f"the model's forecasts are not finite for {bad} of {len(w)} windows (the data is far "
                         f"outside what it was trained on, or the run is damaged); nothing was written")
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
    y = ds.frame[pre.target].to_numpy(np.float64)
    for level, (lo, hi) in run.predict_intervals(y, w, pred).items():  # conformal bounds of the run's calibration
        frame[f"lower_{level_label(level)}"] = lo.ravel()
        frame[f"upper_{level_label(level)}"] = hi.ravel()
    if ds.steps:  # no time column: row numbers (in file order), not the placeholder clock the windows use
        frame = frame.rename(columns={"anchor_time": "anchor_row", "target_time": "target_row"})
        frame["anchor_row"] = np.repeat(w.anchors, h)
        frame["target_row"] = rows.ravel()
    try:
        from rnnlab.jsonfiles import replace_file

        replace_file(args.out, frame.to_csv(index=False).encode("utf-8"))  # never through a link at --out
    except OSError as exc:
        raise UsageError(f"cannot write '{args.out}': {exc.strerror or exc}") from exc
    print(f"{len(w)} windows x {h} steps written to {args.out} (last {h} rows forecast beyond the data; "
          f"lower_/upper_ columns: conformal intervals, {run.interval_calibration().method})")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from rnnlab.cli_store import resolve_run
    from rnnlab.export import SUFFIX, TOLERANCE, export_run
    from rnnlab.runs import load_run

    folder = resolve_run(args.run)
    run = load_run(folder)
    out = Path(args.out) if args.out else folder / f"model{SUFFIX[args.format]}"
    export_run(run, args.format, out)
    print(f"{args.format} model written to {out} (checked against torch on the run's test inputs, "
          f"tolerance {TOLERANCE:g})")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error contract: one ``error: ...`` line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"error: {self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m rnnlab", description="Train, evaluate, inspect and export recurrent networks.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("datasets", help="list the offline built-in datasets").set_defaults(func=cmd_datasets)

    t = sub.add_parser("train", help="train a model and write a run folder",
                       description="Train a model; every setting has a flag (defaults: the app's defaults).")
    add_setting_flags(t)
    t.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    t.add_argument("--out", help="run folder to write (new, empty, or an rnnlab run to replace; default: a new "
                                 "folder in the run store, ./runs or $RNNLAB_HOME)")
    t.set_defaults(func=cmd_train)

    pr = sub.add_parser("predict", help="forecast every window of a dataset (classify: every sequence) with a saved run")
    pr.add_argument("--run", required=True, help="run folder, or a run id of the store (a unique prefix is enough)")
    pr.add_argument("--data", required=True)
    pr.add_argument("--time-col")
    pr.add_argument("--dayfirst", action=argparse.BooleanOptionalAction, default=None,
                    help="dates such as 01/02/2020 are day first (--no-dayfirst: month first; default: decided from the rows)")
    pr.add_argument("--id-col", help="classify runs: the CSV's sequence id column (default: the run's)")
    pr.add_argument("--target", help="classify runs: the CSV's label column (default: the run's)")
    pr.add_argument("--out", required=True, help="CSV file to write")
    pr.set_defaults(func=cmd_predict)

    ex = sub.add_parser("export", help="export a saved run's model to ONNX or TorchScript")
    ex.add_argument("--run", required=True, help="run folder, or a run id of the store (a unique prefix is enough)")
    ex.add_argument("--format", required=True, choices=["onnx", "torchscript"])
    ex.add_argument("--out", help="output file (default: RUN/model.onnx or RUN/model.pt)")
    ex.set_defaults(func=cmd_export)

    from rnnlab.cli_store import add_commands  # runs, sweep (handed the flag helpers: no import back)

    add_commands(sub, add_setting_flags, config_from_args)
    from rnnlab.cli_text import add_commands as add_text_commands  # sample

    add_text_commands(sub)

    from rnnlab.cli_backtest import add_command as add_backtest

    add_backtest(sub, add_setting_flags, config_from_args)
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
    except BrokenPipeError:  # e.g. `python -m rnnlab datasets | head -1`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
