"""Shared pieces of the hostile-input harness (:mod:`bench.hostile`): the case registry, the in-process
CLI, CSV writers and a tiny trained run that run-file cases copy."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
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
