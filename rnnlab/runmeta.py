"""The light part of a run folder: its format constants and config.json's meta, without torch.

A run store lists and edits runs through this module only, so listing the store (the app's
sidebar, ``python -m rnnlab runs``) never imports torch. :mod:`rnnlab.runs` writes and loads
whole runs.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from rnnlab.errors import RunError
from rnnlab.jsonfiles import read_json, write_json

FORMAT = "rnnlab-run/2"
FORMATS_READ = ("rnnlab-run/1", FORMAT)  # /1: forecasting runs saved before tasks existed
COMMON_FILES = ("config.json", "weights.safetensors", "history.json", "metrics.json")
WITHHELD = "withheld"  # metrics.json key: spans deliberately not scored yet (["test"]); load_run scores them
USER_FIELDS = ("name", "tags", "note")  # meta fields a user edits on a saved run


def edit_meta(directory: str | os.PathLike[str], **changes: Any) -> dict[str, Any]:
    """Change meta fields of the saved run in ``directory`` (``name=``, ``tags=``, ``note=``; None
    removes one) and return the new meta. config.json is written to a hidden file beside it and
    renamed over it, so a reader sees the old or the new file, never a part of one; the checksums
    (of the other files) stay valid."""
    folder = Path(directory)
    for attempt in range(5):  # a save of the same run (a training job's checkpoint) may swap the folder meanwhile
        doc = read_json(folder, "config.json")
        if not isinstance(doc, dict) or doc.get("format") not in FORMATS_READ:
            raise RunError(f"'{folder}' is not an rnnlab run folder; its meta cannot be edited")
        meta = doc.get("meta", {})
        if not isinstance(meta, dict):
            raise RunError(f"config.json in '{folder}': 'meta' must be a mapping, got {type(meta).__name__}")
        meta = dict(meta)
        for key, value in changes.items():
            if value is None:
                meta.pop(key, None)
            else:
                meta[key] = value
        doc["meta"] = meta
        tmp = folder / f".config-{uuid.uuid4().hex[:8]}.json.tmp"
        try:
            write_json(tmp, doc)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, folder / "config.json")
            return meta
        except FileNotFoundError:
            if attempt == 4:
                raise RunError(f"cannot edit the run in '{folder}': it keeps being replaced") from None
            time.sleep(0.05)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise RunError(f"cannot edit the run in '{folder}': {exc.strerror or exc}") from exc
    raise AssertionError("unreachable")  # pragma: no cover
