"""Inside a language model, on text (Karpathy, Johnson & Fei-Fei 2015; LSTMVis, Strobelt et al. 2017).

* :func:`trace_text`: one pass over an excerpt with the explicit cell loop: every token's hidden
  state, LSTM cell state and gates, and the model's probability of the token that follows (with
  its top-5 candidates): the raw material of every view below.
* :func:`token_frame`: per token its text, line and column, the next token's probability and
  surprisal (bits), the top-5 candidates: Karpathy's "text with the model's guesses" view.
* :func:`unit_frame`: one unit's activation under every token (the text coloured by a unit).
* :func:`text_features` / :func:`feature_units`: the units most correlated with simple features
  (inside quotes, inside brackets, position in the line, distance to the next newline, start of
  a word, vowel, upper case, indentation depth), each with its Pearson correlation.
* :func:`span_units` / :func:`matching_spans`: LSTMVis: the units on throughout a selected span,
  then the other spans where those units are on together.
* :func:`gate_saturation`: share of left/right-saturated gates (as in the 2015 paper).
* :func:`state_pca`: the hidden-state trajectory over the excerpt in two principal components.
* :func:`surprising_tokens`: the tokens the model expected least.
* :func:`sample` (re-exported): sampling with a prime, temperature, top-k and seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from rnnlab.analysis.cells import CellTrace, saturation_stats, trace_cells
from rnnlab.errors import ConfigError
from rnnlab.pca import pca
from rnnlab.tasks.text.run import TextRun
from rnnlab.tasks.text.sample import sample
from rnnlab.tokenizer import BOS_ID, PAD_ID

__all__ = ["FEATURES", "TextTrace", "excerpt", "feature_units", "gate_saturation", "matching_spans", "sample",
           "span_units", "state_pca", "surprising_tokens", "text_features", "token_frame", "trace_text",
           "unit_frame"]

MAX_TOKENS = 5_000  # an excerpt longer than this is cut (the explicit cell loop is a Python loop over steps)
VOWELS = set("aeiouAEIOU")
FEATURES = ("inside quotes", "inside brackets", "position in line", "distance to newline", "start of word",
            "vowel", "upper case", "indentation depth")


@dataclass
class TextTrace:
    """A model read over one excerpt; arrays are per token (position ``t`` has read tokens ``0..t``)."""

    tokens: list[str]  # the excerpt's tokens as text
    ids: np.ndarray  # (T,) their ids
    h: np.ndarray  # (T, H) top layer's hidden state after each token
    c: np.ndarray | None  # (T, H) LSTM cell state (None for rnn / gru)
    gates: dict[str, np.ndarray]  # gate name -> (T, H), top layer
    p_next: np.ndarray  # (T,) probability the model gave the token that followed (NaN at the last one)
    top5: list[list[tuple[str, float]]]  # per position: the 5 most probable next tokens and their probabilities
    cells: CellTrace = field(repr=False, default=None)  # type: ignore[assignment]  # every layer (for saturation)

    @property
    def surprisal(self) -> np.ndarray:
        """Bits of surprise at each next token: ``-log2 p``."""
        with np.errstate(divide="ignore"):
            return -np.log2(self.p_next)

    def __len__(self) -> int:
        return len(self.tokens)


def excerpt(run: TextRun, part: str = "test", start: int = 0, length: int = 1500) -> str:
    """A stretch of a part's text (``train`` / ``val`` / ``test``), ``length`` characters from ``start``."""
    prep = run.prepared()
    if part not in ("train", "val", "test"):
        raise ConfigError(f"part={part!r} must be one of train, val, test")
    text = getattr(prep, part).text
    start = max(0, min(int(start), max(0, len(text) - 1)))
    return text[start:start + int(length)]


