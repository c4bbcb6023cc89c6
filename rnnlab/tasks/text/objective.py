"""Batches, loss and scoring of a language model.

* :class:`StreamObjective` (continuous text): the training stream is cut into ``batch_size``
  parallel streams read in consecutive chunks of ``seq_len`` tokens, with the hidden state
  carried (detached) from one chunk to the next: truncated back-propagation through time, as
  char-rnn does. The order cannot be shuffled without breaking the carried state.
* :class:`LinesObjective` (line corpora): shuffled batches of items ``<bos> ... <eos>`` padded to
  the batch's longest, packed (no state reads padding) with a loss masked on the padding, so
  padding adds no loss and no gradient.
* :func:`stream_scores` / :func:`item_scores`: every target's log-probability and top-1 / top-5
  hits, the test metrics' raw material (same targets as the n-gram baselines score).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnlab.errors import ConfigError
from rnnlab.tokenizer import PAD_ID
from rnnlab.training import Validation


def detach(hidden: Any) -> Any:
    if hidden is None:
        return None
    if isinstance(hidden, tuple):
        return tuple(h.detach() for h in hidden)
    return hidden.detach()


def masked_loss(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over the targets that are not padding, and how many there are."""
    n = int((targets != PAD_ID).sum())
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                       ignore_index=PAD_ID, reduction="sum")
    return loss / max(1, n), n


