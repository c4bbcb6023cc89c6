"""One recurrent forecaster, parametrised by cell type.

Like pytorch/examples' ``word_language_model``: a single module wraps ``nn.RNN``,
``nn.LSTM`` or ``nn.GRU`` and a linear head that predicts all ``horizon`` steps at once
(direct multi-step). ``forward`` returns ``(prediction, states)`` where ``states`` are the
per-step hidden states of the top layer, so analysis code needs no second implementation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from rnnlab.errors import ConfigError

CELL_TYPES = ("rnn", "lstm", "gru")
NONLINEARITIES = ("tanh", "relu")


@dataclass
class ModelConfig:
    cell: str = "lstm"  # recurrent cell: "rnn" (vanilla Elman), "lstm" or "gru"
    input_size: int = 1  # channels per time step: transformed target + extra features
    hidden_size: int = 64  # units per layer and direction
    num_layers: int = 2  # stacked recurrent layers
    dropout: float = 0.0  # dropout between stacked layers (ignored when num_layers == 1)
    bidirectional: bool = False  # read the input window both ways (encoder only; the head is causal in time)
    nonlinearity: str = "tanh"  # activation of the vanilla rnn cell ("tanh" or "relu"); unused by lstm/gru
    horizon: int = 1  # output steps predicted at once by the linear head

    def validate(self) -> "ModelConfig":
        if self.cell not in CELL_TYPES:
            raise ConfigError(f"cell={self.cell!r} is not a cell type; choose one of {', '.join(CELL_TYPES)}")
        if self.nonlinearity not in NONLINEARITIES:
            raise ConfigError(f"nonlinearity={self.nonlinearity!r} must be 'tanh' or 'relu'")
        for name in ("input_size", "hidden_size", "num_layers", "horizon"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name}={value!r} must be a positive integer")
        if self.hidden_size > 4096:
            raise ConfigError(f"hidden_size={self.hidden_size} is above the limit of 4096 units")
        if self.num_layers > 16:
            raise ConfigError(f"num_layers={self.num_layers} is above the limit of 16 layers")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ConfigError(f"dropout={self.dropout} must be in [0, 1)")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RNNForecaster(nn.Module):
    """Recurrent encoder + linear head: ``(B, T, F) -> (B, horizon)``."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config.validate()
        kwargs: dict[str, Any] = dict(
            input_size=config.input_size,
            hidden_size=config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            bidirectional=config.bidirectional,
            batch_first=True,
        )
        if config.cell == "rnn":
            self.rnn: nn.RNNBase = nn.RNN(nonlinearity=config.nonlinearity, **kwargs)
        elif config.cell == "lstm":
            self.rnn = nn.LSTM(**kwargs)
        else:
            self.rnn = nn.GRU(**kwargs)
        self.num_directions = 2 if config.bidirectional else 1
        self.head = nn.Linear(config.hidden_size * self.num_directions, config.horizon)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(prediction (B, horizon), states (B, T, H * directions))``."""
        states, _ = self.rnn(x)  # (B, T, H*D): top-layer hidden state at every step
        if self.num_directions == 2:
            H = self.config.hidden_size
            # forward direction's last step + backward direction's state at step 0 (it has read the whole window)
            summary = torch.cat([states[:, -1, :H], states[:, 0, H:]], dim=-1)  # (B, 2H)
        else:
            summary = states[:, -1, :]  # (B, H)
        return self.head(summary), states  # (B, horizon), (B, T, H*D)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build_model(config: ModelConfig) -> RNNForecaster:
    """Build a freshly initialised model from its config."""
    return RNNForecaster(config)
