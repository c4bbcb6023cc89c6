"""The forecaster's contract: shapes, cell types, config validation."""

from __future__ import annotations

import pytest
import torch

from rnnlab.errors import ConfigError
from rnnlab.models import ModelConfig, RNNForecaster


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_forward_returns_prediction_and_per_step_states(cell, bidirectional):
    cfg = ModelConfig(cell=cell, input_size=3, hidden_size=8, num_layers=2, horizon=5, bidirectional=bidirectional)
    model = RNNForecaster(cfg)
    pred, states = model(torch.randn(4, 12, 3))
    assert pred.shape == (4, 5)
    assert states.shape == (4, 12, 8 * (2 if bidirectional else 1))
    assert type(model.rnn).__name__ == {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell]


def test_relu_rnn_uses_relu():
    model = RNNForecaster(ModelConfig(cell="rnn", nonlinearity="relu"))
    assert model.rnn.nonlinearity == "relu"


@pytest.mark.parametrize("field,value", [("cell", "transformer"), ("hidden_size", 0), ("num_layers", -1),
                                         ("dropout", 1.5), ("horizon", 0), ("nonlinearity", "gelu")])
def test_bad_model_settings_name_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        ModelConfig(**{field: value}).validate()
