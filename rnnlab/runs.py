"""A run is a self-describing folder; ``save_run`` and ``load_run`` are its only doors.

Common files of every task (``FORMAT = "rnnlab-run/2"``)::

    config.json          format marker, task, every setting (resolved), the model's shape, the
                         dataset's description, meta (id, created, versions, data fingerprint),
                         training outcome, and a sha256 of every other file of the folder
    weights.safetensors  model weights (safetensors: loading never unpickles anything)
    history.json         per-epoch train/validation loss, learning rate, seconds
    metrics.json         {"test": {"model": {...}, <baseline>: {...}, ...}, ...}: the task's scores

plus the task's own files (:attr:`rnnlab.tasks.base.Task.required_files`; forecasting:
``scaler.json``, ``linear.json``, ``data.csv.gz``, optional ``predictions.csv`` and
``evolution.safetensors``).

``config.json`` also holds a ``summary`` (:func:`run_summary`: the model's and the baselines'
scores, validation loss, epochs), so a run store lists runs from config.json alone. A run whose
test span was deliberately not scored yet (a sweep trial, an epoch-end checkpoint) says so in
metrics.json (``{"withheld": ["test"], ...}``); :func:`load_run` scores it when it is loaded for
use. :func:`rnnlab.runmeta.edit_meta` changes the name, tags or note of a saved run (atomically).

Loading parses JSON/CSV and safetensors only: nothing in a run folder or archive is ever
executed or unpickled. Every file is checked on load: the checksums recorded at save time
(a file edited or swapped afterwards is refused), the types and shapes of the JSON files, the
weights against the model the config describes. Saving writes a new folder beside the target
and swaps it in, so an interrupted save leaves the previous run intact; it refuses to write
into a folder that holds anything but an rnnlab run.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import torch

from rnnlab.errors import ConfigError, RnnlabError, RunError
from rnnlab.jsonfiles import null_to_nan, read_json, write_json
from rnnlab.models import ModelShape, build_model
from rnnlab.run import Run
from rnnlab.runmeta import COMMON_FILES, FORMAT, FORMATS_READ, USER_FIELDS, WITHHELD, edit_meta  # noqa: F401
from rnnlab.settings import ResolvedConfig, RunConfig
from rnnlab.tasks import REGISTRY, get_task

ALL_RUN_FILES = tuple(dict.fromkeys(COMMON_FILES + tuple(f for t in REGISTRY.values()
                                                        for f in (*t.required_files, *t.optional_files))))


def required_files(task: str) -> tuple[str, ...]:
    return COMMON_FILES + get_task(task).required_files


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_run_folder(path: Path) -> bool:
    """True when ``path`` holds a config.json with an rnnlab format marker."""
    try:
        doc = read_json(path, "config.json")
    except RunError:
        return False
    return isinstance(doc, dict) and doc.get("format") in FORMATS_READ


def holds_foreign_files(path: Path, checks: int = 5) -> bool:
    """True when ``path`` is a folder holding files but no rnnlab run. Another process saving the same
    run swaps folders in and out (a moment with no config.json, or no folder): only a folder that
    stays foreign over a few checks 20 ms apart counts, so concurrent saves never see each other as
    foreign files."""
    import time

    for i in range(checks):
        try:
            if not path.is_dir() or not any(path.iterdir()) or is_run_folder(path):
                return False
        except OSError:  # vanished between the checks: mid-swap
            return False
        if i < checks - 1:
            time.sleep(0.02)
    return True


# ----------------------------------------------------------------------------- saving
def _numbers(row: Any) -> dict[str, float]:
    if not isinstance(row, dict):
        return {}
    return {str(k): float(v) for k, v in row.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def run_summary(run: Run) -> dict[str, Any]:
    """Headline numbers of a run for listings, kept in config.json: per span (test, val) the model's
    and every baseline's scalar scores, the skill scores, the best validation loss, epochs, seconds;
    ``withheld`` names spans not scored yet. Any task: only what its metrics hold."""
    m = run.metrics
    out: dict[str, Any] = {}
    for span in ("test", "val"):
        table = m.get(span)
        if isinstance(table, dict) and table:
            out[span] = {str(who): _numbers(row) for who, row in table.items()}
    out.update(_numbers({k: v for k, v in m.items() if str(k).startswith("skill_vs_")}))
    out.update(_numbers({k: run.train_info.get(k) for k in ("best_val_loss", "seconds", "best_epoch")}))
    out["epochs"] = len(run.history)
    if m.get(WITHHELD):
        out[WITHHELD] = [str(s) for s in m[WITHHELD]]
    return out


def save_run(run: Run, directory: str | os.PathLike[str], keep_user_meta: bool = False) -> Path:
    """Write ``run`` to ``directory`` and return the folder path.

    ``directory`` must be new, empty, or an rnnlab run folder (which is replaced). The files
    are written to a hidden sibling folder, then swapped in with two renames; a failure (disk
    full, permission denied, Ctrl-C) removes the partial folder and leaves any previous run in
    place. Raises :class:`RunError`; the in-memory run stays usable. ``keep_user_meta``: a name,
    tags or note of the run being replaced (given in the app meanwhile) are kept where ``run``
    has none; they are read just before the swap.
    """
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise RunError(f"'{target}' is a file; give a folder for the run")
    if holds_foreign_files(target):
        raise RunError(f"'{target}' holds files that are not an rnnlab run; refusing to overwrite them. "
                       f"Choose an empty or new folder")
    task = get_task(run.task)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-run-", dir=target.parent))
    except OSError as exc:
        raise RunError(f"cannot write the run to '{target}': {exc.strerror or exc}") from exc
    try:
        state = {k: v.detach().contiguous().cpu() for k, v in run.model.state_dict().items()}
        save_file(state, str(tmp / "weights.safetensors"), metadata={"format": FORMAT, "task": run.task})
        write_json(tmp / "history.json", run.history)
        write_json(tmp / "metrics.json", run.metrics)
        task.write_files(run, tmp)
        checksums = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())}
        doc = {
            "format": FORMAT,
            "task": run.task,
            "config": run.config.to_dict(),
            "model": run.model.shape.to_dict(),
            "dataset": task.describe_data(run),
            "meta": {k: v for k, v in run.meta.items() if k != "loaded_from"},
            "train_info": run.train_info,
            "summary": run_summary(run),
            "required_files": list(required_files(run.task)),  # a listing checks them without the task registry
            "checksums": checksums,
        }
        write_json(tmp / "config.json", doc)
        if keep_user_meta and _merge_user_meta(doc["meta"], target):
            write_json(tmp / "config.json", doc)
        _swap_in(tmp, target)
    except (OSError, SafetensorError) as exc:  # safetensors reports a full disk as SafetensorError
        shutil.rmtree(tmp, ignore_errors=True)
        raise RunError(f"cannot write the run to '{target}': {getattr(exc, 'strerror', None) or exc}") from exc
    except BaseException:  # RnnlabError, KeyboardInterrupt, ...: no partial folder stays behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _merge_user_meta(meta: dict[str, Any], target: Path) -> bool:
    """Copy the name, tags and note of the run saved in ``target`` into ``meta`` where it has none."""
    try:
        old = read_json(target, "config.json").get("meta", {})
    except (RunError, AttributeError):
        return False
    merged = {k: old[k] for k in USER_FIELDS if isinstance(old, dict) and old.get(k) and not meta.get(k)}
    meta.update(merged)
    return bool(merged)


def _swap_in(tmp: Path, target: Path, attempts: int = 5) -> None:
    """Move the finished folder ``tmp`` to ``target``; an existing run there is moved aside first
    and removed only after the new one is in place. Concurrent savers retry."""
    for _ in range(attempts):
        old = None
        if target.exists():
            if holds_foreign_files(target):
                raise RunError(f"'{target}' holds files that are not an rnnlab run; refusing to overwrite them")
            old = target.with_name(f".old-run-{target.name}-{uuid.uuid4().hex[:8]}")
            try:
                os.rename(target, old)
            except FileNotFoundError:  # another saver moved it first
                old = None
        try:
            os.rename(tmp, target)
        except OSError:  # another saver's folder arrived in between: move that one aside and retry
            if old is not None and not target.exists():
                os.rename(old, target)  # put the previous run back before giving up this attempt
            continue
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return
    raise RunError(f"cannot replace '{target}': other processes keep writing to it")


# ----------------------------------------------------------------------------- loading
def _check_history(history: Any, folder: Path) -> list[dict[str, float]]:
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise RunError(f"history.json in '{folder}' must hold a list of epochs (mappings)")
    for h in history:
        for key in ("epoch", "train_loss", "val_loss"):
            v = h.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise RunError(f"history.json in '{folder}': {key} must be a number, got {v!r}")
    return null_to_nan(history)


def _check_metrics(metrics: Any, folder: Path) -> dict[str, Any]:
    """Metric tables are ``{span: {who: {metric: number}}}``; other keys hold numbers, text or lists.
    The test table may be missing only when ``withheld`` says it was not scored yet."""
    if not isinstance(metrics, dict):
        raise RunError(f"metrics.json in '{folder}' must hold a mapping, got {type(metrics).__name__}")
    withheld = metrics.get(WITHHELD, [])
    if not isinstance(withheld, list) or not set(withheld) <= {"test"}:
        raise RunError(f"metrics.json in '{folder}': '{WITHHELD}' may only list 'test', got {withheld!r}")
    test = metrics.get("test")
    if "test" in withheld and test is None:
        pass  # scored by load_run
    elif not isinstance(test, dict) or "model" not in test:
        raise RunError(f"metrics.json in '{folder}' has no test scores of the model ('test' -> 'model')")
    for span in ("test", "val"):
        table = metrics.get(span)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise RunError(f"metrics.json in '{folder}': '{span}' must map names to metric tables")
        for who, row in table.items():
            if not isinstance(row, dict):
                raise RunError(f"metrics.json in '{folder}': '{span}' -> '{who}' must map metric names to numbers")
            for name, v in row.items():
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, list, dict))):
                    raise RunError(f"metrics.json in '{folder}': '{span}' -> '{who}' -> '{name}' must be a number, "
                                   f"got {v!r}")
    return null_to_nan(metrics)


def _check_mapping(doc: dict[str, Any], key: str, folder: Path) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise RunError(f"config.json in '{folder}': '{key}' must be a mapping, got {type(value).__name__}")
    return value


def _check_info(info: dict[str, Any], folder: Path) -> dict[str, Any]:
    for key, kind in (("stop_reason", str), ("message", str), ("best_epoch", int), ("seconds", (int, float))):
        if key in info and info[key] is not None and not isinstance(info[key], kind):
            raise RunError(f"config.json in '{folder}': train_info.{key} has the wrong type ({info[key]!r})")
    return null_to_nan(info)


def _shape_v1(model_doc: dict[str, Any]) -> ModelShape:
    """The model shape of a format-1 run (its ``model`` section was the old ModelConfig)."""
    return ModelShape("forecast", input_size=int(model_doc["input_size"]), output_size=int(model_doc["horizon"]))


def _verify_checksums(folder: Path, checksums: Any, optional: tuple[str, ...] = ()) -> None:
    """Every file listed at save time is unchanged; optional files may have been removed since."""
    if not isinstance(checksums, dict) or not all(isinstance(v, str) for v in checksums.values()):
        raise RunError(f"config.json in '{folder}': checksums must map file names to sha256 strings")
    added = [f for f in ALL_RUN_FILES if f != "config.json" and f not in checksums and (folder / f).is_file()]
    if added:
        raise RunError(f"{', '.join(added)} in '{folder}' were added after the run was saved; refusing to load it")
    for name, expected in checksums.items():
        path = folder / str(name)
        if not path.is_file():
            if name in optional:
                continue
            raise RunError(f"'{folder}' is incomplete: {name} is listed in config.json but missing")
        got = sha256_file(path)
        if got != expected:
            raise RunError(f"{name} in '{folder}' was changed after the run was saved (sha256 {got[:12]}… "
                           f"instead of {expected[:12]}…); refusing to load it")


def load_run(directory: str | os.PathLike[str]) -> Run:
    """Rebuild a run from its folder, checking every file; predictions equal the saved model's."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(directory)
    if not folder.is_dir():
        raise RunError(f"run folder '{folder}' does not exist")
    doc = read_json(folder, "config.json")
    if not isinstance(doc, dict) or doc.get("format") not in FORMATS_READ:
        fmt = doc.get("format") if isinstance(doc, dict) else None
        raise RunError(f"config.json in '{folder}' is not an rnnlab run (format {fmt!r}, expected {FORMAT!r})")
    task_name = doc.get("task", "forecast")
    if not isinstance(task_name, str) or task_name not in REGISTRY:
        raise RunError(f"the run in '{folder}' is of task {task_name!r}, which this rnnlab does not know")
    missing = [f for f in required_files(task_name) if not (folder / f).is_file()]
    if missing:
        raise RunError(f"'{folder}' is not a complete run folder: missing {', '.join(missing)}")
    try:
        settings = _check_mapping(doc, "config", folder)
        config = ResolvedConfig.resolved(RunConfig.from_dict({**settings, "task": task_name}))
        model_doc = _check_mapping(doc, "model", folder)
        shape = _shape_v1(model_doc) if doc["format"] == "rnnlab-run/1" else ModelShape.from_dict(model_doc)
        model = build_model(config, shape)
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise RunError(f"the run in '{folder}' has an invalid config: {exc}") from exc
    try:
        state = load_file(str(folder / "weights.safetensors"))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise RunError(f"weights.safetensors in '{folder}' is not a valid safetensors file ({exc})") from exc
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if expected != got:
        diff = sorted(set(expected.items()) ^ set(got.items()))[:4]
        raise RunError(f"weights.safetensors does not match config.json ({config.cell}, hidden {config.hidden_size}, "
                       f"{config.num_layers} layers): differing tensors {diff}")
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise RunError(f"weights.safetensors in '{folder}' holds non-finite values in {bad[:3]}; the model is unusable")
    model.load_state_dict(state)
    model.eval()
    meta = _check_mapping(doc, "meta", folder)
    _check_mapping(doc, "summary", folder)
    _check_mapping(doc, "dataset", folder)
    listed = doc.get("required_files", [])
    if not isinstance(listed, list) or not all(isinstance(f, str) for f in listed):
        raise RunError(f"config.json in '{folder}': 'required_files' must be a list of file names")
    common = dict(config=config, model=model, history=_check_history(read_json(folder, "history.json"), folder),
                  train_info=_check_info(_check_mapping(doc, "train_info", folder), folder),
                  metrics=_check_metrics(read_json(folder, "metrics.json"), folder),
                  meta={**meta, "loaded_from": str(folder)})
    task = get_task(task_name)
    try:
        run = task.read_run(folder, doc, **common)
    except RnnlabError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise RunError(f"the run in '{folder}' has an invalid file: {type(exc).__name__}: {exc}") from exc
    if doc["format"] != "rnnlab-run/1":  # last: every file parsed and checked above, now none was swapped
        _verify_checksums(folder, doc.get("checksums"), optional=task.optional_files)
    if run.metrics.get(WITHHELD):  # a sweep trial or a checkpoint: scored now that it is used
        withheld = list(run.metrics[WITHHELD])
        run = task.evaluate(run)
        run.meta["scored_on_load"] = withheld
    return run
