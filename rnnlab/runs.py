"""A run is a self-describing folder; ``save_run`` and ``load_run`` are its only doors.

Layout (``FORMAT = "rnnlab-run/1"``)::

    config.json        every setting (resolved), model config, seed, dataset description,
                       data fingerprint, package versions, training outcome
    weights.safetensors model weights (never a pickle)
    scaler.json        the fitted preprocessor (transform, per-column centre/scale)
    linear.json        the linear-AR baseline's coefficients
    history.json       per-epoch train/validation loss, learning rate, seconds
    metrics.json       {"test": {"model": {...}, "naive": {...}, ...}, "val": ..., "per_step": ...}
    predictions.csv    test-span predictions of the model and the baselines, one row per window and step
    data.csv.gz        the series the run was trained on, so a run reloads anywhere
    evolution.safetensors (optional) test-span anchor states at a few epochs of the training
                       (tensors states (E, m, H*D), windows (m,), anchors (m,); epochs, validation
                       losses, span and source as JSON in the header's metadata)

Loading parses JSON/CSV and safetensors only: nothing in a run folder or archive is ever
executed or unpickled. Archives are checked for path traversal, links, unknown members and
size before anything is written.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from rnnlab.config import RunConfig
from rnnlab.data import Dataset
from rnnlab.errors import ConfigError, RnnlabError, RunError
from rnnlab.metrics import LinearAR
from rnnlab.models import ModelConfig, RNNForecaster
from rnnlab.preprocessing import Preprocessor

FORMAT = "rnnlab-run/1"
REQUIRED_FILES = ("config.json", "weights.safetensors", "scaler.json", "linear.json", "history.json",
                  "metrics.json", "data.csv.gz")
OPTIONAL_FILES = ("predictions.csv", "evolution.safetensors")
EVOLUTION_FORMAT = "rnnlab-evolution/1"
RUN_FILES = REQUIRED_FILES + OPTIONAL_FILES
MAX_ARCHIVE_BYTES = 200 * 1024 * 1024  # uncompressed total an archive may expand to


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _clean(obj: Any) -> Any:
    """JSON has no NaN/inf: write them as null so any JSON reader can load the file."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _dump(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(_clean(obj), indent=2, default=_json_default), encoding="utf-8")


def _nan(obj: Any) -> Any:
    """Inverse of :func:`_clean` for metric tables: null -> NaN."""
    if obj is None:
        return float("nan")
    if isinstance(obj, dict):
        return {k: _nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan(v) for v in obj]
    return obj


def save_run(run: "Run", directory: str | os.PathLike[str]) -> Path:  # noqa: F821 - forward ref
    """Write ``run`` to ``directory`` (created if needed). Returns the folder path.

    Files are written to a temporary sibling folder and moved into place, so a failure
    (disk full, permission denied) leaves no half-written run; it raises :class:`RunError`
    and the in-memory run stays usable.
    """
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    target = Path(directory)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-run-", dir=target.parent))
    except OSError as exc:
        raise RunError(f"cannot write the run to '{target}': {exc.strerror or exc}") from exc
    try:
        ds = run.dataset
        _dump(tmp / "config.json", {
            "format": FORMAT,
            "config": run.config.to_dict(),
            "model": run.model.config.to_dict(),
            "dataset": {"name": ds.name, "target": ds.target, "columns": ds.columns, "freq": ds.freq,
                        "description": ds.description, "source": ds.source, "licence": ds.licence,
                        "rows": len(ds.frame), "start": str(ds.frame.index[0]), "end": str(ds.frame.index[-1])},
            "meta": run.meta,
            "train_info": run.train_info,
        })
        state = {k: v.detach().contiguous().cpu() for k, v in run.model.state_dict().items()}
        save_file(state, str(tmp / "weights.safetensors"), metadata={"format": FORMAT, "cell": run.model.config.cell})
        _dump(tmp / "scaler.json", run.preprocessor.to_dict())
        _dump(tmp / "linear.json", run.linear.to_dict())
        _dump(tmp / "history.json", run.history)
        _dump(tmp / "metrics.json", run.metrics)
        if run.predictions is not None:
            run.predictions.to_csv(tmp / "predictions.csv", index=False)
        if run.evolution is not None:
            _save_evolution(run.evolution, tmp / "evolution.safetensors")
        frame = ds.frame.copy()
        frame.index.name = "time"
        frame.to_csv(tmp / "data.csv.gz", compression={"method": "gzip", "mtime": 0})
        if target.exists():
            if not (target / "config.json").exists() and any(target.iterdir()):
                raise RunError(f"'{target}' exists and is not a run folder; choose an empty or new folder")
            for name in RUN_FILES:
                (target / name).unlink(missing_ok=True)
            for child in tmp.iterdir():
                os.replace(child, target / child.name)
            tmp.rmdir()
        else:
            os.replace(tmp, target)
    except (OSError, SafetensorError) as exc:  # safetensors reports a full disk as SafetensorError
        _rmtree(tmp)
        raise RunError(f"cannot write the run to '{target}': {getattr(exc, 'strerror', None) or exc}") from exc
    except RnnlabError:
        _rmtree(tmp)
        raise
    return target


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _read_json(folder: Path, name: str) -> Any:
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RunError(f"'{folder}' is not a complete run: {name} is missing") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{name} in '{folder}' is not valid JSON ({exc})") from exc
    except OSError as exc:
        raise RunError(f"cannot read {name} in '{folder}': {exc.strerror or exc}") from exc


