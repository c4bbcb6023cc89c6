"""Sampling text from a language model: prime, length, temperature, top-k, seed.

The same model, prime, settings and seed give the same text (a private ``torch.Generator``:
nothing draws from the process-global one, so sampling during training changes no run).
Temperature 0 is greedy (the most probable token every step). On a line corpus (names) each
item starts at ``<bos>`` and ends at ``<eos>``; sampling goes on with the next item, one per line.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rnnlab.errors import ConfigError
from rnnlab.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Tokenizer

MAX_LENGTH = 20_000


@dataclass
class Sample:
    prime: str  # the prime as given
    text: str  # the generated continuation (without the prime)
    ids: list[int]  # the generated token ids


def check_sampling(length: int, temperature: float, top_k: int) -> None:
    if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= MAX_LENGTH:
        raise ConfigError(f"length={length!r} must be a whole number in [1, {MAX_LENGTH:,}]")
    if not isinstance(temperature, (int, float)) or not 0 <= float(temperature) <= 10:
        raise ConfigError(f"temperature={temperature!r} must be in [0, 10] (0: greedy)")
    if not isinstance(top_k, int) or top_k < 0:
        raise ConfigError(f"top_k={top_k!r} must be a whole number >= 0 (0: every token)")


def next_distribution(logits: torch.Tensor, temperature: float, top_k: int, lines: bool = False) -> torch.Tensor:
    """Probabilities ``(V,)`` to draw from: padding and ``<unk>`` (and ``<bos>`` on a line corpus)
    excluded, the ``top_k`` most probable kept (0: all); one-hot on the most probable at temperature 0."""
    logits = logits.float().clone()
    logits[PAD_ID] = logits[UNK_ID] = -float("inf")
    if lines:
        logits[BOS_ID] = -float("inf")
    if temperature <= 0:
        out = torch.zeros_like(logits)
        out[int(torch.argmax(logits))] = 1.0
        return out
    logits = logits / temperature
    if 0 < top_k < logits.shape[0]:
        cut = torch.topk(logits, top_k).values[-1]
        logits[logits < cut] = -float("inf")
    return torch.softmax(logits, dim=-1)


@torch.no_grad()
def sample(model: nn.Module, tokenizer: Tokenizer, prime: str = "", length: int = 200, temperature: float = 0.8,
           top_k: int = 0, seed: int = 0) -> Sample:
    """``length`` tokens continuing ``prime`` (unknown prime tokens read as ``<unk>``)."""
    check_sampling(length, temperature, top_k)
    was = model.training
    model.eval()
    g = torch.Generator().manual_seed(int(seed))
    lines = tokenizer.lines
    ids = tokenizer.encode(prime).tolist() if prime else []
    if lines:
        ids = [BOS_ID, *ids]
    elif not ids:  # start where a line starts, else at the most frequent token
        nl = tokenizer._index.get("\n")
        ids = [nl if nl is not None else len(tokenizer.specials)]
    hidden = None
    logits, hidden = model(torch.tensor([ids]), hidden)
    out: list[int] = []
    for _ in range(length):
        probs = next_distribution(logits[0, -1], temperature, top_k, lines)
        nxt = int(torch.multinomial(probs, 1, generator=g)) if temperature > 0 else int(probs.argmax())
        out.append(nxt)
        if lines and nxt == EOS_ID:  # the item ends: start the next one from <bos>
            hidden = None
            logits, hidden = model(torch.tensor([[BOS_ID]]), hidden)
            continue
        logits, hidden = model(torch.tensor([[nxt]]), hidden)
    model.train(was)
    return Sample(prime, decode_sample(tokenizer, out), out)


def decode_sample(tokenizer: Tokenizer, ids: list[int]) -> str:
    """Generated ids as text; on a line corpus each ``<eos>`` ends a line."""
    if not tokenizer.lines:
        return tokenizer.decode(ids)
    parts, cur = [], []
    for i in ids:
        if i == EOS_ID:
            parts.append(tokenizer.decode(cur) + "\n")
            cur = []
        else:
            cur.append(i)
    parts.append(tokenizer.decode(cur))
    return "".join(parts)

