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
* optional parts, each off by default and inspectable (:mod:`rnnlab.layers`): a causal
  convolutional front end before the recurrent layers (``conv_layers``), attention of the last
  state over every step's state feeding the head (``attention``), and LSTNet's linear
  autoregressive highway added to the forecast (``highway``).
* each head is a subclass registered in :data:`MODELS` under its ``ModelShape.head``.
* :class:`RNNForecaster` adds a linear head that predicts all ``horizon`` steps at once
  (direct multi-step) from the state at the window's last step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab.errors import ConfigError
from rnnlab.layers import Attention, CausalConv, Highway
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
        self.conv = (CausalConv(shape.input_size, config.conv_channels, config.conv_kernel, config.conv_dilation,
                                config.conv_layers) if config.conv_layers else None)
        kwargs: dict[str, Any] = dict(
            input_size=config.conv_channels if self.conv is not None else shape.input_size,
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
        inputs = self.rnn_inputs(x)  # (B, T, F')
        if lengths is None:
            return self.rnn(inputs, hidden)
        packed = pack_padded_sequence(inputs, lengths.to("cpu", torch.int64), batch_first=True, enforce_sorted=False)
        out, hidden = self.rnn(packed, hidden)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=inputs.shape[1])
        return states, hidden

    def rnn_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """What the recurrent layers read: ``x`` through the embedding and the convolutions, if any."""
        inputs = self.embedding(x) if self.embedding is not None else x  # (B, T, F)
        return self.conv(inputs) if self.conv is not None else inputs  # (B, T, channels)

    def recurrent_modules(self) -> list[nn.Module]:
        """The layers ``freeze="recurrent"`` keeps fixed: embedding, convolutions, recurrent layers."""
        return [m for m in (self.embedding, self.conv, self.rnn) if m is not None]

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


class ForecastOutput(NamedTuple):
    """What a forecaster returns: ``out[0]`` is the forecast, ``out[1]`` the states."""

    prediction: torch.Tensor  # (B, horizon): the network's part plus the highway's, in model space
    states: torch.Tensor  # (B, T, H * directions): the top layer at every input step
    attention: torch.Tensor | None = None  # (B, horizon, T): each forecast step's weights over the input steps


class RNNForecaster(RecurrentBackbone):
    """Recurrent encoder + linear head (+ attention, + highway): ``(B, T, F) -> (B, horizon)``."""

    def __init__(self, config: RunConfig, shape: ModelShape) -> None:
        super().__init__(config, shape)
        width = self.state_width
        self.attention = Attention(config.attention, width) if config.attention != "none" else None
        self.head = nn.Linear(2 * width if self.attention is not None else width, shape.output_size)
        # each forecast step's query: the last state plus a learned offset (zero at first: one query)
        self.step_queries = nn.Parameter(torch.zeros(shape.output_size, width)) if self.attention is not None else None
        self.highway = Highway(config.highway, shape.output_size) if config.highway else None

    def parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor | None]:
        """``(network part (B, h), highway part (B, h) or None, states, attention weights or None)``."""
        states, _ = self.rnn(self.rnn_inputs(x))  # (B, T, H*D): top-layer hidden state at every step
        summary = self.summary(states)  # (B, W) with W = H*D
        highway = self.highway(x) if self.highway is not None else None
        if self.attention is None:
            return self.head(summary), highway, states, None
        queries = summary[:, None, :] + self.step_queries[None]  # (B, h, W)
        context, weights = self.attention(queries, states)  # (B, h, W), (B, h, T)
        z = torch.cat([summary[:, None, :].expand_as(context), context], dim=-1)  # (B, h, 2W)
        network = (z * self.head.weight[None]).sum(-1) + self.head.bias  # step k reads its own context: (B, h)
        return network, highway, states, weights

    def forward(self, x: torch.Tensor) -> ForecastOutput:
        """``(prediction (B, horizon), states (B, T, H * directions), attention (B, T) or None)``."""
        network, highway, states, weights = self.parts(x)
        return ForecastOutput(network if highway is None else network + highway, states, weights)


class ClassifyOutput(NamedTuple):
    """What a sequence classifier returns: ``out[0]`` the class logits, ``out[1]`` the states."""

    logits: torch.Tensor  # (B, classes)
    states: torch.Tensor  # (B, T, H * directions): valid steps first (left-aligned), zeros after each length
    weights: torch.Tensor | None = None  # (B, T): the pooling's weight of each (left-aligned) step; None for max


