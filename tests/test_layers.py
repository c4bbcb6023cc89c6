"""Attention, the causal convolutional front end and the autoregressive highway: what each
promises, with every cell, saved and exported like the plain model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab import pipeline
from rnnlab.errors import ConfigError
from rnnlab.export import export_run, forecast_spec, max_abs_diff
from rnnlab.layers import Attention, CausalConv, Highway
from rnnlab.runs import load_run, save_run
from tests.helpers import make_forecaster


def test_the_convolution_is_causal():
    """Changing inputs after step t changes no output at or before t: no future step leaks in."""
    torch.manual_seed(0)
    conv = CausalConv(3, 8, kernel=3, dilation=2, layers=3)
    x = torch.randn(2, 20, 3)
    y = x.clone()
    y[:, 11:] = torch.randn(2, 9, 3) * 100
    with torch.no_grad():
        a, b = conv(x), conv(y)
    assert torch.equal(a[:, :11], b[:, :11]) and not torch.allclose(a[:, 11:], b[:, 11:])
    assert conv.receptive_field == 1 + 2 * (1 + 2 + 4)


def test_a_forecast_reads_only_its_window():
    """With convolutions, attention and highway on, a window's forecast is the same whether later
    rows exist or not (windows end at their anchor), and the states at step t ignore later steps."""
    torch.manual_seed(0)
    model = make_forecaster("gru", input_size=2, hidden_size=8, num_layers=1, horizon=3, conv_layers=2,
                            conv_kernel=3, attention="dot", highway=4).eval()
    x = torch.randn(1, 12, 2)
    with torch.no_grad():
        full = model(x)
        states_short = model(x[:, :7]).states
    assert torch.allclose(full.states[:, :7], states_short, atol=1e-6)


@pytest.mark.parametrize("kind", ["additive", "dot"])
def test_attention_weights_are_a_distribution_that_skips_padding(kind):
    torch.manual_seed(0)
    att = Attention(kind, 6)
    keys, query = torch.randn(3, 5, 6), torch.randn(3, 6)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2, [True] + [False] * 4])
    context, w = att(query, keys, mask)
    assert torch.allclose(w.sum(-1), torch.ones(3)) and torch.all(w[~mask] == 0)
    assert torch.allclose(context[2], keys[2, 0], atol=1e-6)  # one valid step: all the weight on it


def test_forward_returns_the_attention_weights_and_the_highway_part_adds_up():
    torch.manual_seed(0)
    model = make_forecaster("lstm", input_size=1, hidden_size=8, num_layers=1, horizon=2, attention="additive",
                            highway=5).eval()
    x = torch.randn(4, 10, 1)
    with torch.no_grad():
        out = model(x)
        network, highway, _, weights = model.parts(x)
    assert out.attention is not None and out.attention.shape == (4, 2, 10)  # per forecast step
    assert torch.allclose(out.prediction, network + highway) and torch.equal(out.attention, weights)
    assert Highway(5, 2)(x).shape == (4, 2)
    assert make_forecaster().eval()(x).attention is None


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("extra", [dict(attention="additive"), dict(conv_layers=2, conv_dilation=2),
                                   dict(highway=6), dict(attention="dot", conv_layers=1, highway=3, bidirectional=True)])
def test_every_combination_saves_reloads_and_exports(sine_dataset, tiny_config, tmp_path, cell, extra):
    run = pipeline.fit(sine_dataset, tiny_config.replace(cell=cell, epochs=1, **extra))
    again = load_run(save_run(run, tmp_path / "r"))
    X = run.prepared().test.X[:9]
    with torch.no_grad():
        np.testing.assert_array_equal(run.model(torch.from_numpy(X))[0].numpy(), again.model(torch.from_numpy(X))[0].numpy())
    for fmt in ("onnx", "torchscript"):
        data = export_run(again, fmt)  # checked against torch inside
        assert max_abs_diff(forecast_spec(again.model, again.config.seq_len), data, fmt, (X,)) < 1e-4


def test_the_cell_loop_and_states_agree_with_a_convolutional_front_end():
    from rnnlab import analysis as A

    torch.manual_seed(0)
    model = make_forecaster("lstm", input_size=2, hidden_size=5, num_layers=2, horizon=1, conv_layers=2).eval()
    X = torch.randn(3, 9, 2)
    with torch.no_grad():
        states = model(X).states
    assert np.abs(A.trace_cells(model, X).layers[-1].h - states.numpy()).max() < 1e-5


def test_transfer_starts_from_the_saved_weights_and_freezing_keeps_them(sine_dataset, tiny_config, tmp_path):
    source = save_run(pipeline.fit(sine_dataset, tiny_config.replace(epochs=2)), tmp_path / "src")
    before = load_run(source).model.rnn.state_dict()
    frozen = pipeline.fit(sine_dataset, tiny_config.replace(epochs=2, init_from=str(source), freeze="recurrent"))
    for k, v in frozen.model.rnn.state_dict().items():
        assert torch.equal(v, before[k]), k  # the recurrent layers did not move
    assert any("frozen" in w for w in frozen.meta["warnings"])
    tuned = pipeline.fit(sine_dataset, tiny_config.replace(epochs=2, init_from=str(source)))
    assert any(not torch.equal(v, before[k]) for k, v in tuned.model.rnn.state_dict().items())
    other_horizon = pipeline.fit(sine_dataset, tiny_config.replace(epochs=1, horizon=2, init_from=str(source)))
    assert any("head.weight" in w for w in other_horizon.meta["warnings"])  # the head starts fresh


def test_transfer_refuses_what_does_not_fit(sine_dataset, tiny_config, tmp_path):
    source = save_run(pipeline.fit(sine_dataset, tiny_config.replace(epochs=1)), tmp_path / "src")
    sine_dataset.frame["x"] = np.cos(np.arange(len(sine_dataset.frame)))
    with pytest.raises(ConfigError, match=r"input columns \['y'\]; this data has \['y', 'x'\]"):
        pipeline.fit(sine_dataset, tiny_config.replace(features=["x"], init_from=str(source)))
    with pytest.raises(ConfigError, match="other layers"):
        pipeline.fit(sine_dataset, tiny_config.replace(hidden_size=8, init_from=str(source)))
    with pytest.raises(ConfigError, match="cannot be used: run folder .* does not exist"):
        pipeline.fit(sine_dataset, tiny_config.replace(init_from=str(tmp_path / "nope")))
    with pytest.raises(ConfigError, match="freeze='recurrent' needs init_from"):
        pipeline.fit(sine_dataset, tiny_config.replace(freeze="recurrent"))


def test_the_automatic_highway_follows_the_linear_baseline(sine_dataset, trend_dataset, tiny_config):
    """auto: on (seq_len lags) where a linear AR clearly beats persistence on the validation span
    (a smooth periodic series), off on a random walk; the reason is stated; a user's choice wins."""
    on = pipeline.prepare(sine_dataset, tiny_config)
    assert on.config.highway == on.config.seq_len and "auto: on" in on.highway_reason
    off = pipeline.prepare(trend_dataset, tiny_config)
    assert off.config.highway == 0 and "auto: off" in off.highway_reason
    chosen = pipeline.prepare(sine_dataset, tiny_config.replace(highway=3))
    assert chosen.config.highway == 3 and chosen.highway_reason == ""


