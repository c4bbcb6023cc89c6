"""Hostile inputs for runs, archives, files and settings (issue 18 items 2, 4, 8-16, 20); registered on import."""

from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.hostile_common import (
    _RUN,
    TINY,
    Raw,
    Wrong,
    _edit_json,
    _set,
    base_run,
    case,
    check,
    cli,
    series_csv,
    write,
)

# ============================================================================= 2/9: run-file schemas
_SCHEMA_EDITS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("metrics.json", "a list", lambda d: [1, 2]),
    ("metrics.json", "test a string", lambda d: _set(d, ("test",), "x")),
    ("metrics.json", "model row a list", lambda d: _set(d, ("test", "model"), [1])),
    ("metrics.json", "per_step a number", lambda d: _set(d, ("per_step",), 3)),
    ("history.json", "a mapping", lambda d: {"a": 1}),
    ("history.json", "epoch a string", lambda d: [{"epoch": "x", "train_loss": 1, "val_loss": 1}]),
    ("config.json", "train_info a string", lambda d: _set(d, ("train_info",), "oops")),
    ("config.json", "config a list", lambda d: _set(d, ("config",), [1])),
    ("config.json", "hidden_size a string", lambda d: _set(d, ("config", "hidden_size"), "64")),
    ("config.json", "hidden_size a float", lambda d: _set(d, ("config", "hidden_size"), 4.5)),
    ("config.json", "model a string", lambda d: _set(d, ("model",), "m")),
    ("config.json", "meta a list", lambda d: _set(d, ("meta",), [])),
    ("config.json", "dataset a number", lambda d: _set(d, ("dataset",), 5)),
    ("config.json", "checksums a list", lambda d: _set(d, ("checksums",), [])),
    ("config.json", "format missing", lambda d: {k: v for k, v in d.items() if k != "format"}),
    ("config.json", "task a list", lambda d: _set(d, ("task",), ["forecast"])),
    ("config.json", "deep nesting",
     lambda d: Raw(json.dumps(_set(d, ("meta", "x"), "DEEP")).replace('"DEEP"', "[" * 100_000 + "]" * 100_000))),
    ("config.json", "summary a string", lambda d: _set(d, ("summary",), "s")),
    ("config.json", "required_files a dict", lambda d: _set(d, ("required_files",), {})),
    ("scaler.json", "centers_ strings", lambda d: _set(d, ("centers_",), ["a"])),
    ("scaler.json", "scale 1e308", lambda d: _set(d, ("target_scale_",), 1e308)),
    ("scaler.json", "a list", lambda d: [1]),
    ("linear.json", "a string", lambda d: "x"),
]


def _schema_case(fname: str, what: str, change: Callable[[Any], Any]) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        from rnnlab.runs import load_run

        folder = base_run(tmp)
        _edit_json(folder, fname, change)
        load_run(folder)  # must raise RunError
        raise Wrong(f"{fname} with {what} was accepted")
    return run


for _f, _w, _c in _SCHEMA_EDITS:
    case(9, f"load_run: {_f} {_w}")(_schema_case(_f, _w, _c))


@case(2, "an imported run with the id of a different stored run keeps both")
def _collision(tmp: Path) -> None:
    from rnnlab.archive import load_run_archive, zip_run
    from rnnlab.runs import load_run
    from rnnlab.store import RunStore

    folder = base_run(tmp)
    store = RunStore(tmp / "store")
    first = store.save(load_run(folder))
    _edit_json(folder, "config.json", lambda d: _set(d, ("meta", "created"), "2001-01-01T00:00:00"))
    other = load_run_archive(zip_run(folder), tmp / "imported")  # same id, another run
    store.save(other)
    ids = {e.id for e in store.list()}
    check(len(ids) == 2 and first.id in ids, f"the store holds {sorted(ids)}: a run was replaced")

