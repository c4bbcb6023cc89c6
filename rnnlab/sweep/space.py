"""Search spaces: which settings a sweep varies, over which ranges.

A space maps setting names (of :mod:`rnnlab.settings`) to a :class:`Param` (a whole-number or
real range, optionally on a log scale, or a list of choices); a plain value fixes a setting for
every trial. Every bound and choice is checked against the setting's own rule.

Each task has a default space (:data:`DEFAULT_SPACES`; a task without one gets the settings all
tasks share). Forecasting's is built from the data: the input window ranges around the automatic
choice up to the longest the spans allow, and log-returns are offered only for a positive target.

A space file (``--space FILE``) replaces the default space; TOML or JSON::

    epochs = 30                 # a plain value fixes a setting (TOML: before the tables)
    [hidden_size]
    low = 16
    high = 128
    log = true
    [cell]
    choices = ["lstm", "gru"]

``python -m rnnlab sweep --print-space`` prints the default space in this form.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.settings import RunConfig, check_value, spec

NOT_SEARCHABLE = ("task", "dataset", "target", "features", "time_col", "dayfirst")  # what the sweep is about, not how


@dataclass(frozen=True)
class Param:
    """One searched setting: ``kind`` int / float (``low``..``high``, inclusive) or choice."""

    name: str
    kind: str  # int | float | choice
    low: float | None = None
    high: float | None = None
    log: bool = False  # sample on a log scale (low > 0)
    step: int | None = None  # int only: the grid step (not with log)
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """The value for an Optuna trial."""
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log, step=self.step or 1)
        if self.kind == "float":
            return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)
        return trial.suggest_categorical(self.name, list(self.choices))

    def contains(self, value: Any) -> bool:
        if self.kind == "choice":
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        ok = float(self.low) <= value <= float(self.high)
        if self.kind == "int" and self.step and not self.log:
            ok = ok and (int(value) - int(self.low)) % self.step == 0
        return ok

    def describe(self) -> str:
        """``16..256 (log)``, ``lstm | gru``."""
        if self.kind == "choice":
            return " | ".join(str(c) for c in self.choices)
        low, high = (int(self.low), int(self.high)) if self.kind == "int" else (self.low, self.high)
        extra = " (log)" if self.log else (f" step {self.step}" if self.step else "")
        return f"{low:g}..{high:g}{extra}" if self.kind == "float" else f"{low}..{high}{extra}"

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "choice":
            return {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step:
            out["step"] = self.step
        return out


def make_param(name: str, doc: Any, task: str) -> Param:
    """A :class:`Param` from ``{"low", "high", "log"?, "step"?}`` or ``{"choices": [...]}``, checked
    against the setting ``name`` (its kind, bounds and choices; it must apply to ``task``)."""
    s = spec(name)
    if name in NOT_SEARCHABLE or s.kind is list:
        raise ConfigError(f"the sweep cannot search {name!r}: fix it with its flag ({s.flag}) instead")
    if task not in s.tasks:
        raise ConfigError(f"{name!r} does not apply to task {task!r}; it cannot be searched there")
    if not isinstance(doc, dict):
        raise ConfigError(f"space entry {name!r} must be a table with low/high or choices, got {doc!r}")
    unknown = sorted(set(doc) - {"low", "high", "log", "step", "choices"})
    if unknown:
        raise ConfigError(f"space entry {name!r}: unknown key(s) {unknown}; use low, high, log, step or choices")
    if "choices" in doc:
        if set(doc) - {"choices"}:
            raise ConfigError(f"space entry {name!r}: give either choices or low/high, not both")
        choices = doc["choices"]
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"space entry {name!r}: choices must be a non-empty list")
        checked = tuple(dict.fromkeys(check_value(name, c) for c in choices))
        if any(c is None for c in checked):
            raise ConfigError(f"space entry {name!r}: 'auto' (none) cannot be a choice; list values")
        return Param(name, "choice", choices=checked)
    if s.kind not in (int, float):
        raise ConfigError(f"space entry {name!r}: {name} is not a number; give its choices instead")
    if "low" not in doc or "high" not in doc:
        raise ConfigError(f"space entry {name!r}: a range needs both low and high")
    low, high = check_value(name, doc["low"]), check_value(name, doc["high"])
    if low is None or high is None or not low < high:
        raise ConfigError(f"space entry {name!r}: low={doc['low']!r} must be below high={doc['high']!r}")
    log = doc.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"space entry {name!r}: log must be true or false")
    if log and low <= 0:
        raise ConfigError(f"space entry {name!r}: a log scale needs low > 0, got {low}")
    step = doc.get("step")
    bad_step = s.kind is not int or isinstance(step, bool) or not isinstance(step, int) or step < 1 or log
    if step is not None and bad_step:
        raise ConfigError(f"space entry {name!r}: step must be a whole number >= 1, for a whole-number "
                          f"setting without log")
    kind = "int" if s.kind is int else "float"
    return Param(name, kind, float(low), float(high), log, step)


Space = dict[str, Any]  # setting name -> Param (searched) or a plain value (fixed)


def parse_space(doc: Any, task: str, source: str = "the space") -> Space:
    """A space from its parsed file (a mapping); errors name the entry and the rule."""
    if not isinstance(doc, dict) or not doc:
        raise ConfigError(f"{source} must map setting names to ranges, choices or fixed values")
    out: Space = {}
    for name, value in doc.items():
        try:
            if isinstance(value, dict):
                out[name] = make_param(name, value, task)
            else:
                s = spec(name)
                if name in ("task",):
                    raise ConfigError("the task is chosen with --task, not in the space")
                if task not in s.tasks:
                    raise ConfigError(f"{name!r} does not apply to task {task!r}")
                out[name] = check_value(name, value)
        except RnnlabError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    if not searched(out):
        raise ConfigError(f"{source} fixes every setting it names; give at least one range or choice list")
    return out


def load_space(path: str | Path, task: str) -> Space:
    """Read a TOML (``.toml``) or JSON space file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the space file '{p}': {exc.strerror or exc}") from exc
    try:
        doc = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"the space file '{p}' is not valid {'TOML' if p.suffix.lower() == '.toml' else 'JSON'}: "
                          f"{exc}") from exc
    return parse_space(doc, task, f"the space file '{p}'")