def left_align(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``x (B, T, ...)`` with each row's valid steps (``mask (B, T)`` true) moved to the front, in order:
    a pre-padded batch becomes post-padded (a post-padded one is unchanged)."""
    order = torch.argsort((~mask.bool()).to(torch.int8), dim=1, stable=True)  # (B, T): valid steps first
    if x.dim() == 2:
        return x.gather(1, order)
    return x.gather(1, order[..., None].expand_as(x))


class RNNClassifier(RecurrentBackbone):
    """Recurrent encoder over packed variable-length sequences, a pooling over the valid steps
    (``config.pooling``: last valid state, mean, max, attention) and a linear head:
    ``(B, T, F)`` frames or ``(B, T)`` token ids with a mask ``(B, T)`` -> logits ``(B, classes)``."""

    def __init__(self, config: RunConfig, shape: ModelShape) -> None:
        super().__init__(config, shape)
        width = self.state_width
        self.pooling = config.pooling
        # additive attention scores over the states (only with pooling="attention")
        self.score = (nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1))
                      if config.pooling == "attention" else None)
        self.head = nn.Linear(width, shape.output_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> ClassifyOutput:
        """``mask (B, T)``: true at valid steps, pre- or post-padded; every row needs a valid step."""
        mask = mask.bool()
        return self.classify(left_align(x, mask), mask.sum(dim=1))

    def classify(self, x: torch.Tensor, lengths: torch.Tensor) -> ClassifyOutput:
        """Post-padded ``x`` and the valid steps of each row, ``lengths (B,)``."""
        states, _ = self.encode(x, lengths=lengths)  # (B, T, W), zeros past each length
        T = states.shape[1]
        valid = torch.arange(T, device=states.device)[None, :] < lengths[:, None]  # (B, T)
        pooled, weights = self.pool(states, valid, lengths)
        return ClassifyOutput(self.head(pooled), states, weights)

    def pool(self, states: torch.Tensor, valid: torch.Tensor,
             lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(pooled (B, W), weights (B, T) or None)`` over the valid steps only."""
        lengths = lengths.to(states.device, torch.int64)
        if self.pooling == "last":
            # forward direction: its state at the last valid step; backward: at step 0 (it read everything)
            weights = nn.functional.one_hot(lengths - 1, states.shape[1]).to(states.dtype)  # (B, T)
            last = (states * weights[..., None]).sum(1)
            if self.num_directions == 2:
                H = self.config.hidden_size
                last = torch.cat([last[:, :H], states[:, 0, H:]], dim=-1)
            return last, weights
        if self.pooling == "mean":
            weights = valid.to(states.dtype) / lengths[:, None].to(states.dtype)  # (B, T)
            return (states * weights[..., None]).sum(1), weights
        if self.pooling == "max":
            return states.masked_fill(~valid[..., None], float("-inf")).max(dim=1).values, None
        assert self.score is not None
        scores = self.score(states).squeeze(-1).masked_fill(~valid, float("-inf"))  # (B, T)
        weights = torch.softmax(scores, dim=1)
        return (states * weights[..., None]).sum(1), weights


class TextLM(RecurrentBackbone):
    """Language model: token ids ``(B, T)`` -> embedding -> recurrent layers -> logits over the
    vocabulary at every step ``(B, T, V)`` (char-rnn, pytorch/examples' word_language_model).
    ``forward`` returns ``(logits, hidden)``: the hidden state to carry into the next chunk."""

    def __init__(self, config: RunConfig, shape: ModelShape) -> None:
        super().__init__(config, shape)
        if not shape.vocab_size:
            raise ConfigError("a language model needs a vocabulary (vocab_size > 0)")
        if config.bidirectional:
            raise ConfigError("bidirectional=True cannot predict the next token: a language model reads left to right")
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(self.state_width, shape.output_size)  # output_size: the vocabulary size

    def forward(self, x: torch.Tensor, hidden: Any = None,
                lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, Any]:
        states, hidden = self.encode(x, hidden, lengths)  # (B, T, H)
        return self.head(self.drop(states)), hidden  # (B, T, V)


# head name -> model class (each a RecurrentBackbone with its head)
MODELS: dict[str, type[RecurrentBackbone]] = {"forecast": RNNForecaster}
MODELS["classify"] = RNNClassifier
MODELS["text"] = TextLM


def build_model(config: RunConfig, shape: ModelShape) -> RecurrentBackbone:
    """A freshly initialised model for ``shape.head`` (seed first: :func:`rnnlab.training.seeded`)."""
    return MODELS[shape.validate().head](config, shape)
