"""The network: one recurrent backbone, a head chosen by the task.

Like pytorch/examples' ``word_language_model``: one class wraps ``nn.RNN``, ``nn.LSTM`` or
``nn.GRU`` (the cell type is a setting), and ``forward`` returns ``(output, states)``, the
top layer's hidden state at every step beside the prediction, so the analysis code needs no
second implementation.

* :class:`RecurrentBackbone` reads the architecture settings of a
  :class:`~rnnlab.settings.RunConfig` (cell, hidden_size, num_layers, dropout, bidirectional,
  nonlinearity) and the data-derived sizes of a :class:`ModelShape`.
* :class:`RNNForecaster` adds a linear head that predicts all ``horizon`` steps at once
  (direct multi-step) from the state at the window's last step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import nn

from rnnlab.errors import ConfigError
from rnnlab.settings import RunConfig

Head = Literal["forecast"]
HEADS: tuple[str, ...] = ("forecast",)


@dataclass(frozen=True)
class ModelShape:
    """The sizes a model takes from its data (the settings give the rest)."""

    head: str = "forecast"  # which head: "forecast" (horizon values)
    input_size: int = 1  # channels per time step: transformed target + extra features
    output_size: int = 1  # forecast: horizon

    def validate(self) -> ModelShape:
        if self.head not in HEADS:
            raise ConfigError(f"head={self.head!r} is not a model head; choose one of {', '.join(HEADS)}")
        for name in ("input_size", "output_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name}={value!r} must be a positive integer")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelShape:
        if not isinstance(d, dict):
            raise ConfigError(f"the model shape must be a mapping, got {type(d).__name__}")
        unknown = sorted(set(d) - {"head", "input_size", "output_size"})
        if unknown:
            raise ConfigError(f"unknown model shape field(s) {unknown}")
        return cls(**d).validate()


class RecurrentBackbone(nn.Module):
    """Recurrent layers over ``(B, T, F)`` inputs; subclasses add the head."""

    def __init__(self, config: RunConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.shape = shape.validate()
        kwargs: dict[str, Any] = dict(
            input_size=shape.input_size,
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

    @property
    def state_width(self) -> int:
        """Width of the top layer's state at one step: hidden size x directions."""
        return self.config.hidden_size * self.num_directions

    def summary(self, states: torch.Tensor) -> torch.Tensor:
        """``(B, T, H*D)`` -> ``(B, H*D)``: the vector a whole-window head reads. Forward direction:
        its last step; backward direction: its state at step 0 (it has read the whole window)."""
        if self.num_directions == 2:
            H = self.config.hidden_size
            return torch.cat([states[:, -1, :H], states[:, 0, H:]], dim=-1)
        return states[:, -1, :]

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class RNNForecaster(RecurrentBackbone):
    """Recurrent encoder + linear head: ``(B, T, F) -> (B, horizon)``."""

    def __init__(self, config: RunConfig, shape: ModelShape) -> None:
        super().__init__(config, shape)
        self.head = nn.Linear(self.state_width, shape.output_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(prediction (B, horizon), states (B, T, H * directions))``."""
        states, _ = self.rnn(x)  # (B, T, H*D): top-layer hidden state at every step
        return self.head(self.summary(states)), states  # (B, horizon), (B, T, H*D)


def build_model(config: RunConfig, shape: ModelShape) -> RNNForecaster:
    """A freshly initialised model for ``shape.head`` (seed first: :func:`rnnlab.training.seeded`)."""
    shape.validate()
    return RNNForecaster(config, shape)
