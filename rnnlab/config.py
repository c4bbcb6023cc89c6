"""RunConfig: every setting of a run in one flat, JSON-friendly dataclass.

Flat on purpose: the CLI flags, the dashboard widgets and ``config.json`` map one-to-one
onto these fields. ``None`` means "choose automatically from the data"; the resolved value
is written back into the run's config so a saved run always says what was used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rnnlab.errors import ConfigError
from rnnlab.models import ModelConfig
from rnnlab.training import TrainConfig


@dataclass
class RunConfig:
    # ---- data
    dataset: str = "seattle-weather"  # built-in name, CSV path/file name, or "yf:TICKER"
    target: str | None = None  # column to forecast (None: the dataset's default target)
    features: list[str] = field(default_factory=list)  # extra input columns (the target is always an input)
    time_col: str | None = None  # CSV time column (None: auto-detect)
    # ---- windows and preprocessing
    seq_len: int | None = None  # input steps per window (None: by frequency, e.g. 30 for daily, 48 for hourly)
    horizon: int | None = None  # steps predicted at once (None: by frequency, e.g. 7 for daily, 24 for hourly)
    train_frac: float = 0.7  # first share of rows used for fitting (scalers, model, linear baseline)
    val_frac: float = 0.15  # next share for early stopping; the rest is the untouched test span
    scaling: str = "standard"  # standard | minmax | none; statistics from the training span only
    transform: str = "auto"  # auto | level | diff | log_return (auto: ADF + KPSS stationarity tests on the training span)
    season: int | None = None  # season length for the seasonal-naive baseline (None: from frequency)
    # ---- model
    cell: str = "lstm"  # rnn | lstm | gru
    hidden_size: int = 64  # units per layer and direction
    num_layers: int = 2  # stacked recurrent layers
    dropout: float = 0.0  # between stacked layers
    bidirectional: bool = False  # read each input window both ways
    nonlinearity: str = "tanh"  # vanilla rnn activation: tanh | relu
    # ---- training
    epochs: int = 60  # maximum epochs (early stopping usually ends sooner)
    batch_size: int = 64  # windows per step
    lr: float = 3e-3  # learning rate
    weight_decay: float = 0.0  # weight decay
    optimizer: str = "adam"  # adam | adamw
    lr_schedule: str = "plateau"  # none | plateau | cosine
    patience: int = 10  # early-stopping patience in epochs (0: off)
    grad_clip: float = 1.0  # gradient-norm clipping (0: off)
    seed: int = 0  # reproducibility: same config + seed -> same metrics

    def model_config(self, input_size: int) -> ModelConfig:
        if self.horizon is None:
            raise ConfigError("horizon is unresolved; call rnnlab.pipeline.prepare first")
        return ModelConfig(
            cell=self.cell,
            input_size=input_size,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            bidirectional=self.bidirectional,
            nonlinearity=self.nonlinearity,
            horizon=self.horizon,
        ).validate()

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            optimizer=self.optimizer,
            lr_schedule=self.lr_schedule,
            patience=self.patience,
            grad_clip=self.grad_clip,
            seed=self.seed,
        ).validate()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        """Build from a dict, refusing unknown keys (a typo must not be silently ignored)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {unknown}; known settings: {sorted(known)}")
        cfg = cls(**d)
        cfg.features = list(cfg.features or [])
        return cfg

    def replace(self, **changes: Any) -> "RunConfig":
        d = self.to_dict()
        d.update(changes)
        return RunConfig.from_dict(d)
