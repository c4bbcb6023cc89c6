"""The run store: listing many runs, and what epoch-end checkpoints cost a training job.

* ``listing``: ``--runs`` (1,000) run folders (one real run copied, each with its own id and
  creation time in config.json) in a temporary store; timed, interleaved over ``--reps``
  rounds: a cold listing (the process cache cleared: every config.json parsed), a warm one
  (nothing changed: one stat per folder), and ``python -m rnnlab runs --json`` as a fresh
  process (imports included). The files each listing opens are counted: config.json only,
  never weights.
* ``checkpoints``: a ``TrainingJob`` on seattle-weather (LSTM 32x1, ``--epochs`` epochs, no early
  stopping) with epoch-end checkpoints into a store vs without saving, interleaved.

    python -m bench.store [--runs 1000] [--reps 5] [--epochs 8]
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common


def make_store(root: Path, n: int) -> str:
    """``n`` run folders below ``root``: one tiny real run, copied with a fresh id each."""
    from rnnlab import pipeline
    from rnnlab.data import load_dataset
    from rnnlab.runs import save_run
    from rnnlab.settings import RunConfig

    run = pipeline.fit(load_dataset("stocks-monthly"), RunConfig(dataset="stocks-monthly", epochs=1, hidden_size=8,
                                                                 num_layers=1))
    template = save_run(run, root / ".template")
    doc = json.loads((template / "config.json").read_text())
    for i in range(n):
        folder = root / f"run{i:05d}"
        shutil.copytree(template, folder)
        doc["meta"]["id"] = folder.name
        doc["meta"]["created"] = f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}"
        (folder / "config.json").write_text(json.dumps(doc))
    shutil.rmtree(template)
    return str(run.config.cell)


def files_opened(fn: Any) -> dict[str, int]:
    """Names of the files ``fn()`` opens (builtins.open and Path.read_text/read_bytes), with counts."""
    seen: dict[str, int] = {}
    real_open, real_read_text, real_read_bytes = builtins.open, Path.read_text, Path.read_bytes

    def note(name: Any) -> None:
        base = Path(str(name)).name
        seen[base] = seen.get(base, 0) + 1

    def spy_open(file: Any, *a: Any, **k: Any) -> Any:
        note(file)
        return real_open(file, *a, **k)

    def spy_text(self: Path, *a: Any, **k: Any) -> str:
        note(self)
        return real_read_text(self, *a, **k)

    def spy_bytes(self: Path) -> bytes:
        note(self)
        return real_read_bytes(self)

    builtins.open, Path.read_text, Path.read_bytes = spy_open, spy_text, spy_bytes  # type: ignore[assignment]
    try:
        fn()
    finally:
        builtins.open, Path.read_text, Path.read_bytes = real_open, real_read_text, real_read_bytes  # type: ignore
    return seen


def bench_listing(n: int, reps: int) -> dict[str, Any]:
    import rnnlab.store as store_module
    from rnnlab.store import RunStore

    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-store-") as tmp:
        root = Path(tmp) / "runs"
        root.mkdir()
        t0 = time.perf_counter()
        make_store(root, n)
        build = time.perf_counter() - t0
        store = RunStore(root)

        def cold() -> None:
            store_module._CACHE.clear()
            assert len(store.list()) == n

        def warm() -> None:
            assert len(store.list()) == n

        def cli() -> float:
            env = {**os.environ, "RNNLAB_HOME": str(root), "RNNLAB_THREADS": "1"}
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "rnnlab", "runs", "--json"], cwd=common.ROOT, env=env,
                                 capture_output=True, text=True, timeout=300)
            dt = time.perf_counter() - t
            assert out.returncode == 0 and len(json.loads(out.stdout)["runs"]) == n, out.stderr[-500:]
            return dt

        store_module._CACHE.clear()
        opened_cold = files_opened(lambda: store.list())
        opened_warm = files_opened(lambda: store.list())
        times = common.interleave({"cold": cold, "warm": warm, "cli": cli}, reps=reps, warmup=1)
        return {"runs": n, "build_seconds": round(build, 1), "cold": common.summary(times["cold"]),
                "warm": common.summary(times["warm"]), "cli_process": common.summary(times["cli"]),
                "files_opened_cold": opened_cold, "files_opened_warm": opened_warm}


def bench_checkpoints(epochs: int, reps: int) -> dict[str, Any]:
    from rnnlab.data import load_dataset
    from rnnlab.jobs import TrainingJob
    from rnnlab.settings import RunConfig

    ds = load_dataset("seattle-weather")
    cfg = RunConfig(dataset="seattle-weather", target="temp_max", hidden_size=32, num_layers=1, epochs=epochs,
                    patience=0, lr_schedule="none")
    written: list[int] = []

    def arm(save: bool) -> float:
        with tempfile.TemporaryDirectory(prefix="rnnlab-bench-ckpt-") as tmp:
            job = TrainingJob(ds, cfg, runs_dir=tmp if save else None, record_evolution=False).start()
            assert job.join(900)
            run = job.snapshot().run
            if save:
                written.append(int(run.train_info.get("checkpoints", 0)))
            return float(run.train_info["seconds"])

    times = common.interleave({"no saving": lambda: arm(False), "checkpoints": lambda: arm(True)}, reps=reps, warmup=1)
    ratios = common.paired_ratios(times["checkpoints"], times["no saving"])
    return {"epochs": epochs, "no_saving": common.summary(times["no saving"]),
            "checkpoints": common.summary(times["checkpoints"]), "ratio": common.median(ratios),
            "ratios": [round(r, 3) for r in ratios], "checkpoints_written": written}


def main(argv: list[str] | None = None) -> int:
    p = common.base_parser(__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--skip-checkpoints", action="store_true")
    args = p.parse_args(argv)
    started = time.perf_counter()
    common.setup_threads(args.threads)
    print(f"== listing {args.runs} run folders")
    listing = bench_listing(args.runs, args.reps)
    print(common.table([{"listing": k, "median s": listing[k]["median"], "min s": listing[k]["min"],
                         "max s": listing[k]["max"]} for k in ("cold", "warm", "cli_process")]))
    print(f"files opened, cold: {listing['files_opened_cold']}; warm: {listing['files_opened_warm'] or 'none'}")
    payload: dict[str, Any] = {"listing": listing}
    if not args.skip_checkpoints:
        print(f"== a training job with epoch-end checkpoints vs without saving ({args.epochs} epochs)")
        ck = bench_checkpoints(args.epochs, args.reps)
        print(common.table([{"job": "no saving", "median s": ck["no_saving"]["median"]},
                            {"job": "checkpoints", "median s": ck["checkpoints"]["median"]}]))
        print(f"checkpoints / no saving: {ck['ratio']:.3f} (median of per-round ratios); checkpoints written per job: "
              f"{ck['checkpoints_written']}")
        payload["checkpoints"] = ck
    common.write_result("store", payload, args.out, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
