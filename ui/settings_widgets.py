"""Widgets for settings, built from :mod:`rnnlab.settings` (the one source of their choices,
limits, labels and help): a page names a setting and gets the right widget with the core's bounds.

``rnnlab.settings`` imports no torch, so pages can draw these before anything heavy loads.
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from rnnlab.settings import RunConfig, SettingSpec, spec

# display details that are only about the widget (format strings); everything else comes from the spec
_FORMATS = {"lr": "%.5f", "weight_decay": "%.4f"}
_FLOAT_EPS = 1e-9  # an open bound of a float setting is offered as the bound plus this


def _bounds(s: SettingSpec, slider: bool) -> tuple[Any, Any]:
    """The widget's inclusive limits from the setting's bounds: an open bound moves in by one step
    (a slider's step; for a number input the smallest value it can show)."""
    lo, hi = s.lo, s.hi
    if s.kind is int:
        lo = None if lo is None else int(math.ceil(lo + (1 if s.lo_open else 0)))
        hi = None if hi is None else int(math.floor(hi - (1 if s.hi_open else 0)))
    else:
        inset = (s.step or _FLOAT_EPS) if slider else min(s.step or _FLOAT_EPS, 1e-5)
        lo = None if lo is None else round(float(lo + (inset if s.lo_open else 0.0)), 10)
        hi = None if hi is None else round(float(hi - (inset if s.hi_open else 0.0)), 10)
    return lo, hi


def setting_input(name: str, key: str, container: Any = st, *, label: str | None = None, help: str | None = None,
                  slider: bool = False, placeholder: str | None = None, disabled: bool = False,
                  segmented: bool = False, **kwargs: Any) -> Any:
    """Draw the widget of setting ``name`` bound to ``st.session_state[key]`` and return its value.

    Choices become a select box (or a segmented control), booleans a toggle, numbers a number
    input (or ``slider``) with the setting's bounds; automatic settings accept an empty value."""
    s = spec(name)
    label = label or s.label
    help = help or s.help[:1].upper() + s.help[1:]
    common: dict[str, Any] = dict(key=key, help=help, disabled=disabled, persist_state="session", **kwargs)
    if s.kind is bool:
        return container.toggle(label, **common)
    if s.choices:
        common.setdefault("format_func", s.format_choice)
        if segmented:
            return container.segmented_control(label, list(s.choices), required=True, **common)
        return container.selectbox(label, list(s.choices), **common)
    lo, hi = _bounds(s, slider)
    step = s.step if s.step is not None else (1 if s.kind is int else None)
    if s.kind is int and step is not None:
        step = int(step)
    if slider:
        return container.slider(label, lo, hi, step=step, **common)
    fmt = _FORMATS.get(name)
    if fmt:
        common["format"] = fmt
    if s.optional:
        common["placeholder"] = placeholder or "auto"
    return container.number_input(label, lo, hi, step=step, **common)


# what a saved run must share with this one to start it, per task
_FITS = {"forecast": "same cell, hidden size, layers and number of input columns",
         "text": "same level, cell, hidden size, layers and embedding size; tokens are matched by name, a new "
                 "token starts fresh",
         "classify": "same kind of sequences, cell, hidden size, layers and pooling; classes are matched by name"}


def start_from_widgets(prefix: str, container: Any, base: RunConfig) -> None:
    """"Start from run": a saved run of this task (its folder), and which layers stay fixed. Widget
    keys: ``prefix + "init_from"`` and ``prefix + "freeze"``."""
    from ui import runstore

    folders = {str(e.path): e.label for e in runstore.entries() if e.task == base.task and str(e.path) not in ("", ".")}
    current = st.session_state.get(prefix + "init_from")
    if current and current not in folders:
        folders[current] = current  # a folder chosen earlier (e.g. on the CLI) stays selectable
    container.selectbox("Start from run", [None, *folders], key=prefix + "init_from",
                        format_func=lambda f: "a fresh model" if f is None else folders.get(f, f),
                        help="Fine-tune a saved run's weights (" + _FITS.get(base.task, _FITS["forecast"]) + ")"
                             + ("" if folders else "; runs appear here once they are in the run store"))
    setting_input("freeze", prefix + "freeze", container, disabled=st.session_state.get(prefix + "init_from") is None)
