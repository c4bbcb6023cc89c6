"""The tokenizer: fitted on training text only, <unk> and its rate, framing, exact char round-trip, vocab.json."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.corpora import load_corpus
from rnnlab.errors import ConfigError, RunError
from rnnlab.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Tokenizer, split_words


def test_char_round_trip_is_exact_on_real_text() -> None:
    text = load_corpus("shakespeare-small").text[:20_000]
    tok = Tokenizer("char").fit(text)
    assert tok.decode(tok.encode(text)) == text
    assert tok.vocab_[:2] == ["<pad>", "<unk>"]
    assert tok.unknown_rate(text) == 0.0


def test_vocabulary_comes_from_the_training_text_only() -> None:
    tok = Tokenizer("char").fit("aaab")
    ids = tok.encode("abz")
    assert ids.tolist() == [tok.vocab_.index("a"), tok.vocab_.index("b"), UNK_ID]
    assert tok.vocab_[2] == "a"  # most frequent first
    assert tok.unknown_rate("abzz") == pytest.approx(0.5)
    assert tok.decode(ids) == "ab<unk>"


def test_cap_keeps_the_most_frequent_words() -> None:
    tok = Tokenizer("word", max_vocab=4).fit("the cat, the dog. the cat")
    assert tok.vocab_ == ["<pad>", "<unk>", "the", "cat"]
    assert tok.decode(tok.encode("the dog")) == "the <unk>"
    assert split_words("Don't stop (now), Romeo!\nNo.") == ["Don't", "stop", "(", "now", ")", ",", "Romeo", "!",
                                                            "\n", "No", "."]
    wt = Tokenizer("word").fit("Don't stop (now), Romeo!\nNo.")
    assert wt.decode(wt.encode("Don't stop (now), Romeo!\nNo.")) == "Don't stop (now), Romeo!\nNo."


def test_line_items_are_framed_and_specials_left_out_of_text() -> None:
    tok = Tokenizer("char", lines=True).fit("Anna\nBob\n")
    assert tok.vocab_[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    ids = tok.encode_item("Bob")
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID and PAD_ID not in ids
    assert tok.decode(ids) == "Bob"
    assert tok.decode(ids, specials=True) == "<bos>Bob<eos>"


def test_save_load_round_trip(tmp_path) -> None:
    tok = Tokenizer("word", max_vocab=50).fit("to be or not to be")
    tok.save(tmp_path / "vocab.json")
    back = Tokenizer.load(tmp_path / "vocab.json")
    assert back == tok
    assert np.array_equal(back.encode("to be"), tok.encode("to be"))


def test_bad_input_is_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match="level='byte'"):
        Tokenizer("byte")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_vocab=2"):
        Tokenizer("char", max_vocab=2)
    with pytest.raises(ConfigError, match="not fitted"):
        Tokenizer().encode("a")
    with pytest.raises(ConfigError, match="empty"):
        Tokenizer().fit("")
    (tmp_path / "vocab.json").write_text('{"format": "x"}')
    with pytest.raises(RunError, match="not an rnnlab vocabulary"):
        Tokenizer.load(tmp_path / "vocab.json")
    with pytest.raises(ConfigError, match="outside the vocabulary"):
        Tokenizer().fit("ab").decode([99])
