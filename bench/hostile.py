"""A hostile-input harness: a few hundred bad inputs through the CLI (in-process ``cli.main``), the
Python API and (with ``--app``) the dashboard via AppTest, each classified as

* ``clean``: refused with one message naming the problem (CLI: exit 2 and one ``error:`` line;
  API: an :class:`rnnlab.errors.RnnlabError`), or accepted with a correct result (the case's oracle);
* ``traceback``: any other exception (CLI: anything escaping ``main``);
* ``hang``: no answer within the case's time limit;
* ``wrong``: accepted, but the oracle finds the result silently wrong (or data was lost).

``python -m bench.hostile [--app] [--only 1,3] [--out DIR]`` prints one line per failing case, a count
per item and class, and writes ``bench/results/hostile.json``. Cases are numbered by the item of issue
18 they attack. Sizes are small (tiny models, 1-2 epochs) so the whole run takes a few minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import signal
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TINY = ["--epochs", "1", "--hidden-size", "4", "--num-layers", "1", "--batch-size", "64", "--patience", "0"]


class Wrong(Exception):
    """Raised by an oracle: the result was accepted but is silently wrong."""


class Hang(Exception):
    pass


@dataclass
class Case:
    item: int
    name: str
    fn: Callable[[Path], Any]  # raises RnnlabError (clean refusal), Wrong, or returns (clean accept)
    limit: float = 60.0


CASES: list[Case] = []


def case(item: int, name: str, limit: float = 60.0) -> Callable[[Callable[[Path], Any]], Callable[[Path], Any]]:
    def deco(fn: Callable[[Path], Any]) -> Callable[[Path], Any]:
        CASES.append(Case(item, name, fn, limit))
        return fn
    return deco


def check(cond: bool, what: str) -> None:
    if not cond:
        raise Wrong(what)


# ----------------------------------------------------------------------------- CLI in-process
class CliResult:
    def __init__(self, rc: int, out: str, err: str) -> None:
        self.rc, self.out, self.err = rc, out, err


def cli(*argv: str) -> CliResult:
    """``python -m rnnlab ARGV`` in this process: rc, stdout, stderr. An exception escaping main is a
    traceback; exit 2 with one error line is a clean refusal (raised as CliRefusal)."""
    from rnnlab.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    res = CliResult(rc, out.getvalue(), err.getvalue())
    if rc == 2:
        lines = [ln for ln in res.err.splitlines() if ln.startswith("error:")]
        if len(lines) != 1 or "Traceback" in res.err:
            raise RuntimeError(f"exit 2 without exactly one error line: {res.err[-300:]!r}")
        from rnnlab.errors import RnnlabError

        raise RnnlabError(lines[0])
    if rc not in (0, 130):
        raise RuntimeError(f"exit status {rc}: {res.err[-300:]!r}")
    return res


def write(path: Path, text: str | bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return str(path)


def series_csv(n: int = 200, seed: int = 0, freq: str = "D", values: np.ndarray | None = None, start: str = "2020-01-01",
               fmt: str | None = None, name: str = "value") -> str:
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq=freq)
    v = values if values is not None else 50 + np.cumsum(rng.normal(0, 1, n))
    times = idx.strftime(fmt) if fmt else idx.astype(str)
    cells = [repr(float(x)) if isinstance(x, (float, int, np.floating, np.integer)) else str(x) for x in v]
    return "date," + name + "\n" + "\n".join(f"{t},{x}" for t, x in zip(times, cells)) + "\n"


def load(path: str, **kw: Any) -> Any:
    from rnnlab.data import load_csv

    return load_csv(path, **kw)


# ============================================================================= 1: day-first dates
def _first_business_days(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="BMS")


_DATE_FORMS = {"dd/mm/yyyy": "%d/%m/%Y", "dd-mm-yyyy": "%d-%m-%Y", "dd.mm.yyyy": "%d.%m.%Y", "mm/dd/yyyy": "%m/%d/%Y",
               "dd/mm/yy": "%d/%m/%y", "mm-dd-yyyy": "%m-%d-%Y", "dd/mm/yyyy hh:mm": "%d/%m/%Y %H:%M"}


def _date_case(calendar: str, form: str, start: str, n: int) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        if calendar == "BMS":
            idx = _first_business_days(start, n)
        else:
            idx = pd.date_range(start, periods=n, freq=calendar)
        rng = np.random.default_rng(n)
        v = 100 + np.cumsum(rng.normal(0, 1, n))
        text = "date,value\n" + "\n".join(f"{t},{x:.4f}" for t, x in zip(idx.strftime(_DATE_FORMS[form]), v)) + "\n"
        ds = load(write(tmp / "d.csv", text))
        got = pd.DatetimeIndex(ds.frame.index)
        check(len(got) == n, f"{len(got)} rows loaded of {n}")
        if not (got == idx).all() and any("can be read either way" in w and "dayfirst" in w for w in ds.warnings):
            return  # genuinely ambiguous: the reading taken and how to force the other are stated
        check(bool((got == idx).all()), f"dates read wrongly: first {list(got[:3].strftime('%Y-%m-%d'))}, "
                                        f"expected {list(idx[:3].strftime('%Y-%m-%d'))}")
        check(np.allclose(ds.frame["value"].to_numpy(), v, atol=1e-3), "values re-ordered")
    return run


for _cal, _start, _n in (("BMS", "2015-01-01", 120), ("BMS", "2019-06-01", 40), ("MS", "2010-01-01", 60),
                         ("W-MON", "2021-01-04", 30), ("D", "2021-01-01", 12), ("D", "2021-03-01", 200),
                         ("QS", "2000-01-01", 40)):
    for _form in _DATE_FORMS:
        case(1, f"dates {_cal} from {_start} x{_n} written {_form}")(_date_case(_cal, _form, _start, _n))


@case(1, "dayfirst forced the other way by the user is honoured (API)")
def _dayfirst_forced(tmp: Path) -> None:
    idx = pd.date_range("2020-01-01", periods=24, freq="MS")
    text = "date,value\n" + "\n".join(f"{t},{i}" for i, t in enumerate(idx.strftime("%d/%m/%Y"))) + "\n"
    p = write(tmp / "f.csv", text)
    try:
        ds = load(p, dayfirst=False)
    except TypeError as e:
        raise Wrong(f"no dayfirst option: {e}") from e
    check(ds.frame.index[1] == pd.Timestamp("2020-01-02"), f"dayfirst=False not honoured: {ds.frame.index[1]}")


@case(1, "shuffled ISO rows: a large reorder is reported as a suspected wrong parse (not a plain 'sorted')")
def _shuffled_iso(tmp: Path) -> None:
    idx = pd.date_range("2020-01-01", periods=100, freq="D")
    order = np.random.default_rng(1).permutation(100)
    text = "date,value\n" + "\n".join(f"{idx[i].date()},{i}" for i in order) + "\n"
    ds = load(write(tmp / "s.csv", text))
    check(any("%" in w and ("order" in w or "sort" in w) for w in ds.warnings), f"warnings: {ds.warnings}")


@case(1, "newest-first file (reverse order) loads in time order without alarm")
def _reversed(tmp: Path) -> None:
    idx = pd.date_range("2020-01-01", periods=100, freq="D")
    text = "date,value\n" + "\n".join(f"{idx[i].date()},{i}" for i in range(99, -1, -1)) + "\n"
    ds = load(write(tmp / "r.csv", text))
    check(ds.frame["value"].iloc[0] == 0 and ds.frame.index.is_monotonic_increasing, "not reversed correctly")


# ============================================================================= 2/9: run-file schemas
_RUN: dict[str, Any] = {}


def base_run(tmp: Path) -> Path:
    """A tiny trained run folder (trained once, copied per case)."""
    import shutil

    if "folder" not in _RUN:
        root = Path(tempfile.mkdtemp(prefix="hostile-base-"))
        csv = write(root / "base.csv", series_csv(160))
        try:
            cli("train", "--data", csv, *TINY, "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(root / "run"))
        except Exception as e:  # the harness's own setup failed: not a result of any case
            raise RuntimeError(f"harness setup: the base run did not train: {e}") from e
        _RUN["folder"] = root / "run"
        _RUN["csv"] = csv
    dest = tmp / "run"
    shutil.copytree(_RUN["folder"], dest)
    return dest


def _edit_json(folder: Path, name: str, change: Callable[[Any], Any]) -> None:
    path = folder / name
    doc = json.loads(path.read_text())
    new = change(doc)
    path.write_text(new.text if isinstance(new, Raw) else json.dumps(new))


class Raw:
    """A JSON text written as is (nesting deeper than Python's json can build)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _set(doc: Any, keys: tuple[str, ...], value: Any) -> Any:
    d = doc
    for k in keys[:-1]:
        d = d[k]
    d[keys[-1]] = value
    return doc


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


@case(2, "run id collision on import keeps both runs (store)")
def _collision(tmp: Path) -> None:
    from rnnlab.archive import zip_run
    from rnnlab.store import RunStore

    folder = base_run(tmp)
    store = RunStore(tmp / "store")
    from rnnlab.runs import load_run

    run = load_run(folder)
    entry = store.save(run)
    data = zip_run(folder)
    if not hasattr(store, "import_zip"):
        return  # no store-level import: the dashboard imports into a fresh folder (checked in the app cases)
    store.import_zip(data)
    check(len(store.list()) >= 2 or entry.id in {e.id for e in store.list()}, "a run was replaced")


# ============================================================================= 3: long series
def _long_case(n: int, limit: float) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        from rnnlab.preprocessing import Preprocessor

        rng = np.random.default_rng(0)
        y = 100 + np.cumsum(rng.normal(0, 1, n))
        frame = pd.DataFrame({"y": y})
        t0 = time.perf_counter()
        Preprocessor(target="y", seq_len=10, horizon=2).fit(frame, int(n * 0.7))
        dt = time.perf_counter() - t0
        check(dt < limit, f"choosing the transform for {n:,} rows took {dt:.1f} s")
    return run


for _n, _lim in ((20_000, 5.0), (100_000, 5.0), (400_000, 8.0), (2_000_000, 15.0)):
    case(3, f"auto transform on {_n:,} rows", limit=60.0)(_long_case(_n, _lim))


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


# ============================================================================= 5: magnitudes
def _magnitude_case(kind: str) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        n = 200
        rng = np.random.default_rng(3)
        v = 50 + np.cumsum(rng.normal(0, 1, n))
        if kind == "sentinel 1e300":
            v[57] = 1e300
        elif kind == "sentinel -1e308":
            v[120] = -1e308
        elif kind == "around 1e200":
            v = 1e200 * (1 + 0.01 * rng.normal(0, 1, n))
        elif kind == "around 1e-200":
            v = 1e-200 * (1 + 0.1 * rng.normal(0, 1, n).cumsum())
        elif kind == "changes 1e-14 on level 1":
            v = 1 + 1e-14 * rng.normal(0, 1, n).cumsum()
        elif kind == "changes 1e-13 on level 1e3":
            v = 1e3 + 1e-13 * np.arange(n)
        elif kind == "around 1e-9 (nano units)":
            v = 1e-9 * (5 + rng.normal(0, 1, n).cumsum())
        elif kind == "around 1e12":
            v = 1e12 + 1e9 * rng.normal(0, 1, n).cumsum()
        p = write(tmp / "m.csv", series_csv(n, values=v))
        res = cli("train", "--data", p, *TINY, "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(tmp / "o"))
        # accepted: the model must have trained on a real scale and its metrics must be finite
        from rnnlab.runs import load_run

        run = load_run(tmp / "o")
        m = run.metrics["test"]["model"]["rmse"]
        check(math.isfinite(m) and m > 0, f"accepted, test RMSE {m}")
        check(run.preprocessor.target_scale_ != 1.0 or kind.startswith("around 1e12"),
              f"accepted with a scale of 1 for data of magnitude {np.abs(v).max():g}")
        if kind.startswith("sentinel"):
            raise Wrong("a sentinel value was accepted as data")
        del res
    return run


for _k in ("sentinel 1e300", "sentinel -1e308", "around 1e200", "around 1e-200", "changes 1e-14 on level 1",
           "changes 1e-13 on level 1e3", "around 1e-9 (nano units)", "around 1e12"):
    case(5, f"train on values {_k}")(_magnitude_case(_k))


# ============================================================================= 6: no time column
def _no_time_case(n: int) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        rng = np.random.default_rng(0)
        text = "a,b\n" + "\n".join(f"{x:.3f},{y:.3f}" for x, y in rng.normal(0, 1, (n, 2)).cumsum(axis=0)) + "\n"
        ds = load(write(tmp / "nt.csv", text))
        check(len(ds.frame) == n, f"{len(ds.frame)} rows of {n}")
        check(not any("days from 2000" in w for w in ds.warnings), f"invented dates: {ds.warnings}")
    return run


for _n in (50, 5_000, 100_000, 300_000):
    case(6, f"CSV without a time column, {_n:,} rows")(_no_time_case(_n))


# ============================================================================= 7: log_return
@case(7, "--transform log_return, target negative in the test span")
def _logret_test_negative(tmp: Path) -> None:
    n = 300
    v = np.linspace(100, 10, n) + np.sin(np.arange(n))
    v[-20:] = -5 + np.arange(20) * 0.1
    cli("train", "--data", write(tmp / "l.csv", series_csv(n, values=v)), *TINY, "--transform", "log_return",
        "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(tmp / "o"))
    raise Wrong("accepted log_return on a non-positive target")


@case(7, "--transform log_return, a feature non-positive later")
def _logret_feature(tmp: Path) -> None:
    n = 300
    rng = np.random.default_rng(0)
    y = 100 + np.cumsum(rng.normal(0, 1, n))
    f = 50 + np.cumsum(rng.normal(0, 1, n))
    f[-30:] = -1.0
    idx = pd.date_range("2020-01-01", periods=n, freq="D")
    text = "date,y,f\n" + "\n".join(f"{t.date()},{a},{b}" for t, a, b in zip(idx, y, f)) + "\n"
    try:
        res = cli("train", "--data", write(tmp / "lf.csv", text), *TINY, "--transform", "log_return", "--features", "f",
                  "--target", "y", "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(tmp / "o"))
    except Exception as e:
        check("learning rate" not in str(e) and "lr" not in str(e).split(), f"blames the learning rate: {e}")
        raise
    check("diff" in res.err or "log" in res.err, "no word on the feature's transform")


@case(7, "auto transform, positive growing training span, non-positive later")
def _auto_logret(tmp: Path) -> None:
    n = 400
    rng = np.random.default_rng(1)
    v = np.exp(np.linspace(0, 3, n) + rng.normal(0, 0.02, n).cumsum())
    v[-40:] = -v[-40:]
    try:
        cli("train", "--data", write(tmp / "a.csv", series_csv(n, values=v)), *TINY, "--seq-len", "8", "--horizon", "2",
            "--quiet", "--out", str(tmp / "o"))
    except Exception as e:
        check("learning rate" not in str(e), f"blames the learning rate: {e}")
        raise


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


# ============================================================================= 17: messages
@case(17, "UTF-16 LE without BOM is read (or named UTF-16), not called binary")
def _utf16_nobom(tmp: Path) -> None:
    text = series_csv(50)
    p = write(tmp / "u.csv", text.encode("utf-16-le"))
    try:
        ds = load(p)
    except Exception as e:
        check("binary" not in str(e) or "UTF-16" in str(e), f"called binary: {e}")
        raise
    check(len(ds.frame) == 50, "rows lost")


@case(17, "UTF-16 BE without BOM")
def _utf16be_nobom(tmp: Path) -> None:
    p = write(tmp / "u.csv", series_csv(50).encode("utf-16-be"))
    try:
        ds = load(p)
    except Exception as e:
        check("binary" not in str(e) or "UTF-16" in str(e), f"called binary: {e}")
        raise
    check(len(ds.frame) == 50, "rows lost")


def _dropped_target(kind: str) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        n = 60
        idx = pd.date_range("2020-01-01", periods=n, freq="D")
        col = {"all-NaN": [""] * n, "boolean": ["true", "false"] * (n // 2), "text": ["abc"] * n}[kind]
        text = "date,other,close\n" + "\n".join(f"{t.date()},{i},{c}" for i, (t, c) in enumerate(zip(idx, col))) + "\n"
        ds = load(write(tmp / "t.csv", text))
        try:
            ds.select("close")
        except Exception as e:
            check("unknown target" not in str(e), f"misleading: {e}")
            raise
        raise Wrong("selected a dropped column")
    return run


for _k in ("all-NaN", "boolean", "text"):
    case(17, f"choosing a dropped {_k} target names why it was dropped")(_dropped_target(_k))


@case(17, "300 rows with 2 distinct timestamps mention duplicates")
def _two_ts(tmp: Path) -> None:
    text = "date,value\n" + "\n".join(f"2020-01-0{1 + i % 2},{i}" for i in range(300)) + "\n"
    try:
        load(write(tmp / "d.csv", text))
    except Exception as e:
        check("duplicate" in str(e), f"no word on duplicates: {e}")
        raise
    raise Wrong("accepted")


@case(17, "concurrent saves to one folder never say 'not a run folder'")
def _concurrent_saves(tmp: Path) -> None:
    import threading

    from rnnlab.runs import load_run, save_run

    folder = base_run(tmp)
    run = load_run(folder)
    errors: list[str] = []

    def saver() -> None:
        for _ in range(6):
            try:
                save_run(run, folder)
            except Exception as e:  # noqa: BLE001
                errors.append(str(e))

    threads = [threading.Thread(target=saver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not [e for e in errors if "not an rnnlab run" in e or "not a run" in e], f"errors: {errors[:2]}")
    load_run(folder)


# ============================================================================= 18: ms vs MS
@case(18, "millisecond data: no monthly season 12")
def _ms(tmp: Path) -> None:
    p = write(tmp / "ms.csv", series_csv(300, freq="ms", start="2024-01-01 00:00:00"))
    res = cli("train", "--data", p, *TINY, "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(tmp / "o"))
    check("season 12" not in res.out, res.out.splitlines()[0])


@case(18, "month-start data: season 12")
def _MS(tmp: Path) -> None:
    p = write(tmp / "MS.csv", series_csv(120, freq="MS", start="2000-01-01"))
    res = cli("train", "--data", p, *TINY, "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(tmp / "o"))
    check("season 12" in res.out, res.out.splitlines()[0])


@case(18, "calendar: ms / MS / 10ms / 2MS")
def _ms_calendar(tmp: Path) -> None:
    from rnnlab.calendar import infer_season, suggest_window

    check(infer_season("ms") == 1 and infer_season("MS") == 12 and infer_season("10ms") == 1, "seasons")
    check(suggest_window("ms", 1000) != suggest_window("MS", 1000), "windows equal for ms and MS")


# ============================================================================= 19: missing values
def _missing_case(share: float, kind: str) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        n = 400
        rng = np.random.default_rng(2)
        v = (50 + np.cumsum(rng.normal(0, 1, n))).astype(object)
        holes = rng.choice(np.arange(1, n - 1), int(share * n), replace=False)
        v[holes] = "inf" if kind == "inf" else ""
        ds = load(write(tmp / "m.csv", series_csv(n, values=v)))
        ds.select("value")
        if share > 0.25:
            raise Wrong(f"{share:.0%} {kind} values were invented by interpolation (warnings: {ds.warnings[-1:]})")
    return run


for _s in (0.05, 0.2, 0.5, 0.94):
    for _k in ("missing", "inf"):
        case(19, f"{_s:.0%} {_k} target values")(_missing_case(_s, _k))


@case(19, "the named target column is text: the default target must not silently switch")
def _switch(tmp: Path) -> None:
    n = 60
    idx = pd.date_range("2020-01-01", periods=n, freq="D")
    text = "date,volume,close\n" + "\n".join(f"{t.date()},{i},n/a{i}" for i, t in enumerate(idx)) + "\n"
    ds = load(write(tmp / "t.csv", text))
    check(any("close" in w and "target" in w for w in ds.warnings), f"switched silently to {ds.target}: {ds.warnings}")


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


# ============================================================================= generic CSV noise (all items)
def _csv_noise(seed: int) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        rng = np.random.default_rng(seed)
        n = int(rng.integers(5, 400))
        kinds = ["iso", "dmy", "mdy", "none", "epoch", "ms"]
        tk = kinds[seed % len(kinds)]
        idx = pd.date_range("2021-01-01", periods=n, freq=["D", "h", "MS", "W"][seed % 4])
        times = {"iso": idx.astype(str), "dmy": idx.strftime("%d/%m/%Y"), "mdy": idx.strftime("%m/%d/%Y"),
                 "none": None, "epoch": (idx.astype("int64") // 10**9).astype(str),
                 "ms": idx.strftime("%Y-%m-%d %H:%M:%S.%f")}[tk]
        vals = rng.normal(0, 1, n).cumsum() * 10 ** float(rng.uniform(-8, 8))
        vals = vals.astype(object)
        for _ in range(int(rng.integers(0, 6))):
            vals[int(rng.integers(0, n))] = rng.choice(["", "NaN", "inf", "-", "x", "1e309", "-1e400", "0"])
        header = "t,v" if times is not None else "v"
        rows = [f"{a},{b}" for a, b in zip(times, vals)] if times is not None else [str(b) for b in vals]
        text = header + "\n" + "\n".join(rows) + "\n"
        ds = load(write(tmp / "n.csv", text))
        sel = ds.select(ds.target)
        check(bool(np.isfinite(sel.frame.to_numpy()).all()), "non-finite values after select")
        if times is not None and tk in ("iso", "dmy", "mdy") and len(sel.frame) == n:
            check(bool((pd.DatetimeIndex(sel.frame.index) == idx).all()), f"dates read wrongly ({tk})")
    return run


for _seed in range(60):
    case(0, f"CSV noise #{_seed}")(_csv_noise(_seed))


# ============================================================================= runner
def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def run_case(c: Case) -> tuple[str, str]:
    from rnnlab.errors import RnnlabError

    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(math.ceil(c.limit)))
    try:
        c.fn(tmp)
        return "clean", ""
    except Wrong as e:
        return "wrong", str(e)[:300]
    except Hang:
        return "hang", f"no answer within {c.limit:.0f} s"
    except RnnlabError as e:
        return "clean", "refused: " + str(e)[:200]
    except Exception as e:  # noqa: BLE001
        tb = traceback.format_exception(e)
        return "traceback", f"{type(e).__name__}: {str(e)[:200]} @ {tb[-2].strip()[:200] if len(tb) > 1 else ''}"
    finally:
        signal.alarm(0)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def app_cases() -> list[Case]:
    """Dashboard cases through AppTest: bad uploads keep the previous dataset; no exception."""
    out = []

    def upload_case(label: str, payload: bytes, expect_keep: bool = True) -> Case:
        def run(tmp: Path) -> None:
            from tests.app.apptools import open_app, session_dataset

            at = open_app("data")
            before = session_dataset(at).name
            ups = [u for u in at.get("file_uploader")] if hasattr(at, "get") else []
            if not ups:
                raise Wrong("no file uploader found")
            ups[0].set_value(("hostile.csv", payload, "text/csv")) if hasattr(ups[0], "set_value") else None
            at.run()
            if at.exception:
                raise RuntimeError(str([e.value for e in at.exception])[:200])
            if expect_keep:
                check(session_dataset(at).name == before, "the bad dataset replaced the previous one")
        return Case(0, f"app upload: {label}", run, 120)

    n = 200
    v = 50 + np.cumsum(np.random.default_rng(0).normal(0, 1, n))
    v[57] = 1e300
    out.append(upload_case("1e300 sentinel", series_csv(n, values=v).encode()))
    out.append(upload_case("no time column 100k rows", ("v\n" + "\n".join(str(i % 97) for i in range(100_000))).encode(),
                           expect_keep=False))
    out.append(upload_case("UTF-16 without BOM", series_csv(50).encode("utf-16-le"), expect_keep=False))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", help="comma-separated item numbers")
    p.add_argument("--app", action="store_true", help="also the AppTest cases (slow)")
    p.add_argument("--out", default="bench/results")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    cases = list(CASES) + (app_cases() if args.app else [])
    if args.only:
        keep = {int(x) for x in args.only.split(",")}
        cases = [c for c in cases if c.item in keep]
    results = []
    t0 = time.perf_counter()
    for c in cases:
        t = time.perf_counter()
        outcome, detail = run_case(c)
        results.append({"item": c.item, "case": c.name, "outcome": outcome, "detail": detail,
                        "seconds": round(time.perf_counter() - t, 2)})
        if outcome != "clean" or not args.quiet:
            print(f"[{outcome:9s}] {c.item:2d} {c.name}: {detail}", flush=True)
    counts = Counter(r["outcome"] for r in results)
    by_item: dict[int, Counter[str]] = {}
    for r in results:
        by_item.setdefault(r["item"], Counter())[r["outcome"]] += 1
    print(f"\n{len(results)} cases in {time.perf_counter() - t0:.0f} s: clean {counts['clean']}, traceback "
          f"{counts['traceback']}, hang {counts['hang']}, silent wrong {counts['wrong']}")
    for item in sorted(by_item):
        c = by_item[item]
        print(f"  item {item:2d}: {sum(c.values()):3d} cases, clean {c['clean']}, traceback {c['traceback']}, "
              f"hang {c['hang']}, wrong {c['wrong']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "hostile.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M"), "counts": dict(counts),
                                                  "results": results}, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