@torch.no_grad()
def trace_text(run: TextRun, text: str) -> TextTrace:
    """Read ``text`` with the run's model (see the module docstring); line corpora read ``<bos>`` first."""
    tok = run.tokenizer
    ids = tok.encode(text)
    if tok.lines:
        ids = np.concatenate([[BOS_ID], ids])
    if len(ids) < 2:
        raise ConfigError(f"the excerpt has {len(ids)} token(s); at least 2 are needed")
    ids = ids[:MAX_TOKENS]
    model = run.model
    model.eval()
    x = torch.from_numpy(ids[None])  # (1, T)
    cells = trace_cells(model, x)
    top = cells.layers[-1]
    logits, _ = model(x)
    probs = torch.softmax(logits[0].float(), dim=-1)  # (T, V)
    p_next = np.full(len(ids), np.nan)
    p_next[:-1] = probs[:-1].gather(1, torch.from_numpy(ids[1:])[:, None])[:, 0].numpy()
    k = min(5, probs.shape[1] - 1)
    shown = probs.clone()
    shown[:, PAD_ID] = -1.0  # padding is never a next token: not a candidate
    tp, ti = shown.topk(k, dim=-1)
    top5 = [[(tok.token(int(i)), float(p)) for p, i in zip(tp[t], ti[t])] for t in range(len(ids))]
    tokens = [tok.token(int(i)) for i in ids]
    return TextTrace(tokens, ids, top.h[0], None if top.c is None else top.c[0], {g: v[0] for g, v in top.gates.items()},
                     p_next, top5, cells)


def _shown(token: str) -> str:
    return {"\n": "⏎", " ": "␣", "\t": "⇥"}.get(token, token)


def token_frame(trace: TextTrace) -> pd.DataFrame:
    """Per token: pos, token, shown (visible whitespace), line, col, next (the following token), p_next,
    surprisal (bits), top5 (``"e 0.41 · a 0.12 …"``)."""
    line, col, lines, cols = 0, 0, [], []
    for t in trace.tokens:
        lines.append(line)
        cols.append(col)
        if t == "\n":
            line, col = line + 1, 0
        else:
            col += 1
    nxt = trace.tokens[1:] + [""]
    return pd.DataFrame({"pos": np.arange(len(trace)), "token": trace.tokens,
                         "shown": [_shown(t) for t in trace.tokens], "line": lines, "col": cols, "next": nxt,
                         "p_next": trace.p_next, "surprisal": trace.surprisal,
                         "top5": [" · ".join(f"{_shown(w)} {p:.2f}" for w, p in c) for c in trace.top5]})


def _kind_array(trace: TextTrace, kind: str) -> np.ndarray:
    if kind == "h":
        return trace.h
    if kind == "c":
        if trace.c is None:
            raise ConfigError("only an LSTM has a cell state")
        return trace.c
    if kind not in trace.gates:
        raise ConfigError(f"kind={kind!r} is not one of h, c, {', '.join(trace.gates)}")
    return trace.gates[kind]


def unit_frame(trace: TextTrace, unit: int, kind: str = "h") -> pd.DataFrame:
    """One unit's activation under every token (``kind``: h, c, or a gate name), beside token_frame's columns."""
    values = _kind_array(trace, kind)
    if not 0 <= unit < values.shape[1]:
        raise ConfigError(f"unit={unit} is out of range; the layer has {values.shape[1]} units")
    out = token_frame(trace)
    out["activation"] = values[:, unit].astype(np.float64)
    return out


def text_features(tokens: list[str]) -> pd.DataFrame:
    """The simple features of each token (columns :data:`FEATURES`), computed from the text alone."""
    n = len(tokens)
    quote, brackets, pos, indent = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    start, vowel, upper = np.zeros(n), np.zeros(n), np.zeros(n)
    q, depth, col, ind, at_indent, prev = 0, 0, 0, 0, True, "\n"
    for i, t in enumerate(tokens):
        if t == '"':
            q ^= 1
        depth = max(0, depth + (t in "([{" and len(t) == 1) - (t in ")]}" and len(t) == 1))
        quote[i], brackets[i] = q, depth > 0
        if t == "\n":
            col, ind, at_indent = 0, 0, True
        else:
            col += 1
            if at_indent and t == " ":
                ind += 1
            else:
                at_indent = False
        pos[i], indent[i] = col, ind
        start[i] = t[:1].isalnum() and not prev[-1:].isalnum()
        vowel[i] = t[:1] in VOWELS
        upper[i] = t[:1].isupper()
        prev = t
    to_nl = np.zeros(n)
    dist = 0
    for i in range(n - 1, -1, -1):
        dist = 0 if tokens[i] == "\n" else dist + 1
        to_nl[i] = dist
    return pd.DataFrame(dict(zip(FEATURES, (quote, brackets, pos, to_nl, start, vowel, upper, indent))))


