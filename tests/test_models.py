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
    pred, states = model(torch.randn(4, 12, 3))
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
