"""The store's and the sweeps' commands: ``python -m rnnlab runs [--json]`` and ``python -m rnnlab sweep``.

Registered by :func:`rnnlab.cli.build_parser` (which hands over its setting-flag helpers, so
this module does not import the CLI module back). Same contract as the rest of the CLI: user
errors are one ``error: ...`` line and exit status 2, progress on stderr, results on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from typing import Any

from rnnlab.errors import ConfigError
from rnnlab.settings import SPECS, RunConfig
from rnnlab.store import RunEntry, RunStore, default_store, resolve_run_folder

resolve_run = resolve_run_folder  # ``--run`` as a folder path, else as a run id of the store


# ----------------------------------------------------------------------------- runs
def _score(e: RunEntry) -> str:
    if "test" in e.withheld:
        v = e.metric("rmse", "val") if e.summary.get("val") else e.sweep.get("value", float("nan"))
        return f"val {v:.4g}" if isinstance(v, float) and math.isfinite(v) else "test not scored"
    for key, unit in (("bits_per_char", "bits/char"), ("bits_per_word", "bits/word")):  # a text run
        if math.isfinite(e.metric(key)):
            return f"{e.metric(key):.3f} {unit} (n-gram {e.metric(key, who='ngram'):.3f})"
    rmse, naive = e.metric("rmse"), e.metric("rmse", who="naive")
    if math.isfinite(rmse):
        return f"RMSE {rmse:.4g} (naive {naive:.4g})" if math.isfinite(naive) else f"RMSE {rmse:.4g}"
    acc, lr = e.metric("accuracy"), e.metric("accuracy", who="logistic")  # a classifier
    if math.isfinite(acc):
        return f"accuracy {acc:.3f} (logistic {lr:.3f})" if math.isfinite(lr) else f"accuracy {acc:.3f}"
    return "–"


def cmd_runs(args: argparse.Namespace) -> int:
    store = default_store()
    entries = store.list()
    for w in store.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.json:
        print(json.dumps({"store": str(store.root), "runs": [e.to_dict() for e in entries],
                          "warnings": store.warnings}, indent=2, default=str))
        return 0
    if not entries:
        print(f"no runs in the store {store.root} (train one: python -m rnnlab train)", file=sys.stderr)
        return 0
    rows = [(e.id, e.created.replace("T", " ")[:16], e.task, f"{e.dataset}/{e.target}" if e.target else e.dataset,
             e.model, e.status + (f" ({e.epochs} ep)" if e.epochs else ""), _score(e),
             e.name + (f" [{', '.join(e.tags)}]" if e.tags else "")) for e in entries]
    heads = ("id", "created", "task", "data", "model", "status", "score", "name [tags]")
    widths = [max(len(str(r[i])) for r in (heads, *rows)) for i in range(len(heads))]
    for r in (heads, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    print(f"{len(entries)} run{'s' if len(entries) != 1 else ''} in {store.root}", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------- sweep
def _sweep_spec(args: argparse.Namespace, base: RunConfig, data: Any, store: RunStore) -> Any:
    from rnnlab.sweep import SweepSpec, default_params, default_space, load_space, searched

    given = {name for name in SPECS if hasattr(args, name)}
    if args.space:
        space = load_space(args.space, base.task)
        resolved: dict[str, Any] = {}
    else:
        space, resolved = default_space(data, base)
    clash = sorted(given & set(searched(space)) - {"dataset", "target", "task"})
    if clash and args.space:
        raise ConfigError(f"{', '.join(SPECS[n].flag for n in clash)} fix(es) a setting the space file searches; "
                          f"drop the flag or the entry")
    space = {k: v for k, v in space.items() if k not in given}
    defaults = default_params(space, base, resolved) if not args.space else None
    storage = args.storage or store.sweeps_url()
    return SweepSpec(base, space, storage=storage, study=args.study or "", trials=args.trials,
                     timeout=args.timeout * 60 if args.timeout else None, pruner=args.pruner,
                     heartbeat=args.heartbeat, sampler_seed=args.sampler_seed, defaults=defaults)


def cmd_sweep(args: argparse.Namespace, config_from_args: Callable[[argparse.Namespace], RunConfig]) -> int:
    from rnnlab.pipeline import load_data
    from rnnlab.sweep import Worker, format_report, redact, score_test, searched, summarize, to_toml

    err = sys.stderr
    store = default_store()
    base = config_from_args(args)
    data = load_data(base)
    spec = _sweep_spec(args, base, data, store)
    if args.print_space:
        print(to_toml(spec.space), end="")
        return 0
    print(f"sweep {spec.study!r} in {redact(spec.storage)}: {spec.trials} trials in all"
          f"{f', this worker for at most {args.timeout:g} min' if args.timeout else ''}; pruner {spec.pruner}; "
          f"runs go to {store.root}", file=err)
    print("searching: " + "; ".join(f"{k} {p.describe()}" for k, p in searched(spec.space).items()), file=err)
    t0 = time.monotonic()

    def on_trial(trial: Any) -> None:
        if args.quiet:
            return
        u = trial.user_attrs
        value = f"{trial.value:.4g}" if trial.value is not None else "–"
        extra = (f"pruned after epoch {u.get('pruned_at')}" if trial.state.name == "PRUNED"
                 else f"{u.get('epochs', 0)} epochs" if trial.state.name == "COMPLETE"
                 else str(trial.system_attrs.get("fail_reason", "")).splitlines()[0][:120] if trial.system_attrs else "")
        params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
        print(f"trial {trial.number:3d} {trial.state.name.lower():8s} value {value:>8s}  {extra}  ({params})  "
              f"{time.monotonic() - t0:6.0f}s", file=err)

    worker = Worker(data, spec, store, on_trial=on_trial)
    try:
        study = worker.run()
    except KeyboardInterrupt:
        print("interrupted: the running trial is marked failed; the finished trials and their runs stay", file=err)
        raise
    summary = summarize(study)
    score_test(summary, store)
    print(f"this worker trained {len(worker.ran)} trial(s) in {time.monotonic() - t0:.0f} s", file=err)
    if args.json:
        print(json.dumps({**summary.to_dict(), "worker_trials": worker.ran, "storage": redact(spec.storage)},
                         indent=2, default=str))
    else:
        print(format_report(summary))
    return 0


def add_commands(sub: Any, add_setting_flags: Callable[..., None],
                 config_from_args: Callable[[argparse.Namespace], RunConfig]) -> None:
    """Add ``runs`` and ``sweep`` to the CLI's subparsers."""
    r = sub.add_parser("runs", help="list the run store (./runs or $RNNLAB_HOME)",
                       description="List the runs of the store, newest first (config.json only; no weights are read).")
    r.add_argument("--json", action="store_true", help="one JSON document for scripts")
    r.set_defaults(func=cmd_runs)

    from rnnlab.sweep.study import GRACE, HEARTBEAT, PRUNERS

    s = sub.add_parser("sweep", help="search settings with Optuna; every trial is a run in the store",
                       description="Search settings with Optuna, minimising the validation score; the test span is "
                                   "scored once, for the best trial. Setting flags fix a setting for every trial "
                                   "(and take it out of the space). Every worker of a study runs the same command.")
    add_setting_flags(s)
    s.add_argument("--trials", type=int, default=40, help="finished trials the study should have, all workers "
                                                          "together (default: 40)")
    s.add_argument("--timeout", type=float, help="minutes after which this worker starts no new trial")
    s.add_argument("--study", help="study name (default: <task>-<dataset>-<target>); the same name continues it")
    s.add_argument("--storage", help="Optuna storage URL (default: sqlite:///<store>/sweeps.db; many machines: "
                                     "postgresql://user:password@host/db)")
    s.add_argument("--space", help="TOML or JSON search space replacing the default one (see --print-space)")
    s.add_argument("--pruner", choices=PRUNERS, default="median", help="stop poor trials early (default: median)")
    s.add_argument("--heartbeat", type=int, default=HEARTBEAT, help=f"seconds between a running trial's heartbeats; "
                                                                    f"a trial silent for {GRACE} times that is failed "
                                                                    f"and retried (default: {HEARTBEAT})")
    s.add_argument("--sampler-seed", type=int, help="seed of the TPE sampler (reproducible with one worker)")
    s.add_argument("--print-space", action="store_true", help="print the search space as TOML and exit")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.add_argument("--quiet", action="store_true", help="no line per trial")
    s.set_defaults(func=lambda a: cmd_sweep(a, config_from_args))