def _corr(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``A (T, H)`` with ``b (T,)``; 0 where either is constant."""
    A = A - A.mean(0)
    b = b - b.mean()
    den = np.sqrt((A ** 2).sum(0) * (b ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (A * b[:, None]).sum(0) / den
    return np.where(den > 0, r, 0.0)


def feature_units(trace: TextTrace, top: int = 5, kind: str = "h") -> pd.DataFrame:
    """The ``top`` units most correlated (in absolute value) with each feature: columns feature, rank,
    unit, corr, share (how often the feature is on / its mean). Features constant over the excerpt are left out."""
    values = _kind_array(trace, kind).astype(np.float64)
    feats = text_features(trace.tokens)
    rows = []
    for name in FEATURES:
        f = feats[name].to_numpy()
        if f.std() == 0:
            continue
        r = _corr(values, f)
        for rank, u in enumerate(np.argsort(-np.abs(r), kind="stable")[:top], start=1):
            rows.append({"feature": name, "rank": rank, "unit": int(u), "corr": float(r[u]),
                         "share": float(f.mean())})
    return pd.DataFrame(rows, columns=["feature", "rank", "unit", "corr", "share"])


def span_units(trace: TextTrace, start: int, end: int, threshold: float = 0.5, kind: str = "h") -> list[int]:
    """LSTMVis: units whose activation is above ``threshold`` at every token of ``[start, end)``."""
    values = _kind_array(trace, kind)
    if not 0 <= start < end <= len(trace):
        raise ConfigError(f"span [{start}, {end}) must lie within the excerpt's {len(trace)} tokens")
    return [int(u) for u in np.flatnonzero((values[start:end] > threshold).all(0))]


def matching_spans(trace: TextTrace, units: list[int], threshold: float = 0.5, min_length: int = 2,
                   kind: str = "h") -> pd.DataFrame:
    """LSTMVis: the spans where all ``units`` are above ``threshold`` together (at least ``min_length``
    tokens): columns start, end, length, text."""
    cols = ["start", "end", "length", "text"]
    if not units:
        return pd.DataFrame(columns=cols)
    on = (_kind_array(trace, kind)[:, units] > threshold).all(1)
    rows, t = [], 0
    while t < len(on):
        if on[t]:
            s = t
            while t < len(on) and on[t]:
                t += 1
            if t - s >= min_length:
                rows.append({"start": s, "end": t, "length": t - s, "text": "".join(trace.tokens[s:t])})
        t += 1
    return pd.DataFrame(rows, columns=cols)


def gate_saturation(trace: TextTrace, low: float = 0.05, high: float = 0.95) -> pd.DataFrame:
    """Share of left- (``frac_low``) and right-saturated (``frac_high``) values per layer and gate."""
    return saturation_stats(trace.cells, low, high)


def char_class(token: str) -> str:
    if token == "\n":
        return "newline"
    if token.isspace():
        return "space"
    if token[:1].isupper():
        return "upper case"
    if token[:1].isalpha():
        return "vowel" if token[:1] in VOWELS else "consonant"
    if token[:1].isdigit():
        return "digit"
    return "punctuation"


def state_pca(trace: TextTrace) -> tuple[pd.DataFrame, np.ndarray]:
    """The hidden-state trajectory in two principal components: columns pos, token, shown, class, PC1,
    PC2; and the explained variance ratios."""
    res = pca(trace.h.astype(np.float64), 2)
    scores = np.zeros((len(trace), 2))
    scores[:, :res.scores.shape[1]] = res.scores
    return pd.DataFrame({"pos": np.arange(len(trace)), "token": trace.tokens,
                         "shown": [_shown(t) for t in trace.tokens], "class": [char_class(t) for t in trace.tokens],
                         "PC1": scores[:, 0], "PC2": scores[:, 1]}), res.explained_variance_ratio


def surprising_tokens(trace: TextTrace, n: int = 20) -> pd.DataFrame:
    """The ``n`` next tokens the model gave the lowest probability: pos, context (20 tokens before),
    token (the one that came), p, surprisal (bits), expected (the model's top-5)."""
    s = trace.surprisal[:-1]
    order = np.argsort(-s, kind="stable")[:n]
    rows = [{"pos": int(t + 1), "context": "".join(trace.tokens[max(0, t - 19):t + 1]),
             "token": _shown(trace.tokens[t + 1]), "p": float(trace.p_next[t]), "surprisal": float(s[t]),
             "expected": " · ".join(f"{_shown(w)} {p:.2f}" for w, p in trace.top5[t])} for t in order]
    return pd.DataFrame(rows, columns=["pos", "context", "token", "p", "surprisal", "expected"])
