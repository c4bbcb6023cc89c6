"""The network: one recurrent backbone, a head chosen by the task.

Like pytorch/examples' ``word_language_model``: one class wraps ``nn.RNN``, ``nn.LSTM`` or
``nn.GRU`` (the cell type is a setting), and ``forward`` returns ``(output, states)``, the
top layer's hidden state at every step beside the prediction, so the analysis code needs no
second implementation.

* :class:`RecurrentBackbone` reads the architecture settings of a
  :class:`~rnnlab.settings.RunConfig` (cell, hidden_size, num_layers, dropout, bidirectional,
  nonlinearity) and the data-derived sizes of a :class:`ModelShape`: numeric frames go straight
  into the recurrent layers, token ids through an embedding; :meth:`RecurrentBackbone.encode`
  packs padded batches when it is given their lengths, so padding never reaches a state.
* each head is a subclass registered in :data:`MODELS` under its ``ModelShape.head``.
* :class:`RNNForecaster` adds a linear head that predicts all ``horizon`` steps at once
  (direct multi-step) from the state at the window's last step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab.errors import ConfigError
from rnnlab.settings import RunConfig


@dataclass(frozen=True)
class ModelShape:
    """The sizes a model takes from its data (the settings give the rest)."""

    head: str = "forecast"  # which head (a key of MODELS): "forecast" predicts `output_size` steps
    input_size: int = 1  # numeric channels per step (with token inputs: the embedding width)
    output_size: int = 1  # forecast: horizon
    vocab_size: int = 0  # > 0: inputs are token ids (B, T) embedded from a vocabulary of this size
    pad_index: int = 0  # token id of padding (its embedding stays zero and gets no gradient)

    def validate(self) -> ModelShape:
        if self.head not in MODELS:
            raise ConfigError(f"head={self.head!r} is not a model head; choose one of {', '.join(MODELS)}")
        for name in ("input_size", "output_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name}={value!r} must be a positive integer")
        for name in ("vocab_size", "pad_index"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{name}={value!r} must be a non-negative integer")
        if self.vocab_size and self.pad_index >= self.vocab_size:
            raise ConfigError(f"pad_index={self.pad_index} must be a token of the vocabulary of {self.vocab_size}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelShape:
        if not isinstance(d, dict):
            raise ConfigError(f"the model shape must be a mapping, got {type(d).__name__}")
        unknown = sorted(set(d) - {"head", "input_size", "output_size", "vocab_size", "pad_index"})
        if unknown:
            raise ConfigError(f"unknown model shape field(s) {unknown}")
        return cls(**d).validate()


class RecurrentBackbone(nn.Module):
    """Recurrent layers over ``(B, T, F)`` inputs; subclasses add the head."""

    def __init__(self, config: RunConfig, shape: ModelShape) -> None:
        super().__init__()
        self.config = config
        self.shape = shape.validate()
        # token ids -> vectors of input_size (the padding token's vector is zero and never trained)
        self.embedding = (nn.Embedding(shape.vocab_size, shape.input_size, padding_idx=shape.pad_index)
                          if shape.vocab_size else None)
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

    def encode(self, x: torch.Tensor, hidden: Any = None,
               lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, Any]:
        """``x``: frames ``(B, T, F)`` or token ids ``(B, T)``; ``lengths (B,)``: valid steps of each
        padded sequence (packed, so no state ever reads padding; steps past a length are zeros).
        Returns ``(states (B, T, H * directions), hidden)``: the top layer at every step, and the
        final hidden state of every layer (``(h, c)`` for an LSTM) to carry on from."""
        inputs = self.embedding(x) if self.embedding is not None else x  # (B, T, F)
        if lengths is None:
            return self.rnn(inputs, hidden)
        packed = pack_padded_sequence(inputs, lengths.to("cpu", torch.int64), batch_first=True, enforce_sorted=False)
        out, hidden = self.rnn(packed, hidden)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=inputs.shape[1])
        return states, hidden

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


# head name -> model class (each a RecurrentBackbone with its head)
MODELS: dict[str, type[RecurrentBackbone]] = {"forecast": RNNForecaster}


def build_model(config: RunConfig, shape: ModelShape) -> RecurrentBackbone:
    """A freshly initialised model for ``shape.head`` (seed first: :func:`rnnlab.training.seeded`)."""
    return MODELS[shape.validate().head](config, shape)
