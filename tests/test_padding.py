"""Padding, packing and masks: a sequence's prediction is its own, whatever it is batched with."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.models import ModelShape, RNNClassifier, build_model, left_align
from rnnlab.settings import RunConfig
from rnnlab.tasks.classify.prepared import pad_batch
from rnnlab.training import seeded

ATOL = 1e-5
VARIANTS = [("gru", "last", False), ("lstm", "last", True), ("rnn", "mean", False), ("gru", "max", True),
            ("lstm", "attention", False), ("gru", "attention", True)]


def model_for(cell: str, pooling: str, bidirectional: bool, tokens: bool = False, layers: int = 2) -> RNNClassifier:
    cfg = RunConfig.defaults("classify", cell=cell, pooling=pooling, bidirectional=bidirectional, hidden_size=8,
                             num_layers=layers)
    shape = (ModelShape("classify", input_size=5, output_size=3, vocab_size=12, pad_index=0) if tokens
             else ModelShape("classify", input_size=4, output_size=3))
    with seeded(0):
        model = build_model(cfg, shape)
    return model.eval()  # type: ignore[return-value]


def sequences(tokens: bool, lengths: tuple[int, ...] = (6, 2, 11, 1, 8)) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    if tokens:
        return [rng.integers(1, 12, size=n).astype(np.int64) for n in lengths]
    return [rng.normal(size=(n, 4)).astype(np.float32) for n in lengths]


def logits(model: RNNClassifier, items: list[np.ndarray], side: str = "post") -> np.ndarray:
    X, mask = pad_batch(items, side)
    with torch.no_grad():
        return model(torch.from_numpy(X), torch.from_numpy(mask))[0].numpy()


@pytest.mark.parametrize("tokens", [False, True], ids=["frames", "tokens"])
@pytest.mark.parametrize(("cell", "pooling", "bidirectional"), VARIANTS)
def test_prediction_does_not_depend_on_the_batch_or_the_padding_side(cell: str, pooling: str, bidirectional: bool,
                                                                      tokens: bool) -> None:
    model = model_for(cell, pooling, bidirectional, tokens)
    items = sequences(tokens)
    alone = np.concatenate([logits(model, [s]) for s in items])  # each unpadded, batch of one
    for side in ("post", "pre"):
        np.testing.assert_allclose(logits(model, items, side), alone, atol=ATOL)
    # the same sequence next to much longer / shorter neighbours
    longer = sequences(tokens, (40, 3))
    for s, ref in zip(items, alone):
        for side in ("post", "pre"):
            np.testing.assert_allclose(logits(model, [longer[0], s, longer[1]], side)[1], ref, atol=ATOL)


@pytest.mark.parametrize(("cell", "pooling", "bidirectional"), VARIANTS)
def test_hand_padded_with_zeros_and_a_mask_equals_the_unpadded_sequence(cell: str, pooling: str,
                                                                       bidirectional: bool) -> None:
    model = model_for(cell, pooling, bidirectional)
    s = sequences(False)[0]  # (6, 4)
    with torch.no_grad():
        ref = model(torch.from_numpy(s[None]), torch.ones(1, len(s), dtype=torch.bool))[0]
        for before, after in ((0, 9), (9, 0)):
            x = np.concatenate([np.zeros((before, 4), np.float32), s, np.zeros((after, 4), np.float32)])[None]
            mask = np.zeros((1, len(x[0])), dtype=bool)
            mask[0, before:before + len(s)] = True
            got = model(torch.from_numpy(x), torch.from_numpy(mask))[0]
            np.testing.assert_allclose(got.numpy(), ref.numpy(), atol=ATOL)
            # padding that is not zero is ignored too: the mask alone decides
            x2 = x.copy()
            x2[0, ~mask[0]] = 1e3
            np.testing.assert_allclose(model(torch.from_numpy(x2), torch.from_numpy(mask))[0].numpy(), ref.numpy(),
                                       atol=ATOL)


def test_states_past_a_length_are_zero_and_pooling_weights_sum_to_one() -> None:
    model = model_for("gru", "attention", False)
    X, mask = pad_batch(sequences(False), "pre")
    with torch.no_grad():
        out = model(torch.from_numpy(X), torch.from_numpy(mask))
    lengths = mask.sum(1)
    for i, n in enumerate(lengths):
        assert torch.all(out.states[i, n:] == 0)
        assert torch.all(out.weights[i, n:] == 0)
        assert out.weights[i].sum().item() == pytest.approx(1.0, abs=1e-6)


def test_pad_batch_and_left_align() -> None:
    items = sequences(False, (3, 1, 2))
    X, mask = pad_batch(items, "pre")
    assert X.shape == (3, 3, 4) and mask.tolist() == [[True] * 3, [False, False, True], [False, True, True]]
    assert np.all(X[1, :2] == 0) and np.array_equal(X[1, 2], items[1][0])
    post = left_align(torch.from_numpy(X), torch.from_numpy(mask)).numpy()
    Xp, mp = pad_batch(items, "post")
    np.testing.assert_array_equal(post, Xp)
    ids, idmask = pad_batch(sequences(True, (2, 4)), "pre")
    assert ids.dtype == np.int64 and ids.shape == (2, 4) and ids[0, 0] == 0 and idmask.sum() == 6