# ============================================================================= 4/16: --out
@case(4, "--out into a folder holding a user's config.json and data.csv.gz")
def _out_user_folder(tmp: Path) -> None:
    out = tmp / "mine"
    out.mkdir()
    (out / "config.json").write_text('{"mine": true}')
    (out / "data.csv.gz").write_bytes(b"precious")
    try:
        cli("train", "--data", write(tmp / "a.csv", series_csv()), *TINY, "--quiet", "--out", str(out))
    finally:
        check((out / "config.json").read_text() == '{"mine": true}', "the user's config.json was overwritten")
        check((out / "data.csv.gz").read_bytes() == b"precious", "the user's data.csv.gz was overwritten")
    raise Wrong("training wrote into a folder that is not a run")


@case(4, "--out into a folder with one unrelated file")
def _out_other_file(tmp: Path) -> None:
    out = tmp / "docs"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    try:
        cli("train", "--data", write(tmp / "a.csv", series_csv()), *TINY, "--quiet", "--out", str(out))
    finally:
        check((out / "notes.txt").read_text() == "keep me", "notes.txt lost")
    check(not (out / "config.json").exists(), "wrote a run into a non-run folder")


@case(4, "--out that is a file")
def _out_file(tmp: Path) -> None:
    f = tmp / "f.txt"
    f.write_text("x")
    cli("train", "--data", write(tmp / "a.csv", series_csv()), *TINY, "--quiet", "--out", str(f))
    raise Wrong("accepted a file as --out")


@case(16, "unwritable --out is refused before training")
def _out_unwritable(tmp: Path) -> None:
    ro = tmp / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if os.access(ro, os.W_OK):  # root: permissions do not apply, nothing to test
            return
        t0 = time.perf_counter()
        try:
            cli("train", "--data", write(tmp / "a.csv", series_csv()), "--epochs", "50", "--hidden-size", "64",
                "--quiet", "--out", str(ro / "run"))
        except Exception as e:
            dt = time.perf_counter() - t0
            check(dt < 10, f"refused only after {dt:.0f} s (after training)")
            raise e
        raise Wrong("wrote into an unwritable folder")
    finally:
        os.chmod(ro, 0o700)


@case(16, "--out below a file is refused before training")
def _out_below_file(tmp: Path) -> None:
    f = tmp / "plain"
    f.write_text("x")
    cli("train", "--data", write(tmp / "a.csv", series_csv()), *TINY, "--quiet", "--out", str(f / "run"))
    raise Wrong("accepted")

# ============================================================================= 8: predict
@case(8, "predict with NaN weights")
def _predict_nan(tmp: Path) -> None:
    import safetensors.torch as st

    folder = base_run(tmp)
    w = st.load_file(str(folder / "weights.safetensors"))
    w = {k: v * float("nan") for k, v in w.items()}
    st.save_file(w, str(folder / "weights.safetensors"))
    cli("predict", "--run", str(folder), "--data", _RUN["csv"], "--out", str(tmp / "p.csv"))
    raise Wrong("predicted with NaN weights")


@case(8, "predict with a scaler edited to 1e308")
def _predict_scaler(tmp: Path) -> None:
    folder = base_run(tmp)
    _edit_json(folder, "scaler.json", lambda d: _set(d, ("target_scale_",), 1e308))
    cli("predict", "--run", str(folder), "--data", _RUN["csv"], "--out", str(tmp / "p.csv"))
    raise Wrong("accepted an edited scaler")


@case(8, "weights swapped from another run of the same shape")
def _predict_swap(tmp: Path) -> None:
    import shutil

    folder = base_run(tmp)
    other = tmp / "other"
    cli("train", "--data", _RUN["csv"], *TINY, "--seq-len", "8", "--horizon", "2", "--seed", "7", "--quiet",
        "--out", str(other))
    shutil.copy(other / "weights.safetensors", folder / "weights.safetensors")
    cli("predict", "--run", str(folder), "--data", _RUN["csv"], "--out", str(tmp / "p.csv"))
    raise Wrong("accepted swapped weights")


