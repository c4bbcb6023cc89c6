"""JSON files of a run folder: NaN/inf written as null (any JSON reader can load them), read back
with a :class:`~rnnlab.errors.RunError` that names the file and what is wrong."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.errors import RunError


def _default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def to_json_safe(obj: Any) -> Any:
    """JSON has no NaN/inf: null in their place."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: to_json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json_safe(v) for v in obj]
    return obj


def null_to_nan(obj: Any) -> Any:
    """Inverse of :func:`to_json_safe` for metric tables: null -> NaN."""
    if obj is None:
        return float("nan")
    if isinstance(obj, dict):
        return {k: null_to_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [null_to_nan(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(to_json_safe(obj), indent=2, default=_default)


def replace_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` without ever following a link there: into a new private file beside
    it, then renamed over it (a symlink at ``path`` is replaced, its target is untouched; a reader sees
    the old or the new file, never a part). Raises OSError."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(path: Path, obj: Any) -> None:
    path.write_text(dumps(obj), encoding="utf-8")


def read_json(folder: Path, name: str) -> Any:
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RunError(f"'{folder}' is not a complete run: {name} is missing") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{name} in '{folder}' is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise RunError(f"{name} in '{folder}' is nested too deeply to be a run file") from exc
    except OSError as exc:
        raise RunError(f"cannot read {name} in '{folder}': {exc.strerror or exc}") from exc
