"""Every setting of a run, defined once: type, default, bounds, help.

:class:`RunConfig` is the one source of truth. Each field is declared with :func:`setting`,
whose metadata (bounds, help, group, the tasks it applies to, CLI aliases, widget labels)
the front ends read:

* the CLI generates a flag per field (:func:`rnnlab.cli.add_setting_flags`);
* the dashboard's widgets take their choices and limits from :func:`spec`;
* ``config.json`` stores :meth:`RunConfig.to_dict` and reads it back with :meth:`RunConfig.from_dict`.

Choices are ``Literal`` types, so the type is the list. ``None`` means "choose automatically
from the data" (only for fields typed ``X | None``); :func:`rnnlab.pipeline.prepare` returns a
:class:`ResolvedConfig`, where every automatic field holds the value used and nothing is
``None``. This module imports no torch, so the first page of the dashboard stays light.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args, get_origin

from rnnlab.errors import ConfigError

Task = Literal["forecast", "text", "classify"]
Cell = Literal["lstm", "gru", "rnn"]
Nonlinearity = Literal["tanh", "relu"]
Scaling = Literal["standard", "minmax", "none"]
Transform = Literal["auto", "level", "diff", "log_return"]
Optimizer = Literal["adam", "adamw"]
LRSchedule = Literal["plateau", "cosine", "none"]
AttentionKind = Literal["none", "additive", "dot"]
Freeze = Literal["none", "recurrent"]
Padding = Literal["post", "pre"]
Pooling = Literal["last", "mean", "max", "attention"]
SelectOn = Literal["loss", "accuracy"]
Level = Literal["char", "word"]
IntervalMethod = Literal["auto", "absolute", "adaptive"]
Refit = Literal["every", "once", "finetune"]

TASKS: tuple[str, ...] = get_args(Task)
CELLS: tuple[str, ...] = get_args(Cell)
SCALINGS: tuple[str, ...] = get_args(Scaling)
TRANSFORMS: tuple[str, ...] = get_args(Transform)

GROUPS = ("data", "windows", "model", "architecture", "training", "evaluation")


def setting(default: Any, help: str, *, group: str, lo: float | None = None, hi: float | None = None,
            lo_open: bool = False, hi_open: bool = False, tasks: tuple[str, ...] = TASKS,
            aliases: tuple[str, ...] = (), label: str = "", labels: dict[str, str] | None = None,
            step: float | None = None, why: str = "", per_task: dict[str, Any] | None = None) -> Any:
    """A dataclass field with its metadata. ``lo``/``hi``: inclusive bounds (``*_open``: exclusive);
    ``aliases``: extra CLI flags; ``label``: the widget label; ``labels``: words for each choice;
    ``why``: the reason for the bounds, added to the error message; ``per_task``: a different
    default for some tasks (:meth:`RunConfig.defaults`)."""
    meta = {"help": help, "group": group, "lo": lo, "hi": hi, "lo_open": lo_open, "hi_open": hi_open,
            "tasks": tasks, "aliases": aliases, "label": label, "labels": labels or {}, "step": step, "why": why,
            "per_task": dict(per_task or {})}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class RunConfig:
    # ---- data
    task: Task = setting("forecast", "what the run learns: forecast a numeric series, or model text (next token)",
                         group="data", label="Task")
    dataset: str = setting("seattle-weather", "built-in name, CSV path, or yf:TICKER[:START[:END]] (text: a corpus "
                           "name or a .txt file)", group="data", aliases=("data",), label="Dataset",
                           per_task={"text": "shakespeare-small"})
    target: str | None = setting(None, "column to forecast (auto: the dataset's default target)", group="data", tasks=("forecast",),
                                 label="Target")
    features: list[str] = setting([], "extra input columns, comma separated (the target is always an input)",
                                  group="data", tasks=("forecast",), label="Extra input columns")
    time_col: str | None = setting(None, "CSV time column (auto: detected)", group="data", tasks=("forecast", "classify"),
                                   label="Time column")
    dayfirst: bool | None = setting(None, "CSV dates such as 01/02/2020: day first (true) or month first (false) "
                                    "(auto: decided from all rows; the loader says which reading it took)",
                                    group="data", tasks=("forecast", "classify"), label="Date order")
    # ---- windows and preprocessing
    seq_len: int | None = setting(None, "input steps per window (auto: by frequency, e.g. 30 daily, 48 hourly)",
                                  group="windows", lo=2, hi=100_000, per_task={"text": 100}, label="Input steps (seq_len)")
    horizon: int | None = setting(None, "steps predicted at once (auto: by frequency, e.g. 7 daily, 24 hourly)",
                                  group="windows", tasks=("forecast",), lo=1, hi=100_000, label="Horizon (steps predicted)")
    train_frac: float = setting(0.7, "first share of rows used for fitting (scalers, model, linear baseline)",
                                group="windows", lo=0.0, hi=1.0, lo_open=True, hi_open=True, step=0.05,
                                per_task={"text": 0.9}, label="Training share")
    val_frac: float = setting(0.15, "next share for early stopping; the rest is the untouched test span",
                              group="windows", lo=0.0, hi=1.0, lo_open=True, hi_open=True, step=0.05,
                              per_task={"text": 0.05}, label="Validation share", why="a validation span is needed for early stopping")
    scaling: Scaling = setting("standard", "input scaling; statistics from the training span only", group="windows", tasks=("forecast",),
                               label="Scaling", labels={"standard": "standard (z-score)", "minmax": "min-max [0, 1]",
                                                        "none": "none"})
    transform: Transform = setting("auto", "target transform (auto: ADF + KPSS stationarity tests on the training "
                                   "span; levels only when both say stationary)", group="windows", tasks=("forecast",),
                                   label="Target transform")
    season: int | None = setting(None, "season length of the seasonal-naive baseline (auto: from the frequency)",
                                 group="windows", tasks=("forecast",), lo=1, hi=100_000, label="Season length (seasonal naive)")
    # ---- model
    cell: Cell = setting("lstm", "recurrent cell", group="model", aliases=("model",), label="Cell",
                         labels={"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"})
    hidden_size: int = setting(64, "units per layer and direction", group="model", lo=1, hi=4096,
                               aliases=("hidden",), step=8, per_task={"text": 128}, label="Hidden size")
    num_layers: int = setting(2, "stacked recurrent layers", group="model", lo=1, hi=16, aliases=("layers",),
                              per_task={"text": 1}, label="Layers")
    dropout: float = setting(0.0, "dropout between stacked layers (needs 2+ layers)", group="model", lo=0.0, hi=0.95,
                             step=0.05, label="Dropout")
    bidirectional: bool = setting(False, "read each input window both ways", group="model", label="Bidirectional")
    nonlinearity: Nonlinearity = setting("tanh", "activation of the vanilla RNN cell", group="model",
                                         label="RNN activation (vanilla RNN only)")
    # ---- architecture beyond the plain RNN (each off by default)
    attention: AttentionKind = setting("none", "attention of the last state over the states of every input step, "
                                       "feeding the head: additive (Bahdanau) or scaled dot-product",
                                       group="architecture", tasks=("forecast",), label="Attention",
                                       labels={"none": "none", "additive": "additive (Bahdanau)",
                                               "dot": "scaled dot-product"})
    conv_layers: int = setting(0, "causal 1-D convolution layers before the recurrent layers (0: none; CNN-RNN)",
                               group="architecture", lo=0, hi=8, label="Convolution layers")
    conv_channels: int = setting(32, "channels of each convolution layer", group="architecture", lo=1, hi=1024,
                                 step=8, label="Convolution channels")
    conv_kernel: int = setting(3, "kernel size (steps) of each convolution layer", group="architecture", lo=1, hi=64,
                               label="Convolution kernel")
    conv_dilation: int = setting(1, "dilation growth: layer i (from 0) uses dilation conv_dilation**i",
                                 group="architecture", lo=1, hi=8, label="Convolution dilation growth")
    highway: int | None = setting(None, "lags of the linear autoregressive highway added to the output (LSTNet; 0: "
                                  "off; auto: seq_len lags when a linear AR beats persistence on the validation "
                                  "span by 5 % or more, else off)", group="architecture", lo=0, hi=10_000,
                                  tasks=("forecast",), label="AR highway lags")
    init_from: str | None = setting(None, "start from a saved run's weights (a run folder; auto: a fresh model)",
                                    group="architecture", label="Start from run")
    freeze: Freeze = setting("none", "with init_from: train every layer, or freeze the recurrent (and "
                             "convolution, embedding) layers and train only the head", group="architecture",
                             label="Frozen layers", labels={"none": "none (fine-tune everything)",
                                                            "recurrent": "recurrent layers (train the head)"})
    # ---- training
    epochs: int = setting(60, "maximum epochs (early stopping usually ends sooner)", group="training", lo=1,
                          hi=10_000, step=10, per_task={"text": 5}, label="Max epochs")
    batch_size: int = setting(64, "windows per optimisation step", group="training", lo=1, hi=65_536, step=16,
                              per_task={"text": 32}, label="Batch size")
    lr: float = setting(3e-3, "learning rate (typical: 1e-4 to 1e-2)", group="training", lo=0.0, hi=1.0,
                        lo_open=True, step=5e-4, label="Learning rate")
    weight_decay: float = setting(0.0, "L2 (adam) or decoupled (adamw) weight decay", group="training", lo=0.0,
                                  hi=1.0, hi_open=True, step=1e-4, label="Weight decay")
    optimizer: Optimizer = setting("adam", "optimiser", group="training", label="Optimizer")
    lr_schedule: LRSchedule = setting("plateau", "learning-rate schedule: halve after patience/2 flat epochs, "
                                      "cosine to 0, or none", group="training", label="Learning-rate schedule")
    patience: int = setting(10, "early-stopping patience in epochs (0: never stop early)", group="training", lo=0,
                            hi=10_000, per_task={"text": 3}, label="Early-stopping patience")
    grad_clip: float = setting(1.0, "gradient-norm clipping (0: off)", group="training", lo=0.0, hi=1e6, step=0.5,
                               label="Gradient clipping (max norm, 0 = off)")
    seed: int = setting(0, "random seed: same settings + seed give the same metrics", group="training", lo=0,
                        hi=2**31 - 1, label="Seed")
    # ---- sequence classification (task "classify")
    id_col: str = setting("sequence_id", "long-format CSV: the column naming each row's sequence", group="data",
                          tasks=("classify",), label="Sequence id column")
    padding: Padding = setting("post", "where a batch's shorter sequences get their padding steps (the mask and "
                               "the packing keep them out of every state)", group="windows", tasks=("classify",),
                               label="Padding side", labels={"post": "post (after the steps)",
                                                             "pre": "pre (before the steps)"})
    max_steps: int | None = setting(None, "truncate longer sequences to their first max_steps steps (auto: "
                                    "2,000; the count truncated is reported)", group="windows", lo=2, hi=100_000,
                                    tasks=("classify",), label="Longest sequence kept (steps)")
    pooling: Pooling = setting("last", "what the classifier head reads: the last valid state, the mean or max over "
                               "the valid steps, or learned attention weights over them", group="architecture",
                               tasks=("classify",), label="Pooling over steps",
                               labels={"last": "last valid state", "mean": "mean over steps",
                                       "max": "max over steps", "attention": "attention over steps"})
    class_weights: bool = setting(False, "weight the cross-entropy by inverse class frequency (training sequences)",
                                  group="training", tasks=("classify",), label="Balance the classes")
    select_on: SelectOn = setting("loss", "which validation score picks the best epoch (and early stopping): "
                                  "cross-entropy, or accuracy (ties broken by the loss)", group="training",
                                  tasks=("classify",), label="Best epoch by")
    # ---- text (language models)
    level: Level = setting("char", "what a token is: a character, or a word (vocabulary capped by frequency, the rest "
                           "<unk>)", group="data", tasks=("text",), label="Token level",
                           labels={"char": "characters", "word": "words"})
    max_vocab: int = setting(10_000, "vocabulary cap including the special tokens; fitted on the training text only",
                             group="data", lo=5, hi=1_000_000, tasks=("text",), step=1000, label="Vocabulary cap")
    embed_size: int = setting(64, "width of the token embedding the recurrent layers read", group="model", lo=1,
                              hi=4096, tasks=("text",), step=16, label="Embedding size")
    ngram_order: int = setting(3, "order of the smoothed n-gram baseline (Witten-Bell; 3: trigram)", group="windows",
                               lo=1, hi=8, tasks=("text",), label="n-gram baseline order")
    temperature: float = setting(0.8, "temperature of the live training samples (0: greedy)", group="training",
                                 lo=0.0, hi=5.0, tasks=("text",), step=0.1, label="Sample temperature")
    # ---- evaluation (scores and intervals; the model's training does not depend on these)
    interval_levels: list[str] = setting(["0.8", "0.95"], "nominal coverages of the prediction intervals, comma "
                                         "separated, each in (0, 1)", group="evaluation", tasks=("forecast",),
                                         label="Interval levels")
    interval_method: IntervalMethod = setting("auto", "conformal intervals: absolute residuals, or adaptive "
                                              "(residuals divided by the input window's mean absolute change, for "
                                              "series whose volatility moves); auto: adaptive for log-return "
                                              "(price-like) targets", group="evaluation", tasks=("forecast",),
                                              label="Interval method")
    backtest_refit: Refit = setting("every", "rolling-origin backtest: train afresh at every origin, train once at "
                                    "the first origin and only forecast from the later ones, or fine-tune the "
                                    "previous origin's weights", group="evaluation", tasks=("forecast",),
                                    label="Backtest refit")

    # ------------------------------------------------------------------ conversions
    @classmethod
    def defaults(cls, task: str = "forecast", **changes: Any) -> RunConfig:
        """The default settings of ``task`` (a setting may default differently per task), with ``changes``."""
        values = {s.name: s.per_task[task] for s in SPECS.values() if task in s.per_task}
        return cls(**{**values, "task": task, **changes}).validate()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        """Build from a dict, refusing unknown keys (a typo must not be silently ignored) and
        checking every value (:meth:`validate`)."""
        if not isinstance(d, dict):
            raise ConfigError(f"a config must be a mapping of settings, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {unknown}; known settings: {sorted(known)}")
        values = {k: v for k, v in d.items() if k in known}
        return cls(**values).validate()

    def replace(self, **changes: Any) -> RunConfig:
        """A checked copy with ``changes`` applied (the original is never mutated)."""
        d = self.to_dict()
        d.update(changes)
        return RunConfig.from_dict(d)

    def validate(self) -> RunConfig:
        """Check every field against its type and bounds; :class:`ConfigError` names the field,
        the value and the rule. Normalises in place (features to a list of str, ints from floats
        that are whole). Returns ``self``."""
        for f in fields(self):
            setattr(self, f.name, check_value(f.name, getattr(self, f.name)))
        self.features = [c for c in dict.fromkeys(self.features)]
        from rnnlab.intervals import parse_levels

        if not self.interval_levels:
            raise ConfigError("interval_levels is empty; give at least one level in (0, 1), e.g. 0.8,0.95")
        self.interval_levels = [f"{v:g}" for v in parse_levels(self.interval_levels)]
        if self.train_frac + self.val_frac >= 1.0 - 1e-9:
            raise ConfigError(f"train_frac={self.train_frac} + val_frac={self.val_frac} leave no test span; "
                              f"they must sum to less than 1")
        return self

    def applies(self, name: str) -> bool:
        """True when setting ``name`` is used by this config's task."""
        return self.task in spec(name).tasks