def pad_items(items: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(inputs (B, T), targets (B, T), lengths (B,))`` of framed items, padded to the longest."""
    T = max(len(it) for it in items) - 1
    x = np.full((len(items), T), PAD_ID, dtype=np.int64)
    y = np.full((len(items), T), PAD_ID, dtype=np.int64)
    for i, it in enumerate(items):
        x[i, :len(it) - 1], y[i, :len(it) - 1] = it[:-1], it[1:]
    return torch.from_numpy(x), torch.from_numpy(y), torch.tensor([len(it) - 1 for it in items])


class StreamObjective:
    """Truncated BPTT over one token stream (see the module docstring)."""

    def __init__(self, train_ids: np.ndarray, val_ids: np.ndarray, seq_len: int) -> None:
        if len(train_ids) <= seq_len:
            raise ConfigError(f"the training text has {len(train_ids)} tokens; seq_len={seq_len} needs more")
        self.ids = torch.from_numpy(np.asarray(train_ids, dtype=np.int64))
        self.val_ids = np.asarray(val_ids, dtype=np.int64)
        self.seq_len = seq_len
        self._hidden: Any = None

    def layout(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and next-token targets as ``(streams, steps)``: the stream cut into ``streams`` rows."""
        n = len(self.ids) - 1
        streams = max(1, min(batch_size, n // self.seq_len))
        steps = n // streams
        return (self.ids[:streams * steps].view(streams, steps),
                self.ids[1:streams * steps + 1].view(streams, steps))

    def n_batches(self, batch_size: int) -> int:
        return math.ceil(self.layout(batch_size)[0].shape[1] / self.seq_len)

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[tuple[torch.Tensor, ...]]:
        x, y = self.layout(batch_size)
        self._hidden = None  # each epoch starts from a zero state
        for s in range(0, x.shape[1], self.seq_len):
            yield x[:, s:s + self.seq_len], y[:, s:s + self.seq_len]  # (B, T), (B, T)

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, int]:
        xb, yb = batch
        logits, hidden = model(xb, self._hidden)  # (B, T, V)
        self._hidden = detach(hidden)  # carried into the next chunk, without its history
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
        return loss, yb.numel()

    def validate(self, model: nn.Module) -> Validation:
        logp, _, _ = stream_scores(model, self.val_ids, topk=False)
        ce = float(-logp.mean()) if len(logp) else float("nan")
        return Validation(ce, ce, {"val_loss": ce}, len(logp))


class LinesObjective:
    """Shuffled, padded, packed batches of line items with a masked loss (see the module docstring)."""

    def __init__(self, train_items: list[np.ndarray], val_items: list[np.ndarray]) -> None:
        if not train_items:
            raise ConfigError("the training part holds no line items")
        self.items, self.val_items = train_items, val_items

    def n_batches(self, batch_size: int) -> int:
        return math.ceil(len(self.items) / min(batch_size, len(self.items)))

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[tuple[torch.Tensor, ...]]:
        bs = min(batch_size, len(self.items))
        perm = torch.randperm(len(self.items), generator=generator).tolist()
        for b in range(self.n_batches(batch_size)):
            yield pad_items([self.items[i] for i in perm[b * bs:(b + 1) * bs]])

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, int]:
        xb, yb, lengths = batch
        logits, _ = model(xb, None, lengths)  # (B, T, V); steps past a length never read padding
        return masked_loss(logits, yb)

    def validate(self, model: nn.Module) -> Validation:
        logp, _, _ = item_scores(model, self.val_items, topk=False)
        ce = float(-logp.mean()) if len(logp) else float("nan")
        return Validation(ce, ce, {"val_loss": ce}, len(logp))


def _score(logits: torch.Tensor, y: torch.Tensor, topk: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    logp = torch.log_softmax(logits.float(), dim=-1)  # (..., V)
    got = logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
    if not topk:
        return got, torch.zeros_like(got, dtype=torch.bool), torch.zeros_like(got, dtype=torch.bool)
    k = min(5, logp.shape[-1])
    top = logp.topk(k, dim=-1).indices  # (..., k)
    return got, top[..., 0] == y, (top == y.unsqueeze(-1)).any(-1)


@torch.no_grad()
def stream_scores(model: nn.Module, ids: np.ndarray, streams: int = 16, chunk: int = 256,
                  topk: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For targets ``ids[1:]``: natural log-probabilities and top-1 / top-5 hits, ``(N - 1,)`` each.

    The stream is read as ``streams`` rows in chunks with the state carried (each row's first
    target starts from a zero state), in eval mode; the model's mode is restored."""
    ids = np.asarray(ids, dtype=np.int64)
    n = len(ids) - 1
    if n <= 0:
        e = np.empty(0)
        return e, e.astype(bool), e.astype(bool)
    was = model.training
    model.eval()
    S = min(streams, n)
    L = math.ceil(n / S)
    x = np.full(S * L, PAD_ID, dtype=np.int64)
    y = np.full(S * L, PAD_ID, dtype=np.int64)
    x[:n], y[:n] = ids[:-1], ids[1:]
    xt, yt = torch.from_numpy(x).view(S, L), torch.from_numpy(y).view(S, L)
    vocab = int(model.shape.output_size)
    step = max(8, min(chunk, (1 << 22) // max(1, S * vocab)))  # bound the logits' memory
    hidden, parts = None, []
    for s in range(0, L, step):
        logits, hidden = model(xt[:, s:s + step], hidden)
        parts.append(_score(logits, yt[:, s:s + step], topk))
    model.train(was)
    out = [torch.cat([p[i] for p in parts], dim=1).reshape(-1)[:n].numpy() for i in range(3)]
    return out[0].astype(np.float64), out[1], out[2]


@torch.no_grad()
def item_scores(model: nn.Module, items: list[np.ndarray], batch: int = 256,
                topk: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`stream_scores` for line items: every target after each ``<bos>``, in item order."""
    was = model.training
    model.eval()
    out: list[list[np.ndarray]] = [[], [], []]
    for b in range(0, len(items), batch):
        group = items[b:b + batch]
        xb, yb, lengths = pad_items(group)
        logits, _ = model(xb, None, lengths)
        scores = _score(logits, yb, topk)
        for i, it in enumerate(group):
            for j in range(3):
                out[j].append(scores[j][i, :len(it) - 1].numpy())
    model.train(was)
    if not out[0]:
        e = np.empty(0)
        return e, e.astype(bool), e.astype(bool)
    return np.concatenate(out[0]).astype(np.float64), np.concatenate(out[1]), np.concatenate(out[2])