@case(8, "predict on data 1e6 x the training range")
def _predict_far(tmp: Path) -> None:
    folder = base_run(tmp)
    ds = pd.read_csv(_RUN["csv"])
    ds["value"] = ds["value"] * 1e300
    p = tmp / "far.csv"
    ds.to_csv(p, index=False)
    try:
        cli("predict", "--run", str(folder), "--data", str(p), "--out", str(tmp / "p.csv"))
    except Exception:
        raise
    out = pd.read_csv(tmp / "p.csv")
    check(bool(np.isfinite(out["prediction"]).all()), "non-finite predictions written")

# ============================================================================= 10: settings
_NUMERIC_FLAGS = ["--lr", "--weight-decay", "--grad-clip", "--dropout", "--train-frac", "--val-frac", "--seq-len",
                  "--horizon", "--epochs", "--batch-size", "--hidden-size", "--num-layers", "--patience", "--seed",
                  "--season", "--highway", "--conv-layers", "--conv-channels", "--conv-kernel", "--conv-dilation"]
_BAD_VALUES = ["nan", "inf", "-inf", "1e308", "-1", "0", "1e-320", "99999999999999999999", "1.5", "-0.0", "0x10", "1_0"]


def _flag_case(flag: str, value: str) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        _FLAG_DATA.setdefault("csv", write(Path(tempfile.mkdtemp(prefix="hostile-flags-")) / "f.csv", series_csv(120)))
        args = ["train", "--data", _FLAG_DATA["csv"], "--epochs", "1", "--hidden-size", "4", "--num-layers", "1",
                "--seq-len", "6", "--horizon", "2", "--quiet", "--out", str(tmp / "o")]
        args += [flag, value]
        try:
            cli(*args)
        except Exception as e:
            from rnnlab.errors import RnnlabError

            if isinstance(e, RnnlabError):
                return
            raise
        from rnnlab.runs import load_run

        run = load_run(tmp / "o")
        check(math.isfinite(run.metrics["test"]["model"]["rmse"]), f"{flag} {value}: non-finite test RMSE")
    return run


_FLAG_DATA: dict[str, str] = {}
for _fl in _NUMERIC_FLAGS:
    for _v in _BAD_VALUES[:7]:
        case(10, f"train {_fl} {_v}", limit=90)(_flag_case(_fl, _v))

# ============================================================================= 11: memory
@case(11, "hidden 4096 x 16 layers is refused with a memory estimate")
def _memory_huge(tmp: Path) -> None:
    try:
        cli("train", "--data", write(tmp / "a.csv", series_csv()), "--hidden-size", "4096", "--num-layers", "16",
            "--epochs", "1", "--quiet", "--out", str(tmp / "o"))
    except Exception as e:
        check("memory" in str(e).lower() or "GB" in str(e) or "GiB" in str(e), f"refused without an estimate: {e}")
        raise
    raise Wrong("trained a 2-billion-parameter model")


@case(11, "seq_len 100000 windows of a long series: refused with an estimate, not a MemoryError")
def _memory_windows(tmp: Path) -> None:
    n = 300_000
    v = np.cumsum(np.random.default_rng(0).normal(0, 1, n))
    text = "value\n" + "\n".join(f"{x:.3f}" for x in v) + "\n"
    try:
        cli("train", "--data", write(tmp / "w.csv", text), "--seq-len", "90000", "--horizon", "1", "--epochs", "1",
            "--hidden-size", "4", "--num-layers", "1", "--quiet", "--out", str(tmp / "o"))
    except Exception as e:
        check("memory" in str(e).lower(), f"refused without a memory estimate: {e}")
        raise

@case(11, "conv front end with dilation growth 8 over 8 layers (padding of 130 million steps)", limit=60)
def _memory_conv(tmp: Path) -> None:
    try:
        cli("train", "--data", write(tmp / "a.csv", series_csv()), *TINY, "--seq-len", "6", "--horizon", "2",
            "--conv-layers", "8", "--conv-kernel", "64", "--conv-dilation", "8", "--quiet", "--out", str(tmp / "o"))
    except Exception as e:
        check("memory" in str(e).lower(), f"refused without a memory estimate: {e}")
        raise
    raise Wrong("trained a convolution front end that pads by 130 million steps")


