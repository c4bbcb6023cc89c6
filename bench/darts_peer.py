"""Optional peer row: darts' RNNModel / BlockRNNModel vs rnnlab's Trainer on the same series.

darts is not an rnnlab dependency. This benchmark runs only when a Python that can
``import darts`` is found: the current interpreter, ``--darts-python``, the environment
variable ``BENCH_DARTS_PYTHON``, or ``/tmp/darts-venv/bin/python`` (made with
``python3.11 -m venv /tmp/darts-venv && /tmp/darts-venv/bin/pip install torch==2.13.0 &&
/tmp/darts-venv/bin/pip install "darts[torch]" torch==2.13.0``, which keeps torch 2.13.0).
Otherwise it prints that darts is unavailable and why, and writes that to the JSON.

Equivalent settings, all in one process (the darts interpreter, with rnnlab on PYTHONPATH)
and interleaved: the reference sp500 windows (``pipeline.prepare``, seq_len 60, 1-step
target) and, for darts, the same scaled, transformed training-span series as a float32
``TimeSeries``; LSTM hidden 64 x 2 layers, batch 64, Adam lr 3e-3, ``--epochs`` epochs.

* ``rnnlab``: ``Trainer.fit`` (its defaults: validation pass, clipping, callback, stop flag);
* ``darts BlockRNNModel``: input_chunk_length 60, output_chunk_length 1 (same windows);
* ``darts RNNModel``: input_chunk_length 60, training_length 60 (teacher-forced sequences,
  a loss at every step: darts' own formulation of the same task).

darts' time includes what its ``fit`` does per call (dataset and Lightning trainer setup);
the table shows seconds per epoch (= fit seconds / epochs) and the ratio to rnnlab.

    python -m bench.darts_peer [--epochs 2] [--reps 2] [--darts-python PATH]
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from bench import common

DEFAULT_VENV_PYTHON = "/tmp/darts-venv/bin/python"


def _child(epochs: int, reps: int, rows: int | None, hidden: int) -> dict[str, Any]:
    t_import = time.perf_counter()
    try:
        import darts
        from darts import TimeSeries
        from darts.models import BlockRNNModel, RNNModel
    except Exception as exc:
        return {"available": False, "reason": f"import darts failed: {type(exc).__name__}: {exc}"}
    import_s = time.perf_counter() - t_import
    import numpy as np
    import torch

    from bench.speed import reference_prepared
    from rnnlab.models import build_model
    from rnnlab.tasks.forecast import FORECAST
    from rnnlab.training import Trainer, seed_everything

    threads = common.setup_threads()
    prep = reference_prepared(rows, cell="lstm", hidden_size=hidden, batch_size=64, epochs=epochs, patience=0)
    pre = prep.preprocessor
    series_values = prep.inputs[pre.offset : prep.split.train_end, 0]  # scaled, transformed training span
    series_values = series_values[np.isfinite(series_values)].astype(np.float32)
    series = TimeSeries.from_values(series_values)
    Xtr, Ytr = prep.tensors("train")
    Xva, Yva = prep.tensors("val")
    trainer_kwargs = {"accelerator": "cpu", "enable_progress_bar": False, "enable_model_summary": False,
                      "logger": False, "enable_checkpointing": False}
    common_kwargs = dict(hidden_dim=hidden, n_rnn_layers=2, batch_size=64, n_epochs=epochs,
                         optimizer_kwargs={"lr": 3e-3}, random_state=0, pl_trainer_kwargs=trainer_kwargs)

    def rnnlab_arm() -> None:
        seed_everything(0)
        model = build_model(prep.config, FORECAST.model_shape(prep))
        events: list = []
        Trainer(prep.config, [events.append]).fit(model, FORECAST.objective(prep), stop_event=threading.Event())

    def block_arm() -> None:
        BlockRNNModel(input_chunk_length=prep.config.seq_len, output_chunk_length=1, model="LSTM",
                      **common_kwargs).fit(series, verbose=False)

    def rnn_arm() -> None:
        RNNModel(input_chunk_length=prep.config.seq_len, training_length=prep.config.seq_len, model="LSTM",
                 **common_kwargs).fit(series, verbose=False)

    cpu: dict[str, list[float]] = {}
    t = common.interleave({"rnnlab": rnnlab_arm, "darts_block": block_arm, "darts_rnn": rnn_arm},
                          reps=reps, warmup=1, cpu=cpu)
    return {
        "available": True, "darts": darts.__version__, "torch": torch.__version__, "threads": threads,
        "darts_import_s": import_s, "epochs": epochs, "reps": reps, "train_windows_rnnlab": len(Xtr),
        "series_rows_darts": len(series_values),
        "seconds": {k: common.summary(v) for k, v in t.items()},
        "cpu_seconds": {k: common.summary(v) for k, v in cpu.items()},
        "ratio_to_rnnlab": {k: common.median(common.paired_ratios(t[k], t["rnnlab"])) for k in ("darts_block", "darts_rnn")},
    }


def find_darts_python(explicit: str | None) -> tuple[str | None, str]:
    """The interpreter to run darts with, and why (or why none)."""
    import sys

    if explicit:
        return explicit, "given with --darts-python"
    if importlib.util.find_spec("darts") is not None:
        return sys.executable, "darts is importable in this interpreter"
    env = os.environ.get("BENCH_DARTS_PYTHON")
    if env:
        return env, "BENCH_DARTS_PYTHON"
    if Path(DEFAULT_VENV_PYTHON).exists():
        return DEFAULT_VENV_PYTHON, f"found {DEFAULT_VENV_PYTHON}"
    return None, ("darts is not installed in this interpreter (it is not an rnnlab dependency) and no darts "
                  f"venv was found (--darts-python, BENCH_DARTS_PYTHON or {DEFAULT_VENV_PYTHON})")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--rows", type=int, default=0, help="use only the first ROWS rows of the series (tests)")
    p.add_argument("--darts-python", default=None, help="a Python interpreter that can import darts")
    p.add_argument("--child", action="store_true", help=__import__("argparse").SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.epochs, args.reps, args.rows or None, args.hidden)))
        return {}
    started = time.perf_counter()
    python, why = find_darts_python(args.darts_python)
    payload: dict[str, Any]
    if python is None:
        payload = {"available": False, "reason": why}
    else:
        child_args = ["--child", "--epochs", str(args.epochs), "--reps", str(args.reps), "--hidden", str(args.hidden)]
        if args.rows:
            child_args += ["--rows", str(args.rows)]
        env = {"RNNLAB_THREADS": str(args.threads)} if args.threads else {}
        try:
            payload = common.run_child("bench.darts_peer", child_args, env=env, python=python)
        except (RuntimeError, OSError) as exc:
            payload = {"available": False, "reason": f"the darts run with {python} failed: {exc}"[:3000]}
        payload["python"] = python
        payload["found_because"] = why
    if not payload.get("available"):
        print(f"darts peer: unavailable: {payload['reason']}")
    else:
        s = payload["seconds"]
        e = payload["epochs"]
        rows = [{"trainer": "rnnlab Trainer", "s/epoch": s["rnnlab"]["median"] / e, "ratio": 1.0},
                {"trainer": "darts BlockRNNModel", "s/epoch": s["darts_block"]["median"] / e,
                 "ratio": payload["ratio_to_rnnlab"]["darts_block"]},
                {"trainer": "darts RNNModel", "s/epoch": s["darts_rnn"]["median"] / e,
                 "ratio": payload["ratio_to_rnnlab"]["darts_rnn"]}]
        print(common.table(rows, title=f"darts {payload['darts']} vs rnnlab, LSTM {args.hidden} x 2, batch 64, "
                                       f"{e} epochs per fit (medians of {payload['reps']} interleaved rounds, "
                                       f"{payload['threads']} torch threads; darts import took "
                                       f"{payload['darts_import_s']:.0f} s)"))
    common.write_result("darts_peer", payload, args.out, started)
    return payload


if __name__ == "__main__":
    main()