def searched(space: Space) -> dict[str, Param]:
    return {k: v for k, v in space.items() if isinstance(v, Param)}


def fixed(space: Space) -> dict[str, Any]:
    return {k: v for k, v in space.items() if not isinstance(v, Param)}


def to_toml(space: Space) -> str:
    """The space as a TOML file (fixed values first, then one table per searched setting)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, float):
            return repr(v) if math.isfinite(v) else "nan"
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return str(v)

    lines = [f"{k} = {value(v)}" for k, v in fixed(space).items()]
    for name, p in searched(space).items():
        lines += ["", f"[{name}]"]
        for key, v in p.to_dict().items():
            if key in ("low", "high") and p.kind == "int":
                v = int(v)
            lines.append(f"{key} = {value(v)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def space_to_doc(space: Space) -> dict[str, Any]:
    """JSON-ready form (what a study records, and what :func:`parse_space` reads back)."""
    return {k: v.to_dict() if isinstance(v, Param) else v for k, v in space.items()}


# ----------------------------------------------------------------------------- defaults
def _common_space() -> Space:
    """The settings every task shares (model and optimiser)."""
    return {
        "cell": Param("cell", "choice", choices=("rnn", "lstm", "gru")),
        "hidden_size": Param("hidden_size", "int", 16, 256, log=True),
        "num_layers": Param("num_layers", "int", 1, 3),
        "dropout": Param("dropout", "float", 0.0, 0.5),
        "lr": Param("lr", "float", 3e-4, 3e-2, log=True),
        "batch_size": Param("batch_size", "choice", choices=(16, 32, 64, 128, 256)),
    }


def _forecast_space(data: Any, base: RunConfig) -> tuple[Space, dict[str, Any]]:
    """Forecasting: the common space plus the input window around its automatic length (up to the
    longest the data's spans allow) and the target transforms the data allows."""
    from rnnlab import pipeline

    space = _common_space()
    prep = pipeline.prepare(data, base)
    auto = prep.config.seq_len
    defaults = {"seq_len": auto, "transform": prep.preprocessor.transform_}
    high = auto
    for candidate in (auto * 3, auto * 2, (auto * 3) // 2):
        try:
            pipeline.prepare(data, base.replace(seq_len=candidate))
        except RnnlabError:
            continue
        high = candidate
        break
    low = max(2, auto // 2)
    if high > low:
        space["seq_len"] = Param("seq_len", "int", float(low), float(high), log=True)
    transforms = ["level", "diff"]
    try:
        pipeline.prepare(data, base.replace(transform="log_return"))
        transforms.append("log_return")
    except RnnlabError:
        pass
    space["transform"] = Param("transform", "choice", choices=tuple(transforms))
    return space, defaults


# task -> builder(data, base config) -> (space, the values the defaults resolve to for searched automatic settings)
DEFAULT_SPACES: dict[str, Callable[[Any, RunConfig], tuple[Space, dict[str, Any]]]] = {
    "forecast": _forecast_space,
}


def default_space(data: Any, base: RunConfig) -> tuple[Space, dict[str, Any]]:
    """The task's default space for ``data`` and what the default settings resolve to in it."""
    builder = DEFAULT_SPACES.get(base.task)
    if builder is None:
        space = {k: v for k, v in _common_space().items() if base.task in spec(k).tasks}
        return space, {}
    return builder(data, base)


def default_params(space: Space, base: RunConfig, resolved: dict[str, Any]) -> dict[str, Any] | None:
    """The default settings as a trial of ``space`` (automatic ones as they resolve), or None when a
    default lies outside the space (then no defaults trial is run)."""
    out = {}
    for name, p in searched(space).items():
        value = resolved.get(name, getattr(base, name))
        if value is None or not p.contains(value):
            return None
        out[name] = value
    return out
