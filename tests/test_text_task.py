"""The text task: split and vocabulary, TBPTT and padded batches, baselines, sampling, run folder, export."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from rnnlab import pipeline
from rnnlab.corpora import TextCorpus, load_corpus
from rnnlab.errors import ConfigError, DataError
from rnnlab.export import export_run
from rnnlab.models import ModelShape, build_model
from rnnlab.runs import load_run, save_run
from rnnlab.settings import RunConfig
from rnnlab.tasks.text.ngram import NGram
from rnnlab.tasks.text.objective import LinesObjective, StreamObjective, masked_loss, pad_items
from rnnlab.tasks.text.sample import sample
from rnnlab.tokenizer import PAD_ID

TINY = dict(hidden_size=16, embed_size=8, epochs=1, batch_size=16, seq_len=32)


@pytest.fixture(scope="module")
def small() -> TextCorpus:
    c = load_corpus("shakespeare-small")
    return dataclasses.replace(c, text=c.text[:30_000])


@pytest.fixture(scope="module")
def run(small):
    return pipeline.fit(small, RunConfig.defaults("text", **TINY))


def test_defaults_are_a_quick_char_lstm() -> None:
    cfg = RunConfig.defaults("text")
    assert (cfg.dataset, cfg.level, cfg.cell, cfg.train_frac, cfg.val_frac) == ("shakespeare-small", "char", "lstm",
                                                                                0.9, 0.05)
    assert 128 <= cfg.hidden_size <= 256 and 64 <= cfg.seq_len <= 100
    assert not cfg.applies("target") and not cfg.applies("horizon") and cfg.applies("level")


def test_split_by_position_and_vocabulary_from_training_text_only() -> None:
    text = ("abcd " * 400) + "xyz " * 50  # x, y, z only appear in the last part
    prep = pipeline.prepare(TextCorpus("t", text), RunConfig.defaults("text", seq_len=16))
    assert prep.train.text + prep.val.text + prep.test.text == text
    assert len(prep.train.text) == int(len(text) * 0.9)
    assert "x" not in prep.tokenizer.vocab_
    rates = prep.unknown_rates()
    assert rates["train"] == 0 and rates["test"] > 0.5
    assert any("outside the vocabulary" in w for w in prep.warnings)
    assert prep.counts()["vocab_size"] == prep.tokenizer.vocab_size


def test_tbptt_carries_the_state_between_consecutive_chunks() -> None:
    ids = np.arange(1000) % 7 + 2
    obj = StreamObjective(ids, ids[:100], seq_len=10)
    x, y = obj.layout(4)
    assert x.shape == (4, 249) and torch.equal(x[:, 1:], y[:, :-1])  # targets are the next tokens
    assert obj.n_batches(4) == 25
    model = build_model(RunConfig.defaults("text", hidden_size=8, embed_size=4), ModelShape("text", 4, 9, 9))
    batches = obj.train_batches(4, torch.Generator())
    first = next(batches)
    assert torch.equal(first[0], x[:, :10])
    obj.loss(model, first)
    h1 = obj._hidden
    assert h1 is not None and not h1[0].requires_grad  # carried, detached
    obj.loss(model, next(batches))
    assert not torch.equal(obj._hidden[0], h1[0])
    next(obj.train_batches(4, torch.Generator()))
    assert obj._hidden is None  # a new epoch starts from zero


def test_padding_changes_neither_loss_nor_gradient() -> None:
    model = build_model(RunConfig.defaults("text", hidden_size=8, embed_size=4), ModelShape("text", 4, 10, 10))
    items = [np.array([2, 5, 6, 7, 3]), np.array([2, 8, 3])]

    def loss_and_grads(extra: int):
        xb, yb, lengths = pad_items(items)
        if extra:
            pad = torch.full((2, extra), PAD_ID, dtype=torch.int64)
            xb, yb = torch.cat([xb, pad], 1), torch.cat([yb, pad], 1)
        model.zero_grad()
        logits, _ = model(xb, None, lengths)
        loss, n = masked_loss(logits, yb)
        loss.backward()
        return float(loss.detach()), n, [p.grad.clone() for p in model.parameters()]

    a, b = loss_and_grads(0), loss_and_grads(7)
    assert a[1] == b[1] == 6  # 4 + 2 targets, none of them padding
    assert a[0] == pytest.approx(b[0], abs=1e-6)
    assert all(torch.allclose(g, h, atol=1e-6) for g, h in zip(a[2], b[2]))
    assert LinesObjective(items, items).n_batches(1) == 2


def test_ngram_baselines_are_proper_and_sharp() -> None:
    ids = np.array([2, 3, 4] * 300)
    ng = NGram(3).fit(ids, 6)
    assert sum(ng._prob((2, 3), w) for w in range(6)) == pytest.approx(1.0)
    assert sum(ng._prob((5, 5), w) for w in range(6)) == pytest.approx(1.0)  # unseen history: the unigram
    logp, top1, top5 = ng.score(ids[:60])
    assert top1[1:].all() and top5.all() and np.exp(logp[1:]).min() > 0.99
    uni_logp, uni_top1, _ = NGram(1).fit(ids, 6).score(ids[:60])
    assert uni_logp.mean() < logp.mean() and uni_top1.mean() < 0.5


def test_training_scores_model_and_baselines_on_the_same_test_tokens(run) -> None:
    test = run.metrics["test"]
    assert set(test) == {"model", "unigram", "ngram"}
    n = {who: row["n_tokens"] for who, row in test.items()}
    assert len(set(n.values())) == 1 and n["model"] == run.prepared().test.n_tokens - 1
    for row in test.values():
        assert row["bits_per_char"] == pytest.approx(row["cross_entropy"] / math.log(2))
        assert 0 <= row["accuracy"] <= row["top5_accuracy"] <= 1
    assert test["ngram"]["bits_per_char"] < test["unigram"]["bits_per_char"]
    assert ("baseline wins" in run.metrics["verdict"]) == (test["ngram"]["bits_per_char"]
                                                          <= test["model"]["bits_per_char"])


def test_sampling_is_seeded_and_greedy_at_zero(run) -> None:
    a = run.sample("ROMEO:", 80, temperature=1.0, seed=3)
    assert a.text == run.sample("ROMEO:", 80, temperature=1.0, seed=3).text and len(a.ids) == 80
    assert a.text != run.sample("ROMEO:", 80, temperature=1.0, seed=4).text
    assert run.sample("ROMEO:", 30, temperature=0.0, seed=1).text == run.sample("ROMEO:", 30, temperature=0.0,
                                                                                   seed=2).text
    top1 = run.sample("", 50, temperature=1.0, top_k=1, seed=5).text
    assert top1 == run.sample("", 50, temperature=0.0).text
    with pytest.raises(ConfigError, match="temperature"):
        run.sample("", 10, temperature=-1)


def test_live_preview_is_a_sample_from_a_fixed_prime(run) -> None:
    from rnnlab.tasks import get_task

    prep = run.prepared()
    p = get_task("text").preview(prep, run.model, {"val_loss": 2.0}, 1)
    assert p["prime"] and len(p["sample"]) > 0 and p["val_loss"] == 2.0
    assert p == get_task("text").preview(prep, run.model, {"val_loss": 2.0}, 1)


def test_run_folder_reloads_and_samples_identically(run, tmp_path) -> None:
    folder = save_run(run, tmp_path / "r")
    assert (folder / "vocab.json").is_file() and (folder / "text.txt.gz").is_file()
    back = load_run(folder)
    assert back.tokenizer == run.tokenizer and back.dataset.text == run.dataset.text
    assert back.metrics["test"] == run.metrics["test"]
    assert back.sample("KING:", 60, seed=1).text == run.sample("KING:", 60, seed=1).text
    from rnnlab.cli_store import _score
    from rnnlab.store import RunEntry

    assert _score(RunEntry.from_run(back)) == (f"{run.metrics['test']['model']['bits_per_char']:.3f} bits/char "
                                               f"(n-gram {run.metrics['test']['ngram']['bits_per_char']:.3f})")


def test_export_onnx_and_torchscript_match_torch(run, tmp_path) -> None:
    import onnxruntime as ort

    export_run(run, "onnx", tmp_path / "m.onnx")
    export_run(run, "torchscript", tmp_path / "m.pt")
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    tokens = run.prepared().test.ids[:3 * 50].reshape(3, 50)  # another batch and length than traced
    got = sess.run(["logits"], {"tokens": tokens})[0]
    with torch.no_grad():
        ref = run.model(torch.from_numpy(tokens))[0].numpy()
    assert got.shape == (3, 50, run.tokenizer.vocab_size) and np.abs(got - ref).max() < 1e-4


def test_names_line_corpus_trains_and_generates_lines() -> None:
    names = load_corpus("names")
    names = dataclasses.replace(names, text="\n".join(names.lines[:600]) + "\n")
    r = pipeline.fit(names, RunConfig.defaults("text", **{**TINY, "seq_len": None, "epochs": 8, "lr": 0.01}))
    prep = r.prepared()
    assert prep.lines and prep.config.seq_len == max(len(it) for p in (prep.train, prep.val, prep.test)
                                                     for it in p.items) - 1
    n = r.metrics["test"]["model"]["n_tokens"]
    assert n == sum(len(it) - 1 for it in prep.test.items) == r.metrics["test"]["ngram"]["n_tokens"]
    s = sample(r.model, r.tokenizer, "", 120, 1.0, 0, 0).text
    assert "\n" in s and "<" not in s


def test_bad_settings_are_named(small) -> None:
    with pytest.raises(ConfigError, match="bidirectional"):
        pipeline.prepare(small, RunConfig.defaults("text", bidirectional=True))
    with pytest.raises(DataError, match="seq_len=5000"):
        pipeline.prepare(dataclasses.replace(small, text=small.text[:5000]), RunConfig.defaults("text", seq_len=5000))
    with pytest.raises(DataError, match="neither a built-in corpus"):
        pipeline.load_data(RunConfig.defaults("text", dataset="no-such-corpus"))


def test_cli_trains_samples_and_exports(tmp_path, capsys) -> None:
    from rnnlab.cli import main

    src = tmp_path / "play.txt"
    src.write_text(load_corpus("shakespeare-small").text[:20_000], encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--task", "text", "--data", str(src), "--hidden", "8", "--embed-size", "4", "--epochs",
                 "1", "--seq-len", "32", "--out", str(out), "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "bits/char" in table and "3-gram" in table and "unigram" in table
    args = ["sample", "--run", str(out), "--prime", "ROMEO:", "--length", "40", "--temperature", "0.8"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert first.startswith("ROMEO:") and main(args) == 0 and capsys.readouterr().out == first
    assert load_run(out).config.train_frac == 0.9  # the text task's defaults, not forecasting's
    assert main(["train", "--task", "text", "--horizon", "3", "--out", str(tmp_path / "x")]) == 2
    assert "--horizon do(es) not apply to --task text" in capsys.readouterr().err
    assert main(["sample", "--run", str(out), "--temperature", "-1"]) == 2
    assert "temperature" in capsys.readouterr().err


def test_analysis_views_of_a_text_run(run) -> None:
    from rnnlab.analysis import text as at

    ex = at.excerpt(run, "test", 0, 400)
    tr = at.trace_text(run, ex)
    H = run.config.hidden_size
    assert len(tr) == len(ex) and tr.h.shape == (len(ex), H) and set(tr.gates) == {"input", "forget", "cell", "output"}
    frame = at.token_frame(tr)
    assert "".join(frame["token"]) == ex and np.isnan(frame["p_next"].iloc[-1])
    assert ((frame["p_next"].iloc[:-1] > 0) & (frame["p_next"].iloc[:-1] <= 1)).all()
    assert "<pad>" not in " ".join(frame["top5"])
    feats = at.text_features(list('ab (c "d\n  e'))
    assert feats["inside brackets"].tolist()[3:5] == [1, 1] and feats["inside quotes"].iloc[6] == 1
    assert feats["indentation depth"].iloc[-1] == 2 and feats["distance to newline"].iloc[0] == 8
    units = at.feature_units(tr, top=3)
    assert set(units["feature"]) >= {"position in line", "distance to newline", "upper case"}
    assert (units["corr"].abs() <= 1).all() and units.groupby("feature")["rank"].max().max() == 3
    # a unit built to track the position in the line is found at rank 1 with correlation 1
    tr.h[:, 0] = at.text_features(tr.tokens)["position in line"].to_numpy()
    best = at.feature_units(tr, top=1).set_index("feature").loc["position in line"]
    assert best["unit"] == 0 and best["corr"] == pytest.approx(1.0)
    sat = at.gate_saturation(tr)
    assert set(sat["gate"]) >= {"input", "forget", "output"} and ((sat["frac_low"] + sat["frac_high"]) <= 1).all()
    pcs, ratio = at.state_pca(tr)
    assert len(pcs) == len(tr) and 0 < ratio.sum() <= 1 + 1e-9
    worst = at.surprising_tokens(tr, 5)
    assert worst["surprisal"].is_monotonic_decreasing and len(worst) == 5
    on = at.span_units(tr, 10, 15, threshold=-2.0)
    assert on == list(range(H))  # every tanh state is above -2
    spans = at.matching_spans(tr, on[:2], threshold=-2.0, min_length=2)
    assert spans["length"].sum() == len(tr)
    assert "activation" in at.unit_frame(tr, 1, "c")
    with pytest.raises(ConfigError, match="unit=999"):
        at.unit_frame(tr, 999)


def test_word_level_reports_perplexity_and_bits_per_word(small) -> None:
    r = pipeline.fit(small, RunConfig.defaults("text", **{**TINY, "level": "word", "max_vocab": 500, "seq_len": 16}))
    test = r.metrics["test"]
    assert r.tokenizer.level == "word" and r.tokenizer.vocab_size == 500
    for row in test.values():
        assert "bits_per_word" in row and "bits_per_char" not in row
        assert row["perplexity"] == pytest.approx(math.exp(row["cross_entropy"]))
    assert r.metrics["unknown_rate_test"] > 0  # a capped vocabulary leaves rare words out
    words = r.sample("the", 20, seed=0).text.split()
    assert len(words) >= 10
