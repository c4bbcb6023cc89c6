"""Building blocks around the recurrent layers, each one inspectable.

* :class:`CausalConv`: a 1-D convolutional front end (CNN-RNN hybrid). Causal: the output at step
  ``t`` reads inputs ``t - receptive_field + 1 .. t`` only (left padding), so no future step leaks
  into a window, and with post-padded batches no valid step reads padding.
* :class:`Attention`: attention of one or more queries (for a forecaster: the state the head
  reads, shifted by a learned offset per forecast step, so each step can look at other input
  steps) over the recurrent states of every step, additive (Bahdanau et al. 2015) or scaled
  dot-product; returns the contexts and the weights, which the analysis pages draw.
* :class:`Highway`: the autoregressive highway of LSTNet (Lai et al., SIGIR 2018), a linear
  autoregression on the last ``k`` values of the target channel added to the network's output.
"""

from __future__ import annotations

import math

import torch
from torch import nn

ATTENTION_KINDS = ("additive", "dot")


class CausalConv(nn.Module):
    """``layers`` causal Conv1d + ReLU over ``(B, T, F)``: ``(B, T, channels)``. Layer ``i``
    (from 0) uses dilation ``dilation ** i``, so the receptive field grows quickly."""

    def __init__(self, in_features: int, channels: int, kernel: int, dilation: int, layers: int) -> None:
        super().__init__()
        self.kernel, self.dilation, self.n_layers = kernel, dilation, layers
        self.convs = nn.ModuleList(
            nn.Conv1d(in_features if i == 0 else channels, channels, kernel, dilation=dilation**i)
            for i in range(layers)
        )

    @property
    def receptive_field(self) -> int:
        """Input steps one output step depends on."""
        return 1 + sum((self.kernel - 1) * self.dilation**i for i in range(self.n_layers))

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each layer's output ``(B, T, channels)``, after its ReLU."""
        h = x.transpose(1, 2)  # (B, F, T)
        outs = []
        for conv in self.convs:
            pad = (conv.kernel_size[0] - 1) * conv.dilation[0]
            h = torch.relu(conv(nn.functional.pad(h, (pad, 0))))  # left padding only: causal
            outs.append(h.transpose(1, 2))
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activations(x)[-1]


class Attention(nn.Module):
    """Attention of ``query (B, Q, D)`` (or ``(B, D)``) over ``keys (B, T, D)``: ``(context (B, Q, D),
    weights (B, Q, T))`` (the query's shape without Q). ``mask (B, T)`` marks valid steps (padding
    gets no weight)."""

    def __init__(self, kind: str, width: int) -> None:
        super().__init__()
        if kind not in ATTENTION_KINDS:
            raise ValueError(f"attention kind {kind!r} is not one of {ATTENTION_KINDS}")
        self.kind = kind
        self.width = width
        if kind == "additive":
            self.w_query = nn.Linear(width, width, bias=False)
            self.w_keys = nn.Linear(width, width)
            self.v = nn.Linear(width, 1, bias=False)

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """``query (B, Q, D)``, ``keys (B, T, D)`` -> ``(B, Q, T)``."""
        if self.kind == "additive":  # v^T tanh(W_q q + W_k k_t)
            mixed = torch.tanh(self.w_query(query)[:, :, None, :] + self.w_keys(keys)[:, None, :, :])  # (B, Q, T, D)
            return self.v(mixed).squeeze(-1)
        return query @ keys.transpose(1, 2) / math.sqrt(self.width)

    def forward(self, query: torch.Tensor, keys: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        single = query.dim() == 2
        q = query[:, None, :] if single else query  # (B, Q, D)
        scores = self.scores(q, keys)  # (B, Q, T)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # (B, Q, T)
        context = weights @ keys  # (B, Q, D)
        return (context[:, 0], weights[:, 0]) if single else (context, weights)


class Highway(nn.Module):
    """Linear autoregression on the last ``lags`` steps of input channel 0: ``(B, T, F) -> (B, out)``."""

    def __init__(self, lags: int, out_features: int) -> None:
        super().__init__()
        self.lags = lags
        self.linear = nn.Linear(lags, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        recent = x[:, -self.lags:, 0]  # (B, k): the transformed, scaled target of the last k steps
        if recent.shape[1] < self.lags:  # a window shorter than k: zeros before its start
            recent = nn.functional.pad(recent, (self.lags - recent.shape[1], 0))
        return self.linear(recent)  # (B, out)