def load_run(directory: str | os.PathLike[str]) -> "Run":  # noqa: F821
    """Rebuild a run from its folder; predictions are identical to the saved model's."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from rnnlab.pipeline import Run

    folder = Path(directory)
    if not folder.is_dir():
        raise RunError(f"run folder '{folder}' does not exist")
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise RunError(f"'{folder}' is not a complete run folder: missing {', '.join(missing)}")
    cfg_doc = _read_json(folder, "config.json")
    if not isinstance(cfg_doc, dict) or cfg_doc.get("format") != FORMAT:
        raise RunError(f"config.json in '{folder}' is not an rnnlab run (format {cfg_doc.get('format') if isinstance(cfg_doc, dict) else None!r}, expected {FORMAT!r})")
    try:
        config = RunConfig.from_dict(cfg_doc["config"])
        model_cfg = ModelConfig(**cfg_doc["model"]).validate()
        ds_doc = cfg_doc["dataset"]
        preprocessor = Preprocessor.from_dict(_read_json(folder, "scaler.json"))
        linear = LinearAR.from_dict(_read_json(folder, "linear.json"))
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise RunError(f"the run in '{folder}' has an invalid config: {exc}") from exc
    if preprocessor.n_features != model_cfg.input_size or preprocessor.horizon != model_cfg.horizon:
        raise RunError(
            f"the run's config does not match itself: the scaler has {preprocessor.n_features} input columns and "
            f"horizon {preprocessor.horizon}, the model expects {model_cfg.input_size} and {model_cfg.horizon}"
        )
    try:
        state = load_file(str(folder / "weights.safetensors"))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise RunError(f"weights.safetensors in '{folder}' is not a valid safetensors file ({exc})") from exc
    model = RNNForecaster(model_cfg)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if expected != got:
        diff = sorted(set(expected.items()) ^ set(got.items()))[:4]
        raise RunError(
            f"weights.safetensors does not match config.json ({model_cfg.cell}, hidden {model_cfg.hidden_size}, "
            f"{model_cfg.num_layers} layers): differing tensors {diff}"
        )
    model.load_state_dict(state)
    model.eval()
    try:
        frame = pd.read_csv(folder / "data.csv.gz", index_col=0, parse_dates=[0]).astype("float64")
    except (OSError, ValueError, EOFError, pd.errors.ParserError) as exc:
        raise RunError(f"data.csv.gz in '{folder}' cannot be read ({exc})") from exc
    frame.index.name = "time"
    if list(frame.columns) != preprocessor.columns:
        raise RunError(f"data.csv.gz has columns {list(frame.columns)}, the scaler expects {preprocessor.columns}")
    dataset = Dataset(name=str(ds_doc.get("name", "run data")), frame=frame, target=preprocessor.target,
                      freq=ds_doc.get("freq"), description=str(ds_doc.get("description", "")),
                      source=str(ds_doc.get("source", "")), licence=str(ds_doc.get("licence", "")))
    predictions = None
    if (folder / "predictions.csv").is_file():
        try:
            predictions = pd.read_csv(folder / "predictions.csv", parse_dates=["anchor_time", "target_time"])
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise RunError(f"predictions.csv in '{folder}' cannot be read ({exc})") from exc
    history = _read_json(folder, "history.json")
    if not isinstance(history, list):
        raise RunError(f"history.json in '{folder}' must hold a list of epochs")
    evolution = None
    if (folder / "evolution.safetensors").is_file():  # runs saved before it existed have none
        evolution = _load_evolution(folder / "evolution.safetensors", model_cfg, len(frame))
    return Run(config=config, model=model, preprocessor=preprocessor, linear=linear, dataset=dataset,
               history=_nan(history), train_info=cfg_doc.get("train_info", {}),
               metrics=_nan(_read_json(folder, "metrics.json")), predictions=predictions,
               meta={**cfg_doc.get("meta", {}), "loaded_from": str(folder)}, evolution=evolution)


def _save_evolution(evo: "Evolution", path: Path) -> None:  # noqa: F821
    from safetensors.torch import save_file

    tensors = {"states": torch.from_numpy(np.ascontiguousarray(evo.states, dtype=np.float32)),
               "windows": torch.from_numpy(np.ascontiguousarray(evo.windows, dtype=np.int64)),
               "anchors": torch.from_numpy(np.ascontiguousarray(evo.anchors, dtype=np.int64))}
    doc = {"epochs": evo.epochs, "val_losses": {str(e): v for e, v in evo.val_losses.items()}, "span": evo.span,
           "source": evo.source, "replay_gap": evo.replay_gap}
    save_file(tensors, str(path), metadata={"format": EVOLUTION_FORMAT, "evolution": json.dumps(_clean(doc))})


def _load_evolution(path: Path, model_cfg: ModelConfig, n_rows: int) -> "Evolution":  # noqa: F821
    """Read and check ``evolution.safetensors``; :class:`RunError` when it is not a valid one for this run."""
    from safetensors import SafetensorError, safe_open

    from rnnlab.analysis.states import Evolution

    name = f"{path.name} in '{path.parent}'"
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            arrays = {k: f.get_tensor(k).numpy() for k in f.keys()}  # noqa: SIM118 - not a dict
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise RunError(f"{name} is not a valid safetensors file ({exc})") from exc
    if meta.get("format") != EVOLUTION_FORMAT or set(arrays) != {"states", "windows", "anchors"}:
        raise RunError(f"{name} is not an rnnlab evolution (format {meta.get('format')!r}, "
                       f"tensors {sorted(arrays)}; expected {EVOLUTION_FORMAT!r} with states, windows, anchors)")
    try:
        doc = json.loads(meta.get("evolution", ""))
        evo = Evolution(epochs=doc["epochs"], states=arrays["states"], windows=arrays["windows"],
                        anchors=arrays["anchors"], val_losses={int(e): float(_nan(v)) for e, v in doc["val_losses"].items()},
                        span=str(doc["span"]), source=str(doc["source"]), replay_gap=float(doc["replay_gap"]))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError, ConfigError) as exc:
        raise RunError(f"{name} is invalid: {exc}") from exc
    width = model_cfg.hidden_size * (2 if model_cfg.bidirectional else 1)
    if evo.states.shape[2] != width or (len(evo.anchors) and not 0 <= evo.anchors.min() <= evo.anchors.max() < n_rows):
        raise RunError(f"{name} does not match the run: states of {evo.states.shape[2]} units (the model has {width}), "
                       f"anchor rows within 0..{n_rows - 1} expected")
    return evo


# ----------------------------------------------------------------------------- archives
def zip_run(directory: str | os.PathLike[str]) -> bytes:
    """The run folder as a zip archive (bytes), files at the archive root."""
    folder = Path(directory)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in RUN_FILES:
            if (folder / name).is_file():
                zf.write(folder / name, arcname=name)
    return buf.getvalue()


def unzip_run(archive: bytes | str | os.PathLike[str] | io.IOBase, destination: str | os.PathLike[str]) -> Path:
    """Safely extract a run archive into ``destination`` and return the folder.

    Refused with :class:`RunError` (before anything is written): not a zip; absolute or
    ``..`` paths; links or special files; members that are not run files; more than
    ``MAX_ARCHIVE_BYTES`` uncompressed; missing required files. A single top-level folder
    inside the archive is accepted.
    """
    source: Any = io.BytesIO(archive) if isinstance(archive, (bytes, bytearray)) else archive
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RunError(f"the upload is not a zip archive of a run ({exc})") from exc
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        names = [m.filename for m in members]
        for m in members:
            p = m.filename.replace("\\", "/")
            if p.startswith("/") or ".." in p.split("/") or ":" in p.split("/")[0]:
                raise RunError(f"archive entry '{m.filename}' points outside the run folder; refusing the archive")
            mode = (m.external_attr >> 16) & 0o170000
            if mode and not stat.S_ISREG(mode):
                raise RunError(f"archive entry '{m.filename}' is a link or special file; refusing the archive")
        prefixes = {n.split("/")[0] for n in names if "/" in n}
        strip = ""
        if len(prefixes) == 1 and all("/" in n for n in names):
            strip = prefixes.pop() + "/"
        base_names = [n[len(strip):] for n in names]
        unknown = [n for n in base_names if n not in RUN_FILES]
        if unknown:
            raise RunError(f"the archive is not an rnnlab run: unexpected entries {unknown[:5]}; a run holds {', '.join(RUN_FILES)}")
        missing = [f for f in REQUIRED_FILES if f not in base_names]
        if missing:
            raise RunError(f"the archive is not a complete rnnlab run: missing {', '.join(missing)}")
        total = sum(m.file_size for m in members)
        if total > MAX_ARCHIVE_BYTES:
            raise RunError(f"the archive expands to {total / 1e6:.0f} MB, above the {MAX_ARCHIVE_BYTES / 1e6:.0f} MB limit")
        dest = Path(destination)
        try:
            dest.mkdir(parents=True, exist_ok=True)
            for m, name in zip(members, base_names):
                with zf.open(m) as src, open(dest / name, "wb") as out:
                    out.write(src.read(MAX_ARCHIVE_BYTES + 1))
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise RunError(f"cannot extract the run archive ({exc})") from exc
    return dest


def load_run_archive(archive: bytes | str | os.PathLike[str] | io.IOBase, destination: str | os.PathLike[str]) -> "Run":  # noqa: F821
    """:func:`unzip_run` then :func:`load_run`."""
    return load_run(unzip_run(archive, destination))


def state_dict_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
