"""Transfer learning: start a model from a saved run's weights, fine-tune all of it or only its head.

:func:`start_from` copies every tensor of the saved model into the new one after checking that
the two fit together: the same task, the same input columns (named in the error otherwise), the
same recurrent layers. A head that does not fit (another horizon, another vocabulary) starts
fresh, and the caller is told. ``freeze="recurrent"`` fixes the embedding, convolution and
recurrent layers, so only the head (and attention, highway) trains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.settings import RunConfig
from rnnlab.store import resolve_run_folder

# parameters that belong to the head of a model, by name prefix (they may start fresh)
HEAD_PREFIXES = ("head.", "attention.", "highway.")


def _columns(obj: Any) -> list[str] | None:
    pre = getattr(obj, "preprocessor", None)
    return list(pre.columns) if pre is not None else None


def start_from(model: nn.Module, config: RunConfig, prep: Any) -> list[str]:
    """Load ``config.init_from``'s weights into ``model`` (checked) and apply ``config.freeze``.
    Returns notes for the run's warnings. :class:`ConfigError` names what does not fit."""
    from rnnlab.runs import load_run

    source = config.init_from
    if not source:
        if config.freeze != "none":
            raise ConfigError(f"freeze={config.freeze!r} needs init_from: a run whose layers to keep")
        return []
    try:
        source = str(resolve_run_folder(source))
        old = load_run(source)
    except RnnlabError as exc:
        raise ConfigError(f"init_from={source!r} cannot be used: {exc}") from exc
    old_transform = getattr(getattr(old, "preprocessor", None), "transform_", None)
    new_transform = getattr(getattr(prep, "preprocessor", None), "transform_", None)
    if old_transform != new_transform:
        raise ConfigError(f"init_from={source!r} models its target as {old_transform}; this run as {new_transform}: "
                          f"use transform={old_transform!r} (auto takes the source run's transform)")
    if old.task != config.task:
        raise ConfigError(f"init_from={source!r} is a {old.task} run; this is a {config.task} run")
    old_cols, new_cols = _columns(old), _columns(prep)
    if old_cols is not None and new_cols is not None and len(old_cols) != len(new_cols):
        raise ConfigError(f"init_from={source!r} was trained on the input columns {old_cols}; this data has "
                          f"{new_cols}: the same number of columns is needed")
    notes = []
    if old_cols is not None and new_cols is not None and old_cols != new_cols:
        notes.append(f"fine-tuning a model trained on the columns {old_cols} on the columns {new_cols}")
    old_state, new_state = old.model.state_dict(), model.state_dict()
    body = {k for k in new_state if not k.startswith(HEAD_PREFIXES)}
    missing = sorted(k for k in body if k not in old_state or old_state[k].shape != new_state[k].shape)
    if missing:
        got = {k: tuple(old_state[k].shape) for k in missing if k in old_state}
        raise ConfigError(f"init_from={source!r} has other layers ({old.model_words}; tensors {missing[:3]} "
                          f"{'differ: ' + str(got) if got else 'are missing'}); use the same cell, hidden size, "
                          f"layers, direction and convolutions")
    load = {k: v for k, v in old_state.items() if k in new_state and v.shape == new_state[k].shape}
    fresh = sorted(k for k in new_state if k not in load)
    model.load_state_dict({**new_state, **load})
    if fresh:
        notes.append(f"started from {Path(source).name} except {', '.join(fresh)} (other shape: new weights)")
    else:
        notes.append(f"started from the weights of {Path(source).name}")
    if config.freeze == "recurrent":
        frozen = model.recurrent_modules()  # type: ignore[operator]
        for m in frozen:
            for p in m.parameters():
                p.requires_grad_(False)
        notes.append("recurrent layers frozen: only the head was trained")
    return notes
