"""Text to token ids and back: character or word level, fitted on the training text only.

In the scikit-learn style: :meth:`Tokenizer.fit` reads the training part and fixes the
vocabulary (``vocab_``, most frequent first after the special tokens, capped at
``max_vocab``); everything else maps to ``<unk>``, and :meth:`Tokenizer.unknown_rate` says how
much of a text that is. Special tokens come first and have fixed ids::

    0 <pad>   padding of line items to the batch's longest (never predicted, never trained)
    1 <unk>   a token outside the vocabulary
    2 <bos>   start of a line item (line corpora only: names)
    3 <eos>   end of a line item (line corpora only)

Character level round-trips exactly (``decode(encode(s)) == s``) for any text whose characters
were seen in training. Word level splits into words (letters, digits, inner apostrophes),
single punctuation marks and newlines; ``decode`` joins them with spaces, none before closing
punctuation or around newlines. The fitted tokenizer is saved with a run as ``vocab.json``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rnnlab.errors import ConfigError, RunError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
LEVELS = ("char", "word")
FORMAT = "rnnlab-vocab/1"
_WORD = re.compile(r"\n|\w+(?:'\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = set(".,;:!?)]}'\"")
_NO_SPACE_AFTER = set("([{")


def split_words(text: str) -> list[str]:
    """Word-level tokens of ``text``: words, single punctuation marks and newlines (spaces dropped)."""
    return _WORD.findall(text)


@dataclass
class Tokenizer:
    """Maps text to ids of a vocabulary fitted on training text."""

    level: Literal["char", "word"] = "char"  # what a token is
    max_vocab: int = 10_000  # vocabulary cap, special tokens included (the rarest tokens become <unk>)
    lines: bool = False  # line-per-item corpus: items are framed by <bos> ... <eos>
    vocab_: list[str] = field(default_factory=list)  # fitted: id -> token (specials first)
    counts_: list[int] = field(default_factory=list)  # fitted: training count of each token (0 for specials)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ConfigError(f"level={self.level!r} is not a tokenizer level; choose one of {', '.join(LEVELS)}")
        if not isinstance(self.max_vocab, int) or self.max_vocab < len(self.specials) + 1:
            raise ConfigError(f"max_vocab={self.max_vocab!r} must be at least {len(self.specials) + 1} "
                              f"(the special tokens plus one)")
        self._index = {t: i for i, t in enumerate(self.vocab_)}

    @property
    def specials(self) -> list[str]:
        return [PAD, UNK, BOS, EOS] if self.lines else [PAD, UNK]

    @property
    def fitted(self) -> bool:
        return bool(self.vocab_)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab_)

    @property
    def joiner(self) -> str:
        return "" if self.level == "char" else " "

    # ------------------------------------------------------------------ fitting
    def tokens(self, text: str) -> list[str]:
        """``text`` split into this level's tokens (not yet ids)."""
        return list(text) if self.level == "char" else split_words(text)

    def fit(self, text: str) -> Tokenizer:
        """Fix the vocabulary from ``text`` (the training part only): most frequent tokens first,
        ties in first-seen order, at most ``max_vocab`` entries with the special tokens."""
        items = text.split("\n") if self.lines else [text]
        counts: Counter[str] = Counter()
        for item in items:
            counts.update(self.tokens(item))
        if not counts:
            raise ConfigError("the training text is empty: there is nothing to fit a vocabulary on")
        keep = counts.most_common(self.max_vocab - len(self.specials))
        self.vocab_ = self.specials + [t for t, _ in keep]
        self.counts_ = [0] * len(self.specials) + [c for _, c in keep]
        self._index = {t: i for i, t in enumerate(self.vocab_)}
        return self

    def _check_fitted(self) -> None:
        if not self.vocab_:
            raise ConfigError("the tokenizer is not fitted yet: call fit(training_text) first")

    # ------------------------------------------------------------------ ids
    def encode(self, text: str) -> np.ndarray:
        """``(N,)`` int64 ids of ``text``'s tokens (unknown ones as ``<unk>``), no framing."""
        self._check_fitted()
        get = self._index.get
        return np.fromiter((get(t, UNK_ID) for t in self.tokens(text)), dtype=np.int64)

    def encode_item(self, item: str) -> np.ndarray:
        """One line item framed as ``<bos> tokens <eos>`` (line corpora)."""
        return np.concatenate([[BOS_ID], self.encode(item), [EOS_ID]]).astype(np.int64)

    def decode(self, ids: Any, *, specials: bool = False) -> str:
        """Text of ``ids``; special tokens are left out unless ``specials`` (``<unk>`` is always shown)."""
        self._check_fitted()
        n = len(self.vocab_)
        toks = []
        for i in np.asarray(ids, dtype=np.int64).ravel():
            if not 0 <= i < n:
                raise ConfigError(f"token id {int(i)} is outside the vocabulary of {n}")
            if i == UNK_ID or i >= len(self.specials) or specials:
                toks.append(self.vocab_[i])
        if self.level == "char":
            return "".join(toks)
        return join_words(toks)

    def token(self, i: int) -> str:
        return self.vocab_[int(i)]

    def unknown_rate(self, text: str) -> float:
        """Share of ``text``'s tokens outside the vocabulary (0 for empty text)."""
        ids = self.encode(text)
        return float((ids == UNK_ID).mean()) if len(ids) else 0.0

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "level": self.level, "max_vocab": self.max_vocab, "lines": self.lines,
                "vocab": list(self.vocab_), "counts": list(self.counts_)}

    @classmethod
    def from_dict(cls, d: Any) -> Tokenizer:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise RunError(f"vocab.json is not an rnnlab vocabulary (format {FORMAT!r} expected)")
        vocab, counts = d.get("vocab"), d.get("counts")
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab) or len(set(vocab)) != len(vocab):
            raise RunError("vocab.json: 'vocab' must be a list of distinct strings")
        if not isinstance(counts, list) or len(counts) != len(vocab):
            raise RunError("vocab.json: 'counts' must hold one count per token")
        try:
            tok = cls(level=d.get("level"), max_vocab=int(d.get("max_vocab")), lines=bool(d.get("lines")),
                      vocab_=vocab, counts_=[int(c) for c in counts])
        except (ConfigError, TypeError, ValueError) as exc:
            raise RunError(f"vocab.json is invalid: {exc}") from exc
        if vocab[:len(tok.specials)] != tok.specials:
            raise RunError(f"vocab.json must start with the special tokens {tok.specials}")
        return tok

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Tokenizer:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunError(f"cannot read the vocabulary '{path}': {exc}") from exc


def join_words(tokens: list[str]) -> str:
    """Word tokens back to text: spaces between words, none before closing punctuation, after
    opening brackets or around newlines."""
    out: list[str] = []
    for t in tokens:
        if out and t != "\n" and out[-1] != "\n" and t[0] not in _NO_SPACE_BEFORE \
                and out[-1][-1] not in _NO_SPACE_AFTER:
            out.append(" ")
        out.append(t)
    return "".join(out)