# ============================================================================= 12: atomic save
@case(12, "interrupt during save leaves the previous run and no hidden folder")
def _save_interrupt(tmp: Path) -> None:
    from rnnlab import runs as runs_mod
    from rnnlab.runs import load_run, save_run

    folder = base_run(tmp)
    run = load_run(folder)
    orig = runs_mod.write_json

    def boom(path: Any, doc: Any) -> None:
        if str(path).endswith("metrics.json"):
            raise KeyboardInterrupt
        orig(path, doc)

    runs_mod.write_json = boom
    try:
        save_run(run, folder)
    except KeyboardInterrupt:
        pass
    finally:
        runs_mod.write_json = orig
    load_run(folder)
    left = [p.name for p in folder.parent.iterdir() if p.name.startswith(".")]
    check(not left, f"left behind {left}")

# ============================================================================= 13: zips
def _zip_bytes(members: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compress) as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


def _run_members(tmp: Path) -> dict[str, bytes]:
    folder = base_run(tmp)
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _zip_mutation(kind: str) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        from rnnlab.archive import load_run_archive

        members = _run_members(tmp)
        data = bytearray(_zip_bytes(members))
        if kind == "encryption flag":
            data = bytearray(data.replace(b"PK\x03\x04\x14\x00\x00\x00", b"PK\x03\x04\x14\x00\x01\x00"))
            data = bytearray(data.replace(b"PK\x01\x02\x14\x03\x14\x00\x00\x00", b"PK\x01\x02\x14\x03\x14\x00\x01\x00"))
        elif kind == "unknown compression":
            data = bytearray(data.replace(b"\x08\x00", b"\x63\x00"))  # method 99 (AES) in headers
        elif kind == "corrupt data after config.json":
            i = data.find(b"weights.safetensors")
            j = data.find(b"weights.safetensors", i + 1)
            for k in range(i + 60, min(i + 400, j if j > 0 else len(data))):
                data[k] ^= 0x5A
        elif kind == "truncated archive":
            data = data[: len(data) // 2]
        elif kind == "bzip2 members":
            data = bytearray(_zip_bytes(members, zipfile.ZIP_BZIP2))
        elif kind == "lzma members":
            data = bytearray(_zip_bytes(members, zipfile.ZIP_LZMA))
        elif kind == "crc mismatch":
            i = data.find(b"history.json") + len(b"history.json")
            data[i + 5] ^= 0xFF
        elif kind == "empty zip":
            data = bytearray(_zip_bytes({}))
        elif kind == "zip of a zip":
            data = bytearray(_zip_bytes({"run.zip": bytes(data)}))
        elif kind == "huge declared size":
            data = bytearray(_zip_bytes({**members, "history.json": b"[" + b" " * 10_000_000 + b"]"}))
        dest = tmp / "imported"
        try:
            load_run_archive(bytes(data), dest)
        except Exception:
            check(not dest.exists(), f"a refused archive left '{dest}'")
            left = [p.name for p in tmp.iterdir() if p.name.startswith(".tmp")]
            check(not left, f"left {left}")
            raise
        if kind not in ("bzip2 members", "lzma members", "huge declared size"):
            raise Wrong(f"{kind}: accepted")
    return run


for _k in ("encryption flag", "unknown compression", "corrupt data after config.json", "truncated archive",
           "bzip2 members", "lzma members", "crc mismatch", "empty zip", "zip of a zip", "huge declared size"):
    case(13, f"run zip: {_k}")(_zip_mutation(_k))

# ============================================================================= 14: links
@case(14, "unzip_run into a folder whose config.json is a symlink to a user file")
def _unzip_link(tmp: Path) -> None:
    from rnnlab.archive import unzip_run, zip_run

    folder = base_run(tmp)
    data = zip_run(folder)
    victim = tmp / "victim.txt"
    victim.write_text("precious")
    dest = tmp / "dest"
    dest.mkdir()
    (dest / "config.json").symlink_to(victim)
    try:
        unzip_run(data, dest)
    finally:
        check(victim.read_bytes() == b"precious", "followed a link and overwrote the user's file")


@case(14, "unzip_run into a destination that is a symlink to a folder")
def _unzip_dest_link(tmp: Path) -> None:
    from rnnlab.archive import unzip_run, zip_run

    data = zip_run(base_run(tmp))
    real = tmp / "real"
    real.mkdir()
    (tmp / "link").symlink_to(real, target_is_directory=True)
    try:
        unzip_run(data, tmp / "link")
    finally:
        check(not any(real.iterdir()), "wrote through a link")


@case(14, "predict --out that is a symlink to a user file")
def _predict_link(tmp: Path) -> None:
    folder = base_run(tmp)
    victim = tmp / "victim.txt"
    victim.write_text("precious")
    (tmp / "p.csv").symlink_to(victim)
    try:
        cli("predict", "--run", str(folder), "--data", _RUN["csv"], "--out", str(tmp / "p.csv"))
    finally:
        check(victim.read_bytes() == b"precious", "followed a link and overwrote the user's file")


@case(14, "export --out that is a symlink to a user file")
def _export_link(tmp: Path) -> None:
    folder = base_run(tmp)
    victim = tmp / "victim.txt"
    victim.write_text("precious")
    (tmp / "m.pt").symlink_to(victim)
    try:
        cli("export", "--run", str(folder), "--format", "torchscript", "--out", str(tmp / "m.pt"))
    finally:
        check(victim.read_bytes() == b"precious", "followed a link and overwrote the user's file")


@case(14, "save_run into a run folder whose weights file is a symlink")
def _save_link(tmp: Path) -> None:
    from rnnlab.runs import load_run, save_run

    folder = base_run(tmp)
    run = load_run(folder)
    victim = tmp / "victim.bin"
    victim.write_bytes(b"precious")
    (folder / "weights.safetensors").unlink()
    (folder / "weights.safetensors").symlink_to(victim)
    try:
        save_run(run, folder)
    finally:
        check(victim.read_bytes() == b"precious", "followed a link and overwrote the user's file")

# ============================================================================= 15: broken pipe
@case(15, "datasets | head -1 (closed stdout)")
def _pipe(tmp: Path) -> None:
    import subprocess

    r = subprocess.run(f"{sys.executable} -m rnnlab datasets | head -1", shell=True, capture_output=True, text=True,
                       cwd=str(Path(__file__).resolve().parents[1]), timeout=120)
    check("Traceback" not in r.stderr, r.stderr[-300:])

# ============================================================================= 20: leaks, tickers
@case(20, "run zip holds no absolute path")
def _zip_path(tmp: Path) -> None:
    from rnnlab.archive import zip_run

    folder = base_run(tmp)
    data = zip_run(folder)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist() if n.endswith(".json"))
    home = str(Path(_RUN["csv"]).resolve().parent).encode()
    check(home not in blob and b"/tmp/" not in blob, "the CSV's absolute path is in the zip")


for _t in ("yf:..", "yf:.", "yf:---", "yf:^", "yf:=", "yf:../etc", "yf:a/b", "yf: ", "yf:AAPL:2020-13-45",
           "yf:AAPL:2021-01-01:2020-01-01", "yf:" + "A" * 40):
    def _ticker(tmp: Path, t: str = _t) -> None:
        from rnnlab.data import load_dataset

        os.environ.setdefault("RNNLAB_CACHE_DIR", str(tmp / "cache"))
        try:
            load_dataset(t)
        except Exception as e:
            check("could not download" not in str(e), f"{t!r} was sent to Yahoo Finance: {e}")
            raise
        raise Wrong(f"{t!r} accepted")
    case(20, f"ticker {_t!r}", limit=30)(_ticker)
