"""A text corpus split by position, tokenized with a vocabulary fitted on the training part (torch-free).

Continuous text (plays, docs): the characters are split 90/5/5 (``train_frac`` / ``val_frac``)
by position, the tokenizer is fitted on the first part only, and each part becomes one stream
of ids. Line corpora (names): the lines are split by position the same way and each line
becomes an item ``<bos> tokens <eos>``; ``seq_len`` resolves to the longest item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.corpora import TextCorpus, load_corpus, load_text_file
from rnnlab.errors import ConfigError, DataError
from rnnlab.settings import ResolvedConfig, RunConfig
from rnnlab.tokenizer import Tokenizer

MIN_PART_TOKENS = 2  # every part needs at least a pair (input, next token)


def load_text(spec: str) -> TextCorpus:
    """A built-in corpus by name, else a text file (``.txt``, optionally gzipped)."""
    from rnnlab.corpora import _TEXT_SPECS

    if spec in _TEXT_SPECS:
        return load_corpus(spec)
    if not Path(spec).expanduser().is_file():
        raise DataError(f"dataset={spec!r} is neither a built-in corpus ({', '.join(_TEXT_SPECS)}) nor a text file")
    return load_text_file(str(Path(spec).expanduser()))


@dataclass
class TextParts:
    """One part of the corpus as ids: a stream (continuous) or items (lines)."""

    text: str  # the part's text
    ids: np.ndarray  # (N,) the stream; for lines all items concatenated (each <bos> ... <eos>)
    items: list[np.ndarray] = field(default_factory=list)  # lines only: each item's ids

    @property
    def n_tokens(self) -> int:
        return len(self.ids)


@dataclass
class TextPrepared:
    """What the text task trains on."""

    config: ResolvedConfig
    corpus: TextCorpus
    tokenizer: Tokenizer
    train: TextParts
    val: TextParts
    test: TextParts
    warnings: list[str] = field(default_factory=list)

    @property
    def lines(self) -> bool:
        return self.corpus.kind == "lines"

    def unknown_rates(self) -> dict[str, float]:
        """Share of ``<unk>`` among the tokens of each part (train is 0 unless the vocabulary is capped)."""
        return {name: float((p.ids == 1).mean()) if p.n_tokens else 0.0
                for name, p in (("train", self.train), ("val", self.val), ("test", self.test))}

    def counts(self) -> dict[str, int]:
        out = {"vocab_size": self.tokenizer.vocab_size, "n_train_tokens": self.train.n_tokens,
               "n_val_tokens": self.val.n_tokens, "n_test_tokens": self.test.n_tokens}
        if self.lines:
            out.update(n_train_items=len(self.train.items), n_val_items=len(self.val.items),
                       n_test_items=len(self.test.items))
        return out


def split_text(corpus: TextCorpus, train_frac: float, val_frac: float) -> tuple[str, str, str]:
    """The corpus cut by position: characters (continuous) or lines (line corpora)."""
    if corpus.kind == "lines":
        lines = corpus.lines
        a, b = int(len(lines) * train_frac), int(len(lines) * (train_frac + val_frac))
        return "\n".join(lines[:a]), "\n".join(lines[a:b]), "\n".join(lines[b:])
    n = len(corpus.text)
    a, b = int(n * train_frac), int(n * (train_frac + val_frac))
    return corpus.text[:a], corpus.text[a:b], corpus.text[b:]


def _part(tok: Tokenizer, text: str, lines: bool) -> TextParts:
    if not lines:
        return TextParts(text, tok.encode(text))
    items = [tok.encode_item(ln) for ln in text.split("\n") if ln.strip()]
    ids = np.concatenate(items) if items else np.empty(0, dtype=np.int64)
    return TextParts(text, ids, items)


def prepare(corpus: TextCorpus, config: RunConfig, fitted: Tokenizer | None = None) -> TextPrepared:
    """Split, fit the tokenizer on the training part (or reuse ``fitted``), encode every part."""
    cfg = config.validate()
    if cfg.bidirectional:
        raise ConfigError("bidirectional=True cannot predict the next token: a language model reads left to right")
    lines = corpus.kind == "lines"
    train_text, val_text, test_text = split_text(corpus, cfg.train_frac, cfg.val_frac)
    tok = fitted if fitted is not None else Tokenizer(cfg.level, cfg.max_vocab, lines=lines).fit(train_text)
    if tok.lines != lines:
        raise ConfigError(f"the vocabulary was fitted on a {'line' if tok.lines else 'continuous'} corpus, "
                          f"this corpus is {corpus.kind}")
    parts = [_part(tok, t, lines) for t in (train_text, val_text, test_text)]
    for name, p in zip(("training", "validation", "test"), parts):
        if p.n_tokens < MIN_PART_TOKENS or (lines and not p.items):
            raise DataError(f"the {name} part of {corpus.name!r} holds {p.n_tokens} tokens; make the corpus longer "
                            f"or change train_frac={cfg.train_frac} / val_frac={cfg.val_frac}")
    seq_len = cfg.seq_len or 100
    if lines:
        seq_len = max(len(it) for p in parts for it in p.items) - 1  # inputs: all but the last token
    elif seq_len >= parts[0].n_tokens:
        raise DataError(f"seq_len={seq_len} is longer than the training part ({parts[0].n_tokens} tokens)")
    resolved = ResolvedConfig.resolved(cfg.replace(seq_len=max(2, seq_len), target="", horizon=1, season=1))
    prep = TextPrepared(resolved, corpus, tok, *parts, warnings=list(corpus.warnings))
    rates = prep.unknown_rates()
    if rates["test"] > 0.05:
        prep.warnings.append(f"{rates['test']:.1%} of the test tokens are outside the vocabulary (<unk>); "
                             f"raise max_vocab={cfg.max_vocab} or use level='char'")
    return prep