@dataclass
class ResolvedConfig(RunConfig):
    """A :class:`RunConfig` after :func:`rnnlab.pipeline.prepare`: every automatic field holds
    the value used (nothing is ``None``)."""

    target: str = ""
    seq_len: int = 0
    horizon: int = 0
    season: int = 0
    highway: int = 0
    time_col: str = ""  # "" when the data has no time column to choose

    def replace(self, **changes: Any) -> ResolvedConfig:  # type: ignore[override]
        d = self.to_dict()
        d.update(changes)
        return ResolvedConfig.resolved(RunConfig.from_dict(d))

    @classmethod
    def resolved(cls, cfg: RunConfig) -> ResolvedConfig:
        """``cfg`` as a ResolvedConfig; :class:`ConfigError` if an automatic field is still None."""
        d = cfg.to_dict()
        d["highway"] = d.get("highway") or 0  # auto resolves to off where no data decides it
        missing = [k for k in ("target", "seq_len", "horizon", "season") if d.get(k) is None]
        if missing:
            raise ConfigError(f"setting(s) {missing} are unresolved; rnnlab.pipeline.prepare resolves them")
        d["time_col"] = d.get("time_col") or ""
        out = cls(**d)
        out.validate()
        return out


# ----------------------------------------------------------------------------- the specs
@dataclass(frozen=True)
class SettingSpec:
    """What a front end needs to offer one setting."""

    name: str
    kind: type  # int | float | bool | str | list
    default: Any
    help: str
    group: str
    choices: tuple[str, ...] = ()  # for Literal settings
    optional: bool = False  # None allowed: chosen automatically
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    tasks: tuple[str, ...] = TASKS
    aliases: tuple[str, ...] = ()
    label: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    step: float | None = None
    why: str = ""
    per_task: dict[str, Any] = field(default_factory=dict)  # task -> its default, where it differs

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def rule(self) -> str:
        """The bounds in words: ``"in [1, 4096]"``, ``"in (0, 1]"``, ``"one of lstm, gru, rnn"``."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.lo is None and self.hi is None:
            return ""
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"in {left}{_num(self.lo)}, {_num(self.hi)}{right}"

    def format_choice(self, value: Any) -> str:
        return self.labels.get(value, str(value))


def _num(v: float | None) -> str:
    if v is None:
        return "..."
    return f"{int(v):,}" if float(v).is_integer() and abs(v) >= 1 else f"{v:g}"


def _describe(tp: Any) -> tuple[type, tuple[str, ...], bool]:
    """``(base kind, choices, optional)`` of a field annotation."""
    optional = False
    if get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        optional = len(args) < len(get_args(tp))
        tp = args[0]
    if get_origin(tp) is Literal:
        return str, tuple(get_args(tp)), optional
    if get_origin(tp) is list:
        return list, (), optional
    return tp, (), optional


def _build_specs() -> dict[str, SettingSpec]:
    hints = typing.get_type_hints(RunConfig)
    out = {}
    for f in fields(RunConfig):
        kind, choices, optional = _describe(hints[f.name])
        m = f.metadata
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        out[f.name] = SettingSpec(name=f.name, kind=kind, default=default, help=m["help"], group=m["group"],
                                  choices=choices, optional=optional, lo=m["lo"], hi=m["hi"], lo_open=m["lo_open"],
                                  hi_open=m["hi_open"], tasks=m["tasks"], aliases=m["aliases"],
                                  label=m["label"] or f.name, labels=dict(m["labels"]), step=m["step"], why=m["why"],
                                  per_task=dict(m["per_task"]))
    return out


SPECS: dict[str, SettingSpec] = _build_specs()


def spec(name: str) -> SettingSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise ConfigError(f"unknown setting {name!r}; known settings: {sorted(SPECS)}") from None


def check_value(name: str, value: Any) -> Any:
    """``value`` checked (and normalised) for setting ``name``; :class:`ConfigError` names the rule."""
    s = spec(name)
    if value is None:
        if s.optional:
            return None
        raise ConfigError(f"{name} must be set (it has no automatic choice)")
    if s.kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{name}={value!r} must be true or false")
    if s.kind is list:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name}={value!r} must be a list of column names")
        return list(value)
    if s.kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name}={value!r} must be text")
        if s.choices and value not in s.choices:
            raise ConfigError(f"{name}={value!r} is not valid; choose {s.rule()}")
        return value
    if s.kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not (math.isfinite(value) and value.is_integer())):
            raise ConfigError(f"{name}={value!r} must be a whole number {s.rule()}".rstrip())
        value = int(value)
    elif s.kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{name}={value!r} must be a finite number {s.rule()}".rstrip())
        value = float(value)
    if (s.lo is not None and (value < s.lo or (s.lo_open and value == s.lo))) or (
            s.hi is not None and (value > s.hi or (s.hi_open and value == s.hi))):
        why = f" ({s.why})" if s.why else ""
        raise ConfigError(f"{name}={value:g} is out of range; it must be {s.rule()}{why}")
    return value


def specs_for(task: str, group: str | None = None) -> list[SettingSpec]:
    """The settings a task uses (optionally one group), in declaration order."""
    return [s for s in SPECS.values() if task in s.tasks and (group is None or s.group == group)]


# ----------------------------------------------------------------------------- the classify task's defaults
# A sequence classifier defaults differently (a quick GRU on Japanese Vowels) and does not use the
# forecasting window settings; kept in one block here so the field declarations above stay shared.
_CLASSIFY_DEFAULTS: dict[str, Any] = {"dataset": "japanese-vowels", "cell": "gru", "hidden_size": 64,
                                      "num_layers": 1, "epochs": 40, "batch_size": 32, "lr": 5e-3, "patience": 10}
_NOT_CLASSIFY = ("features", "seq_len", "horizon", "transform", "season")
for _name, _spec in list(SPECS.items()):
    _changes: dict[str, Any] = {}
    if _name in _CLASSIFY_DEFAULTS:
        _changes["per_task"] = {**_spec.per_task, "classify": _CLASSIFY_DEFAULTS[_name]}
    if _name in _NOT_CLASSIFY:
        _changes["tasks"] = tuple(t for t in _spec.tasks if t != "classify")
    if _changes:
        SPECS[_name] = dataclasses.replace(_spec, **_changes)
