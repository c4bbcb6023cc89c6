"""The text Task object: character- or word-level language models on the shared core.

Scores on the test text (cross-entropy, perplexity, bits per character or per word, top-1 and
top-5 next-token accuracy) stand next to a unigram model and a smoothed n-gram model
(Witten-Bell, order ``ngram_order``) fitted on the training ids and scored on the same targets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnlab.corpora import TextCorpus, list_corpora
from rnnlab.export import ExportSpec
from rnnlab.models import ModelShape
from rnnlab.settings import RunConfig
from rnnlab.tasks.base import CatalogueEntry
from rnnlab.tasks.text import store
from rnnlab.tasks.text.ngram import NGram, lm_metrics
from rnnlab.tasks.text.objective import LinesObjective, StreamObjective
from rnnlab.tasks.text.prepared import TextPrepared, load_text, prepare
from rnnlab.tasks.text.run import TextRun, baseline_scores, part_scores
from rnnlab.tasks.text.sample import sample
from rnnlab.tokenizer import PAD_ID
from rnnlab.training import Callback

PREVIEW_CHARS = 200  # characters (or 40 words) sampled for the live preview
PRIME_CHARS = 40  # the live preview's prime: the validation text's first line, at most this long


def preview_prime(prep: TextPrepared) -> str:
    """The fixed prime of the live samples: the first line of the validation text ("" for line corpora)."""
    if prep.lines:
        return ""
    first = next((ln for ln in prep.val.text.split("\n") if ln.strip()), "")
    return first[:PRIME_CHARS] + "\n"


def beaten_words(metrics: dict[str, Any]) -> str:
    """Whether the model beats the n-gram baseline on the test text, in plain words."""
    test = metrics.get("test", {})
    m, ng = test.get("model", {}), test.get("ngram", {})
    if not m or not ng:
        return ""
    key = "bits_per_char" if "bits_per_char" in m else "bits_per_word"
    unit = "bits/char" if key == "bits_per_char" else "bits/word"
    order = metrics.get("ngram_order", 3)
    if m[key] < ng[key]:
        return f"the model beats the {order}-gram baseline: {m[key]:.3f} vs {ng[key]:.3f} {unit} on the test text"
    return (f"the {order}-gram baseline wins: {ng[key]:.3f} vs the model's {m[key]:.3f} {unit} on the test text; "
            f"train longer or use a larger model")


class TextLogits(nn.Module):
    """Wraps a language model so the exported graph maps tokens to logits only."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model(tokens)[0]


class TextTask:
    name = "text"
    data_kind = "text"
    required_files = store.REQUIRED_FILES
    optional_files = store.OPTIONAL_FILES
    validation_score_words = "validation cross-entropy (nats per token)"

    def catalogue(self) -> list[CatalogueEntry]:
        return [CatalogueEntry(i.name, "text", f"{i.size / 1e6:.2g} M characters" if i.size >= 1e5 else
                               f"{i.size:,} characters", f"{i.kind} text" + (" (one item per line)"
                                                                            if i.kind == "lines" else ""),
                               i.description, i.source, i.licence) for i in list_corpora()]

    def load_data(self, spec: str, config: RunConfig) -> TextCorpus:
        return load_text(spec)

    def prepare(self, data: TextCorpus, config: RunConfig, fitted: Any = None) -> TextPrepared:
        return prepare(data, config, fitted)

    def model_shape(self, prep: TextPrepared) -> ModelShape:
        v = prep.tokenizer.vocab_size
        return ModelShape("text", input_size=prep.config.embed_size, output_size=v, vocab_size=v, pad_index=PAD_ID)

    def objective(self, prep: TextPrepared) -> StreamObjective | LinesObjective:
        if prep.lines:
            return LinesObjective(prep.train.items, prep.val.items)
        return StreamObjective(prep.train.ids, prep.val.ids, prep.config.seq_len)

    def validation_score(self, prep: TextPrepared, val_output: Any) -> float:
        return float(val_output["val_loss"])

    def recorder(self, prep: TextPrepared, model: nn.Module) -> Callback | None:
        return None

    def make_run(self, prep: TextPrepared, model: nn.Module, *, history: list[dict[str, float]],
                 train_info: dict[str, Any], meta: dict[str, Any], recorder: Callback | None) -> TextRun:
        meta = {**meta, "data_fingerprint": prep.corpus.fingerprint(), "data_source": prep.corpus.source}
        return TextRun(config=prep.config, model=model, dataset=prep.corpus, history=history, train_info=train_info,
                       meta=meta, tokenizer=prep.tokenizer, _prepared=prep)

    def evaluate(self, run: TextRun) -> TextRun:
        prep = run.prepared()
        cfg = prep.config
        level = cfg.level
        test = {"model": lm_metrics(*part_scores(run.model, prep.test, prep.lines), level)}
        v = prep.tokenizer.vocab_size
        for name, order in (("unigram", 1), ("ngram", cfg.ngram_order)):
            ng = NGram(order).fit(prep.train.ids, v)
            test[name] = lm_metrics(*baseline_scores(ng, prep.test, prep.lines), level)
        run.metrics = {"test": test, "level": level, "ngram_order": cfg.ngram_order, "baseline_smoothing":
                       "Witten-Bell interpolated", **{f"unknown_rate_{k}": r for k, r in prep.unknown_rates().items()}}
        run.metrics["verdict"] = beaten_words(run.metrics)
        return run

    def preview(self, prep: TextPrepared, model: nn.Module, val_output: Any, epoch: int) -> dict[str, Any] | None:
        """A short sample from the current weights, from a fixed prime and seed (the same every epoch)."""
        cfg = prep.config
        prime = preview_prime(prep)
        length = PREVIEW_CHARS if cfg.level == "char" else PREVIEW_CHARS // 5
        s = sample(model, prep.tokenizer, prime, length, cfg.temperature, 0, cfg.seed)
        out = {"epoch": epoch, "prime": prime, "sample": s.text, "temperature": cfg.temperature}
        if val_output is not None:
            out["val_loss"] = float(val_output["val_loss"])
        return out

    def export_spec(self, run: TextRun) -> ExportSpec:
        prep = run.prepared()
        T = min(run.config.seq_len, 32)
        ids = prep.test.ids
        n = min(4, max(1, (len(ids) - 1) // T))
        check = ids[:n * T].reshape(n, T).astype(np.int64) if len(ids) >= T else None
        g = torch.Generator().manual_seed(0)
        example = torch.randint(0, prep.tokenizer.vocab_size, (2, 8), generator=g)
        return ExportSpec(TextLogits(run.model).eval(), (example,), ["tokens"], ["logits"],
                          {"tokens": {0: "batch", 1: "steps"}, "logits": {0: "batch", 1: "steps"}},
                          None if check is None else (check,), name=f"{run.config.cell} language model")

    def describe_data(self, run: TextRun) -> dict[str, Any]:
        return store.describe_data(run)

    def write_files(self, run: TextRun, folder: Path) -> None:
        store.write_files(run, folder)

    def read_run(self, folder: Path, doc: dict[str, Any], **common: Any) -> TextRun:
        return store.read_run(folder, doc, **common)


TEXT = TextTask()
TASK = TEXT  # what rnnlab.tasks.get_task returns for "text"
