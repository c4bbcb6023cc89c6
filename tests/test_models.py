"""The forecaster's contract: shapes, cell types, settings validation."""

from __future__ import annotations

import pytest
import torch

from rnnlab.errors import ConfigError
from rnnlab.models import ModelShape
from rnnlab.settings import RunConfig
from tests.helpers import make_forecaster


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_forward_returns_prediction_and_per_step_states(cell, bidirectional):
    model = make_forecaster(cell, input_size=3, hidden_size=8, num_layers=2, horizon=5, bidirectional=bidirectional)
    pred, states = model(torch.randn(4, 12, 3))[:2]
    assert pred.shape == (4, 5)
    assert states.shape == (4, 12, 8 * (2 if bidirectional else 1))
    assert type(model.rnn).__name__ == {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell]


def test_relu_rnn_uses_relu():
    assert make_forecaster("rnn", nonlinearity="relu").rnn.nonlinearity == "relu"


@pytest.mark.parametrize("field,value", [("cell", "transformer"), ("hidden_size", 0), ("num_layers", -1),
                                         ("dropout", 1.5), ("nonlinearity", "gelu"), ("hidden_size", 5000),
                                         ("num_layers", 17), ("hidden_size", 2.5), ("dropout", float("nan"))])
def test_bad_model_settings_name_the_field_and_the_rule(field, value):
    with pytest.raises(ConfigError, match=field):
        RunConfig(**{field: value}).validate()


@pytest.mark.parametrize("field,value", [("input_size", 0), ("output_size", -1), ("head", "decoder")])
def test_bad_shapes_name_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        ModelShape(**{field: value}).validate()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_encoding_ignores_padding_and_batch_mates(cell, bidirectional):
    """A padded sequence's states equal its states alone, whatever else is in the batch."""
    from rnnlab.models import RecurrentBackbone

    torch.manual_seed(0)
    cfg = RunConfig(cell=cell, hidden_size=6, num_layers=2, bidirectional=bidirectional).validate()
    backbone = RecurrentBackbone(cfg, ModelShape(input_size=3)).eval()
    a, b = torch.randn(1, 4, 3), torch.randn(1, 9, 3)
    batch = torch.zeros(2, 9, 3)
    batch[0, :4], batch[1] = a[0], b[0]
    batch[0, 4:] = 1e3  # garbage in the padding must not matter
    with torch.no_grad():
        states, _ = backbone.encode(batch, lengths=torch.tensor([4, 9]))
        alone_a, _ = backbone.encode(a)
        alone_b, _ = backbone.encode(b)
    assert torch.allclose(states[0, :4], alone_a[0], atol=1e-6) and torch.allclose(states[1], alone_b[0], atol=1e-6)
    assert torch.equal(states[0, 4:], torch.zeros_like(states[0, 4:]))


def test_token_inputs_go_through_an_embedding_whose_padding_row_is_zero():
    from rnnlab.models import RecurrentBackbone

    cfg = RunConfig(hidden_size=5, num_layers=1).validate()
    backbone = RecurrentBackbone(cfg, ModelShape(input_size=4, vocab_size=10, pad_index=0))
    assert backbone.embedding is not None and torch.equal(backbone.embedding.weight[0], torch.zeros(4))
    states, (h, c) = backbone.encode(torch.tensor([[3, 4, 5], [6, 0, 0]]), lengths=torch.tensor([3, 1]))
    assert states.shape == (2, 3, 5) and h.shape == (1, 2, 5)
    with pytest.raises(ConfigError, match="pad_index=10"):
        ModelShape(vocab_size=10, pad_index=10).validate()
