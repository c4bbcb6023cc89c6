"""Transfer learning: start a model from a saved run's weights, fine-tune all of it or only its head.

:func:`start_from` copies every tensor of the saved model into the new one after checking that
the two fit together: the same task, the same input columns (named in the error otherwise), the
same recurrent layers. Tokens (text) and classes (classification) are matched by name: a row of
the embedding or the head moves to the row of the same token or class in the new run, and a token
or class the source never saw starts fresh (the caller is told how many). A head that does not
fit otherwise (another horizon) starts fresh. ``freeze="recurrent"`` fixes the embedding, convolution and
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
SPECIALS = {"<pad>", "<unk>", "<bos>", "<eos>"}  # rows every vocabulary has: they do not make two corpora alike


def _columns(obj: Any) -> list[str] | None:
    pre = getattr(obj, "preprocessor", None)
    return list(pre.columns) if pre is not None else None


def _rows(obj: Any) -> dict[str, list[str]]:
    """What each row of the vocabulary- or class-sized tensors stands for, by tensor name, for a
    saved run or a prepared run: the tokens of a text model (embedding and head), the characters
    of a classifier of texts (embedding) and its classes (head). Forecasting has none."""
    tok = getattr(obj, "tokenizer", None)
    if tok is not None:
        vocab = [str(t) for t in tok.vocab_]
        return {"embedding.weight": vocab, "head.weight": vocab, "head.bias": vocab}
    out: dict[str, list[str]] = {}
    chars = getattr(getattr(obj, "encoder", None), "chars_", None)
    if chars is not None:
        out["embedding.weight"] = ["<pad>", "<unk>", *map(str, chars)]
    classes = getattr(obj, "classes", None)
    if classes is None:
        classes = getattr(getattr(obj, "dataset", None), "classes", None)
    if classes is not None and getattr(obj, "encoder", None) is not None:
        out["head.weight"] = out["head.bias"] = [str(c) for c in classes]
    return out


def _remap(old_state: dict[str, Any], new_state: dict[str, Any], old_rows: dict[str, list[str]],
           new_rows: dict[str, list[str]]) -> tuple[dict[str, Any], dict[str, tuple[int, int]]]:
    """The source's vocabulary- and class-sized tensors moved row by row onto the new run's rows
    (a token or class the source never saw keeps its fresh row). Returns the tensors and, per
    name, (rows carried over, rows in all)."""
    moved: dict[str, Any] = {}
    shared: dict[str, tuple[int, int]] = {}
    for name, rows in new_rows.items():
        before = old_rows.get(name)
        if before is None or name not in old_state or name not in new_state:
            continue
        old_t, new_t = old_state[name], new_state[name]
        if old_t.shape[1:] != new_t.shape[1:] or len(before) != old_t.shape[0] or len(rows) != new_t.shape[0]:
            continue
        index = {r: i for i, r in enumerate(before)}
        t = new_t.clone()
        hits = [(i, index[r]) for i, r in enumerate(rows) if r in index]
        for i, j in hits:
            t[i] = old_t[j]
        moved[name] = t
        shared[name] = (len(hits), len(rows))
    return moved, shared


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
    old_level = getattr(getattr(old, "tokenizer", None), "level", None)
    new_level = getattr(getattr(prep, "tokenizer", None), "level", None)
    if old_level != new_level:
        raise ConfigError(f"init_from={source!r} models {old_level}s; this run models {new_level}s: "
                          f"use level={old_level!r}")
    notes = []
    if old_cols is not None and new_cols is not None and old_cols != new_cols:
        notes.append(f"fine-tuning a model trained on the columns {old_cols} on the columns {new_cols}")
    old_state, new_state = old.model.state_dict(), model.state_dict()
    # tokens and classes are matched by name, not by position: another corpus numbers them otherwise
    moved, shared = _remap(old_state, new_state, _rows(old), _rows(prep))
    old_tokens = set(_rows(old).get("embedding.weight", [])) - SPECIALS
    if "embedding.weight" in shared and not old_tokens & set(_rows(prep)["embedding.weight"]):
        raise ConfigError(f"init_from={source!r} shares no tokens with this data's vocabulary: nothing to carry over")
    for name, (hits, total) in shared.items():
        if name != "head.bias" and hits < total:
            what = "tokens" if name == "embedding.weight" else "outputs (tokens or classes)"
            notes.append(f"{name}: {hits} of {total} {what} carried over from {Path(source).name}; "
                         f"the other {total - hits} start fresh")
    old_state = {**old_state, **moved}
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
        partial = shared.get("embedding.weight", (0, 0))
        embedding = getattr(model, "embedding", None)
        if partial[0] < partial[1] and embedding is not None:  # new tokens need their vectors learnt
            for p in embedding.parameters():
                p.requires_grad_(True)
            notes.append("recurrent layers frozen; the embedding trains too (it has tokens the source never saw)")
        else:
            notes.append("recurrent layers frozen: only the head was trained")
    return notes
