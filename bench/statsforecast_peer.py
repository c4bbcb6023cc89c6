"""Optional peer rows: statsforecast's AutoETS, AutoARIMA and AutoTheta on the same test windows
as rnnlab's default LSTM, for every built-in series.

statsforecast is not an rnnlab dependency (it brings its own numba and pins), so it runs in a
separate environment, found as ``--sf-python``, the environment variable ``BENCH_SF_PYTHON``, or
``/tmp/sf-venv/bin/python`` (made with ``python3.11 -m venv /tmp/sf-venv &&
/tmp/sf-venv/bin/pip install statsforecast``). Without one, it says so and writes that to the JSON.

This process (rnnlab's environment) writes, per dataset, what the default configuration makes of
it (``pipeline.prepare(RunConfig(dataset=...))``): the target in original units, the end of the
training span, the test windows' anchors and targets, the horizon and the season. The peer
process fits each model once on the latest ``MAX_FIT_ROWS`` rows of the training span (as
rnnlab's own ETS and Theta baselines do) and forecasts from every test anchor with ``forward``
(the fitted parameters, the state run through the series up to the anchor; no refit per
anchor), so every forecaster is scored on exactly the windows the LSTM is. RMSE at step 1 and at
the last step, in original units. The LSTM's and rnnlab's baselines' figures come from the
accuracy grid (``--accuracy``, default the 3-seed LSTM grid if present, else seed 0).

    python -m bench.statsforecast_peer [--datasets sp500,...] [--sf-python PATH]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import common

DEFAULT_PYTHON = "/tmp/sf-venv/bin/python"
MAX_FIT_ROWS = 2_000  # the latest training rows each peer is fitted on (rnnlab's ETS / Theta use the same bound)
PEERS = ("AutoETS", "AutoARIMA", "AutoTheta")
ACCURACY_FILES = ("accuracy-lstm-3seeds.json", "accuracy-lstm-seed0.json")


# ----------------------------------------------------------------------------- peer process
def _child(task_file: str) -> None:
    """Run in the statsforecast environment: read the windows, fit, forecast, print JSON."""
    import statsforecast
    from statsforecast import models

    task = json.loads(Path(task_file).read_text())
    out: dict[str, Any] = {"statsforecast": statsforecast.__version__, "datasets": {}}
    for name, d in task["datasets"].items():
        y = np.asarray(d["y"], dtype=np.float64)
        start = max(0, d["train_end"] - MAX_FIT_ROWS)
        anchors, y_true, h = np.asarray(d["anchors"]), np.asarray(d["y_true"], dtype=np.float64), int(d["horizon"])
        season = int(d["season"]) if int(d["season"]) > 1 and d["train_end"] - start >= 2 * int(d["season"]) else 1
        res: dict[str, Any] = {}
        for peer in PEERS:
            t0 = time.perf_counter()
            try:
                model = getattr(models, peer)(season_length=season).fit(y[start:d["train_end"]])
                fit_s = time.perf_counter() - t0
                pred = np.vstack([model.forward(y=y[start:a + 1], h=h)["mean"] for a in anchors])  # (n, h)
                err = pred - y_true
                res[peer] = {"rmse_1": float(np.sqrt(np.nanmean(err[:, 0] ** 2))),
                             "rmse_h": float(np.sqrt(np.nanmean(err[:, -1] ** 2))),
                             "fit_s": round(fit_s, 2), "seconds": round(time.perf_counter() - t0, 1)}
            except Exception as exc:  # a peer that fails on a series is reported, not fatal
                res[peer] = {"failed": f"{type(exc).__name__}: {exc}"[:300]}
            print(f"  {name:16s} {peer:9s} {res[peer]}", file=sys.stderr, flush=True)
        out["datasets"][name] = {"season": season, "fit_rows": d["train_end"] - start, **res}
    print(json.dumps(out))


# ----------------------------------------------------------------------------- this process
def _windows(name: str) -> dict[str, Any]:
    from rnnlab import pipeline
    from rnnlab.data import load_dataset
    from rnnlab.settings import RunConfig

    prep = pipeline.prepare(load_dataset(name), RunConfig(dataset=name))
    return {"y": prep.y.tolist(), "train_end": int(prep.split.train_end), "anchors": prep.test.anchors.tolist(),
            "y_true": prep.test.y_true.tolist(), "horizon": int(prep.config.horizon), "season": int(prep.season)}


def _accuracy(path: Path) -> dict[tuple[str, str], dict[str, float]]:
    doc = json.loads(path.read_text())
    return {(r["dataset"], r["model"]): r for r in doc["table"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--datasets", default="", help="comma list (default: every built-in series)")
    p.add_argument("--sf-python", default=os.environ.get("BENCH_SF_PYTHON", DEFAULT_PYTHON))
    p.add_argument("--accuracy", default="", help="accuracy grid JSON with the LSTM's rows (default: "
                                                  + " or ".join(ACCURACY_FILES) + " in bench/results)")
    p.add_argument("--child", help=__import__("argparse").SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.child)
        return {}
    started = time.perf_counter()
    from rnnlab.data.builtin import BUILTINS

    names = [n.strip() for n in (args.datasets or ",".join(BUILTINS)).split(",") if n.strip()]
    acc_path = Path(args.accuracy) if args.accuracy else next(
        (common.RESULTS / f for f in ACCURACY_FILES if (common.RESULTS / f).is_file()), common.RESULTS / ACCURACY_FILES[-1])
    probe = subprocess.run([args.sf_python, "-c", "import statsforecast"], capture_output=True, text=True) \
        if Path(args.sf_python).exists() else None
    if probe is None or probe.returncode != 0:
        why = f"{args.sf_python} not found" if probe is None else probe.stderr.strip().splitlines()[-1]
        print(f"statsforecast is not available ({why}); make the environment as the docstring says")
        return common.write_result("statsforecast_peer", {"available": False, "reason": why}, args.out, started)
    with tempfile.TemporaryDirectory(prefix="rnnlab-sf-") as tmp:
        task = Path(tmp) / "windows.json"
        task.write_text(json.dumps({"datasets": {n: _windows(n) for n in names}}))
        env = {**os.environ, "PYTHONPATH": str(common.ROOT)}
        proc = subprocess.run([args.sf_python, "-m", "bench.statsforecast_peer", "--child", str(task)],
                              cwd=common.ROOT, env=env, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the statsforecast process failed (exit {proc.returncode})")
    peer = json.loads(proc.stdout.strip().splitlines()[-1])
    acc = _accuracy(acc_path)
    rows = []
    for name in names:
        res = peer["datasets"][name]
        for step, key in (("1", "rmse_1"), ("H", "rmse_h")):
            row: dict[str, Any] = {"dataset": name, "step": step if step == "1" else str(acc.get((name, "lstm"), {}).get("H", "H"))}
            scores = {}
            for who in ("lstm", "naive", "linear", "ets", "theta"):
                r = acc.get((name, who))
                if r is not None:
                    scores[f"rnnlab {who}" if who != "lstm" else "rnnlab LSTM"] = r[key]
            for who in PEERS:
                if "failed" not in res[who]:
                    scores[f"sf {who}"] = res[who][key]
            row.update({k: f"{v:.4g}" for k, v in scores.items()})
            row["best"] = min(scores, key=scores.get) if scores else ""
            rows.append(row)
    print(common.table(rows, title=f"Test RMSE on the default test windows: rnnlab ({acc_path.name}) and "
                                   f"statsforecast {peer['statsforecast']}"))
    return common.write_result("statsforecast_peer", {"available": True, "statsforecast": peer["statsforecast"],
                                                      "accuracy_file": acc_path.name, "max_fit_rows": MAX_FIT_ROWS,
                                                      "peers": peer["datasets"], "table": rows}, args.out, started)


if __name__ == "__main__":  # pragma: no cover
    main()
