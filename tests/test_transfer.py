"""Transfer learning between runs of the text and classify tasks: tokens and classes are matched by
name, not by position (another corpus numbers its vocabulary otherwise). Forecasting's transfer
(columns, horizons, freezing) is tested in test_layers.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab import pipeline
from rnnlab.corpora import TextCorpus
from rnnlab.errors import ConfigError
from rnnlab.models import build_model
from rnnlab.runs import save_run
from rnnlab.sequences import SequenceDataset
from rnnlab.settings import RunConfig
from rnnlab.tasks import get_task
from rnnlab.transfer import start_from

TEXT = dict(hidden_size=16, embed_size=8, epochs=1, batch_size=16, seq_len=32)
SOURCE_TEXT = "the quick brown fox jumps over the lazy dog. " * 120  # 'o' is frequent: an early id
TARGET_TEXT = "111 222 333 eee ttt hhh qqq. " * 150  # other frequencies, so other ids; the digits are new


def started(data: object, cfg: RunConfig) -> tuple[torch.nn.Module, list[str], object]:
    """A fresh model for ``data`` started from ``cfg.init_from`` (before any training)."""
    prep = pipeline.prepare(data, cfg)
    model = build_model(prep.config, get_task(cfg.task).model_shape(prep))
    notes = start_from(model, prep.config, prep)
    return model, notes, prep


@pytest.fixture(scope="module")
def text_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    run = pipeline.fit(TextCorpus("source", SOURCE_TEXT), RunConfig.defaults("text", **TEXT))
    return save_run(run, tmp_path_factory.mktemp("runs") / "text-src"), run


def test_text_fine_tuning_moves_each_token_to_its_own_row(text_source) -> None:
    folder, source = text_source
    cfg = RunConfig.defaults("text", **TEXT, init_from=str(folder))
    model, notes, prep = started(TextCorpus("target", TARGET_TEXT), cfg)
    old_vocab, new_vocab = source.tokenizer.vocab_, prep.tokenizer.vocab_
    assert old_vocab.index("e") != new_vocab.index("e")  # the two corpora number 'e' differently
    old_emb = source.model.embedding.weight.detach()
    new_emb = model.embedding.weight.detach()
    for token in ("e", "t", "h", "q", " ", "."):
        i, j = new_vocab.index(token), old_vocab.index(token)
        assert torch.equal(new_emb[i], old_emb[j]), token
        assert torch.equal(model.head.weight.detach()[i], source.model.head.weight.detach()[j]), token
    for token in ("1", "2", "3"):  # never seen by the source: a fresh row, not some other token's
        i = new_vocab.index(token)
        assert not any(torch.equal(new_emb[i], row) for row in old_emb)
    shared = sum(t in old_vocab for t in new_vocab)
    assert any(f"{shared} of {len(new_vocab)} tokens carried over" in n for n in notes), notes
    # the recurrent layers are the source's, unchanged
    assert all(torch.equal(a, b) for a, b in zip(model.rnn.parameters(), source.model.rnn.parameters(), strict=True))


def test_frozen_text_model_still_learns_vectors_for_new_tokens(text_source) -> None:
    folder, _ = text_source
    model, notes, _ = started(TextCorpus("target", TARGET_TEXT),
                              RunConfig.defaults("text", **TEXT, init_from=str(folder), freeze="recurrent"))
    assert not any(p.requires_grad for p in model.rnn.parameters())
    assert model.embedding.weight.requires_grad
    assert any("embedding trains too" in n for n in notes), notes
    same, notes = started(TextCorpus("same", SOURCE_TEXT),
                          RunConfig.defaults("text", **TEXT, init_from=str(folder), freeze="recurrent"))[:2]
    assert not same.embedding.weight.requires_grad  # every token known: the embedding stays fixed too
    assert any("only the head was trained" in n for n in notes), notes


def test_text_fine_tuning_trains_and_names_what_does_not_fit(text_source) -> None:
    folder, _ = text_source
    tuned = pipeline.fit(TextCorpus("target", TARGET_TEXT), RunConfig.defaults("text", **TEXT, init_from=str(folder)))
    assert np.isfinite(tuned.metrics["test"]["model"]["bits_per_char"])
    assert any("carried over" in w for w in tuned.meta["warnings"])
    with pytest.raises(ConfigError, match="models chars; this run models words"):
        started(TextCorpus("target", TARGET_TEXT), RunConfig.defaults("text", **TEXT, level="word", init_from=str(folder)))
    with pytest.raises(ConfigError, match="shares no tokens"):
        started(TextCorpus("other", "ÄÖÜßäöüÆØÅ" * 300), RunConfig.defaults("text", **TEXT, init_from=str(folder)))
    with pytest.raises(ConfigError, match="other layers"):
        started(TextCorpus("target", TARGET_TEXT), RunConfig.defaults("text", **{**TEXT, "embed_size": 12},
                                                                       init_from=str(folder)))


def names_data(classes: list[str], seed: int) -> SequenceDataset:
    """Short texts whose class is their first letter (``a...`` is class 'a'), in the order ``classes``."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for k, c in enumerate(classes):
        for _ in range(40):
            texts.append(c + "".join(rng.choice(list("mnop"), size=int(rng.integers(2, 6)))))
            labels.append(k)
    return SequenceDataset(name="letters", labels=np.array(labels), classes=classes,
                           ids=[str(i) for i in range(len(texts))], texts=texts)


def test_classifier_fine_tuning_matches_classes_by_name(tmp_path: Path) -> None:
    cfg = RunConfig.defaults("classify", epochs=2, hidden_size=8, num_layers=1, batch_size=32)
    source = pipeline.fit(names_data(["a", "b"], 0), cfg)
    folder = save_run(source, tmp_path / "cls-src")
    # the same two classes listed the other way round, and a new one
    model, notes, prep = started(names_data(["b", "c", "a"], 1), cfg.replace(init_from=str(folder)))
    old_w, new_w = source.model.head.weight.detach(), model.head.weight.detach()
    assert torch.equal(new_w[0], old_w[1]) and torch.equal(new_w[2], old_w[0])  # 'b' and 'a' by name
    assert not torch.equal(new_w[1], old_w[0]) and not torch.equal(new_w[1], old_w[1])  # 'c' is new
    assert any("2 of 3 outputs" in n for n in notes), notes