def test_a_highway_run_starts_from_the_linear_fit(sine_dataset, tiny_config):
    """Before any training step the model's forecast is the linear AR on the target alone."""
    from rnnlab.baselines import LinearAR
    from rnnlab.models import build_model
    from rnnlab.tasks.forecast import FORECAST

    prep = pipeline.prepare(sine_dataset, tiny_config.replace(highway=8))
    model = build_model(prep.config, FORECAST.model_shape(prep))
    FORECAST.initialise(model, prep)
    lin = LinearAR().fit(prep.train.X[:, -8:, :1], prep.train.Y)
    with torch.no_grad():
        got = model(torch.from_numpy(prep.test.X))[0].numpy()
    np.testing.assert_allclose(got, lin.predict(prep.test.X[:, -8:, :1]), rtol=1e-4, atol=1e-4)


def test_fine_tuning_models_the_target_the_way_the_source_did(sine_dataset, trend_dataset, tiny_config, tmp_path):
    """A source modelled in differences makes auto pick differences for the target too (a short
    target span would otherwise be called stationary and modelled in levels: the weights would be
    read in the wrong units); an explicit other transform is refused with the fix."""
    source = pipeline.fit(trend_dataset, tiny_config.replace(epochs=1))
    assert source.preprocessor.transform_ in ("diff", "log_return")
    folder = save_run(source, tmp_path / "src")
    tuned = pipeline.fit(sine_dataset, tiny_config.replace(epochs=1, init_from=str(folder)))
    assert tuned.preprocessor.transform_ == source.preprocessor.transform_
    with pytest.raises(ConfigError, match="models its target as .*use transform="):
        pipeline.fit(sine_dataset, tiny_config.replace(transform="level", init_from=str(folder)))
