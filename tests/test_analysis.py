"""rnnlab.analysis: gate-loop parity, PCA, saliency on a copy task, what-if identity,
recursive vs direct, ACF band, probing, and every function on rnn / lstm / gru runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from rnnlab import analysis as A
from rnnlab import pipeline
from rnnlab.errors import ConfigError, DataError
from rnnlab.settings import RunConfig
from rnnlab.tasks import forecast
from tests.conftest import make_dataset
from tests.helpers import make_forecaster


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The models here are tiny: one intra-op thread is as fast, and far steadier when other
    processes load the machine (idle OpenMP threads spin otherwise)."""
    from rnnlab._platform import configure_torch_threads

    before = configure_torch_threads()  # sized once per process; later train() calls keep our setting
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ----------------------------------------------------------------------------- gate loop parity
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_cell_loop_reproduces_torch(cell: str, layers: int, bidirectional: bool) -> None:
    torch.manual_seed(layers * 10 + bidirectional)
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
    mod = cls(input_size=3, hidden_size=7, num_layers=layers, bidirectional=bidirectional, batch_first=True).eval()
    X = torch.randn(9, 13, 3)
    with torch.no_grad():
        out, hn = mod(X)
    trace = A.trace_cells(mod, X.numpy(), chunk=4)  # chunking must not matter
    assert np.abs(trace.layers[-1].h - out.numpy()).max() < 1e-5
    h_n = hn[0] if cell == "lstm" else hn
    assert trace.final_hidden().shape == tuple(h_n.shape)
    assert np.abs(trace.final_hidden() - h_n.numpy()).max() < 1e-5  # every layer and direction
    if cell == "lstm":
        assert np.abs(trace.final_cell() - hn[1].numpy()).max() < 1e-5
        assert set(trace.layers[0].gates) == {"input", "forget", "cell", "output"}
    elif cell == "gru":
        assert set(trace.layers[0].gates) == {"reset", "update", "new"}
    else:
        assert trace.layers[0].gates == {}
    for lt in trace.layers:
        assert lt.h.shape == (9, 13, 7 * (2 if bidirectional else 1))


def test_cell_loop_relu_rnn_and_not_batch_first_module() -> None:
    torch.manual_seed(3)
    mod = nn.RNN(2, 5, num_layers=2, nonlinearity="relu").eval()  # batch_first=False
    X = torch.randn(4, 6, 2)  # (n, T, F): the loop is always batch-first
    with torch.no_grad():
        out, _ = mod(X.transpose(0, 1))
    trace = A.trace_cells(mod, X)
    assert np.abs(trace.layers[-1].h - out.transpose(0, 1).numpy()).max() < 1e-5


def test_cell_loop_on_forecaster_and_saturation() -> None:
    torch.manual_seed(0)
    model = make_forecaster(cell="lstm", input_size=2, hidden_size=6, num_layers=2, horizon=3).eval()
    X = torch.randn(5, 8, 2)
    with torch.no_grad():
        states = model(X).states
    trace = A.trace_cells(model, X)
    assert np.abs(trace.layers[-1].h - states.numpy()).max() < 1e-5
    assert [s.shape for s in A.layer_states(model, X)] == [(5, 8, 6), (5, 8, 6)]
    sat = A.saturation_stats(trace)
    assert set(sat["gate"]) == {"input", "forget", "cell", "output", "tanh(cell state)"}
    assert ((sat["frac_saturated"] >= 0) & (sat["frac_saturated"] <= 1)).all()
    # a gate pushed to saturation is reported as such
    with torch.no_grad():
        model.rnn.bias_ih_l0[6:12] = 50.0  # forget gate of layer 1 -> ~1
    sat = A.saturation_stats(A.trace_cells(model, X))
    row = sat[(sat["layer"] == 1) & (sat["gate"] == "forget")].iloc[0]
    assert row["frac_high"] == pytest.approx(1.0)
    hist = A.gate_histogram(A.trace_cells(model, X), layer=0)
    assert np.allclose(hist.groupby("gate")["share"].sum(), 1.0)
    win = A.gate_window_frame(A.trace_cells(model, X), window=2)
    assert set(win["quantity"]) == {"input", "forget", "cell", "output", "cell state", "hidden"}


# ----------------------------------------------------------------------------- PCA
def test_pca_matches_numpy_reference() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 6)) @ rng.standard_normal((6, 6)) + 3.0
    res = A.pca(X, 3)
    assert res.components.shape == (3, 6) and res.scores.shape == (200, 3)
    ratio = res.explained_variance_ratio
    assert ratio.sum() <= 1 + 1e-12 and np.all(np.diff(ratio) <= 1e-12)
    eig = np.sort(np.linalg.eigvalsh(np.cov(X, rowvar=False)))[::-1]
    assert np.allclose(res.explained_variance, eig[:3])
    assert np.allclose(ratio, eig[:3] / eig.sum())
    assert np.allclose(res.transform(X), res.scores)
    assert np.allclose(res.components @ res.components.T, np.eye(3), atol=1e-10)
    full = A.pca(X, 10)  # capped at d
    assert full.n_components == 6 and full.explained_variance_ratio.sum() == pytest.approx(1.0)
    few = A.pca(X[:, :2], 3)
    assert few.n_components == 2 and few.padded(X[:, :2], 3).shape == (200, 3)


# ----------------------------------------------------------------------------- saliency on a copy task
def test_saliency_peaks_at_the_copied_lag() -> None:
    L, k = 12, 4
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    X = torch.randn(2048, L, 1, generator=g)
    Y = X[:, L - 1 - k, :].clone()  # target = the input k steps before the anchor
    model = make_forecaster(cell="lstm", input_size=1, hidden_size=16, num_layers=1, horizon=1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(250):
        idx = torch.randint(0, len(X), (128,), generator=g)
        loss = ((model(X[idx])[0] - Y[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    s = A.saliency(model, X[:256].numpy(), chunk=100).mean(axis=0)[:, 0]  # (L,)
    lag_of_peak = L - 1 - int(s.argmax())
    assert lag_of_peak == k
    assert s.max() > 5 * np.delete(s, L - 1 - k).max()
    one = A.saliency(model, X[:1].numpy())
    assert one.shape == (1, L, 1) and L - 1 - int(one[0, :, 0].argmax()) == k


# ----------------------------------------------------------------------------- runs for the rest
@pytest.fixture(scope="module")
def runs() -> dict[str, forecast.ForecastRun]:
    """Tiny trained runs: lstm/level/univariate (2 layers), gru/diff/univariate (bidirectional),
    rnn/log_return/multivariate, lstm/log_return/univariate."""
    rng = np.random.default_rng(0)
    t = np.arange(500)
    sine = 10 + 3 * np.sin(2 * np.pi * t / 25) + np.sin(2 * np.pi * t / 7) + 0.1 * rng.standard_normal(500)
    walk = 100 + np.cumsum(0.3 + rng.standard_normal(500))
    extra = 5 + np.sin(t / 10) + 0.1 * rng.standard_normal(500)
    base = {"dataset": "synthetic", "seq_len": 12, "horizon": 3, "hidden_size": 8, "num_layers": 1, "epochs": 2, "batch_size": 64,
                "patience": 0, "lr": 5e-3}
    return {
        "lstm": pipeline.fit(make_dataset(sine, "sine"), RunConfig(cell="lstm", transform="level",
                                                                   **{**base, "num_layers": 2})),
        "gru": pipeline.fit(make_dataset(walk, "walk"), RunConfig(cell="gru", transform="diff", bidirectional=True, **base)),
        "rnn": pipeline.fit(make_dataset(walk, "walk", extra={"x": extra}),
                            RunConfig(cell="rnn", transform="log_return", features=["x"], **base)),
        "lstm_log": pipeline.fit(make_dataset(walk, "walk"), RunConfig(cell="lstm", transform="log_return", **base)),
    }


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn", "lstm_log"])
def test_what_if_identity_and_edits(runs: dict, name: str) -> None:
    run = runs[name]
    prep = run.prepared()
    same = A.what_if(run)
    assert np.allclose(same.forecast["edited"], run.forecast()["forecast"], atol=1e-9)
    assert np.allclose(same.forecast["original"], same.forecast["edited"])
    a = int(prep.test.anchors[5])
    at = A.what_if(run, anchor=a)
    direct = forecast.predict_original(run.model, prep.preprocessor, prep.test)[5]
    assert np.allclose(at.forecast["edited"], direct, atol=1e-9)
    assert np.allclose(at.forecast["actual"], prep.test.y_true[5])
    edited = A.what_if(run, scale=1.5, shift=2.0, spike_lag=0, spike_size=5.0, anchor=a)
    assert not np.allclose(edited.forecast["edited"], edited.forecast["original"])
    assert edited.inputs["edited"].iloc[-1] != pytest.approx(edited.inputs["original"].iloc[-1])
    traj = edited.trajectory
    assert set(traj["version"]) == {"original", "edited"} and len(traj) == 2 * prep.preprocessor.seq_len
    assert {"PC1", "PC2", "PC3"} <= set(traj.columns)


def test_edit_window_and_invalid_edits(runs: dict) -> None:
    v = np.array([1.0, 2.0, 3.0])
    assert np.allclose(A.edit_window(v, scale=2.0), [0.0, 2.0, 4.0])
    assert np.allclose(A.edit_window(v, shift=1.0, spike_lag=0, spike_size=10.0), [2.0, 3.0, 14.0])
    with pytest.raises(ConfigError):
        A.edit_window(v, spike_lag=3, spike_size=1.0)
    with pytest.raises(DataError):  # log-returns of a non-positive value
        A.what_if(runs["rnn"], shift=-1e6)


@pytest.mark.parametrize("name", ["lstm", "gru", "lstm_log"])
def test_recursive_horizon_one_equals_direct(runs: dict, name: str) -> None:
    run = runs[name]
    prep = run.prepared()
    pre = prep.preprocessor
    w = prep.test
    # the vectorised target transform is the preprocessor's
    L, off = pre.seq_len, pre.offset
    raw = prep.y[w.anchors[:, None] + np.arange(-L + 1 - off, 1)[None, :]]
    assert np.allclose(A.transform_target_rows(pre, raw), w.X[:, :, 0], atol=1e-5)
    rec = A.recursive_forecast(run.model, pre, prep.y, w.anchors, 1)
    direct = forecast.predict_original(run.model, pre, w)
    assert np.allclose(rec[:, 0], direct[:, 0], atol=1e-9)
    cmp = A.recursive_vs_direct(run)
    assert cmp.available and list(cmp.per_step["step"]) == [1, 2, 3]
    first = cmp.per_step.iloc[0]
    assert first["recursive_mae"] == pytest.approx(first["direct_mae"])


def test_recursive_explains_multivariate(runs: dict) -> None:
    cmp = A.recursive_vs_direct(runs["rnn"])
    assert not cmp.available and "feature" in cmp.reason


# ----------------------------------------------------------------------------- errors
def test_acf_of_white_noise_inside_band() -> None:
    e = np.random.default_rng(0).standard_normal(3000)
    table = A.acf(e, 20)
    assert list(table["lag"]) == list(range(1, 21))
    assert table["band"].iloc[0] == pytest.approx(1.96 / np.sqrt(3000))
    assert table["outside"].sum() <= 2  # 5% of 20 lags expected by chance
    ar = np.zeros(3000)
    for i in range(1, 3000):
        ar[i] = 0.8 * ar[i - 1] + e[i]
    assert A.acf(ar, 5)["acf"].iloc[0] == pytest.approx(0.8, abs=0.05)


def test_error_histogram_density() -> None:
    e = np.random.default_rng(1).normal(2.0, 3.0, 5000)
    hist, mu, sd = A.error_histogram(e, bins=40)
    width = hist["bin_end"] - hist["bin_start"]
    assert (hist["density"] * width).sum() == pytest.approx(1.0)
    assert mu == pytest.approx(2.0, abs=0.15) and sd == pytest.approx(3.0, abs=0.15)
    assert np.abs(hist["density"] - hist["normal_density"]).max() < 0.03


def test_error_by_calendar_groups_and_labels() -> None:
    idx = pd.date_range("2021-01-01", periods=24 * 400, freq="h")
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"target_time": idx, "step": 1, "error": rng.standard_normal(len(idx)),
                          "naive_error": rng.standard_normal(len(idx))})
    table.loc[idx.hour == 3, "error"] += 10.0  # 03h is bad
    assert A.calendar_groupings(idx) == ["hour", "weekday", "month"]
    hours = A.error_by_calendar(table, idx, "hour")
    assert len(hours) == 24 and hours.loc[hours["mae"].idxmax(), "label"] == "03h"
    days = A.error_by_calendar(table, idx, "weekday")
    assert list(days["label"]) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    months = A.error_by_calendar(table, idx, "month")
    assert list(months["label"])[-1] == "Dec" and months["n"].sum() == len(idx)
    assert A.calendar_groupings(pd.date_range("2020-01-01", periods=30, freq="MS")) == ["month"]
    assert A.calendar_groupings(pd.DatetimeIndex(["2020-01-01", "2020-03-01"])) == []


# ----------------------------------------------------------------------------- probing
def test_probing_finds_a_planted_level_unit() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(400)
    y = 20 + 5 * np.sin(2 * np.pi * t / 60) + rng.standard_normal(400)
    anchors = np.arange(20, 400)
    props = A.probe_properties(y, anchors, window=10, season=7)
    assert {"level", "trend", "volatility", "change_sign", "season_sin", "season_cos"} <= set(props.columns)
    states = rng.standard_normal((len(anchors), 8))
    states[:, 5] = 0.1 * (y[anchors] - 20) + 0.05 * rng.standard_normal(len(anchors))  # unit 5 tracks the level
    corr = A.probe_units(states, props)
    assert corr.shape == (8, props.shape[1])
    top = A.top_units(corr, 2)
    best = top[(top["property"] == "level") & (top["rank"] == 1)].iloc[0]
    assert best["unit"] == 5 and best["corr"] > 0.95
    assert A.linear_probe_r2(states, props["level"].to_numpy()) > 0.9
    # the trend property is the least-squares slope
    w = y[anchors[0] - 9 : anchors[0] + 1]
    assert props["trend"].iloc[0] == pytest.approx(np.polyfit(np.arange(10), w, 1)[0])


# ----------------------------------------------------------------------------- every function on every run
@pytest.mark.parametrize("name", ["lstm", "gru", "rnn"])
def test_analysis_suite_on_runs(runs: dict, name: str) -> None:
    run = runs[name]
    prep = run.prepared()
    H = run.config.hidden_size * (2 if run.config.bidirectional else 1)
    sa = A.state_analysis(run, "test")
    n = len(prep.test)
    assert sa.states.shape == (n, H) and len(sa.frame) == n
    assert {"time", "value", "prediction", "error", "split", "PC1", "PC2", "PC3"} <= set(sa.frame.columns)
    assert set(sa.frame["split"]) == {"test"}
    if not run.config.bidirectional:
        assert np.allclose(sa.states, forecast.hidden_states(run.model, prep.test.X)[:, -1], atol=1e-6)
    top = A.state_analysis(run, "test", layer=-1)  # the cell loop's top layer = the model's own states
    assert np.allclose(top.states, sa.states, atol=1e-5)
    first = A.state_analysis(run, "test", layer=0)
    assert first.states.shape == sa.states.shape
    whole = A.state_analysis(run, "all", basis=sa.pca)
    assert {"train", "val", "test", "future"} <= set(whole.frame["split"])
    assert np.isnan(whole.frame["actual"].iloc[-1])
    heat = A.unit_heatmap_frame(sa.states, sa.frame["time"], sa.frame["actual"].to_numpy(), by="correlation",
                                max_units=4, max_times=50)
    assert heat["unit"].nunique() == min(4, H) and heat["time"].nunique() <= 50
    probing = A.probe_run(run)
    assert probing.corr.shape[0] == H and len(probing.best) == probing.properties.shape[1]
    trace = A.trace_cells(run.model, prep.test.X)
    assert len(trace.layers) == run.config.num_layers
    sat = A.saturation_stats(trace)
    assert (len(sat) > 0) == (run.config.cell != "rnn")
    table = A.forecast_table(run)
    assert len(table) == n * run.config.horizon
    assert np.allclose(A.error_by_step(table)["rmse"], run.metrics["per_step"]["model"]["rmse"])
    for by in A.calendar_groupings(prep.index):
        g = A.error_by_calendar(table, prep.index, by)
        assert g["n"].sum() == n
    regimes = A.error_by_regime(run)
    assert list(regimes["regime"]) == ["low", "mid", "high"] and regimes["n"].sum() == n * run.config.horizon
    ww = A.worst_windows(run, 3)
    assert list(ww.table["rank"]) == [1, 2, 3] and ww.table["mae"].is_monotonic_decreasing
    assert np.diff(np.sort(ww.table["anchor"].to_numpy())).min() >= run.config.horizon  # distinct events
    every = A.worst_windows(run, 3, distinct=False)
    assert every.table["mae"].iloc[0] == ww.table["mae"].iloc[0] and every.table["mae"].iloc[2] >= ww.table["mae"].iloc[2]
    assert set(ww.series["kind"]) == {"input", "actual", "forecast"}
    first = ww.series[(ww.series["rank"] == 1) & (ww.series["kind"] == "input")]
    a = int(ww.table["anchor"].iloc[0])
    assert np.allclose(first["value"], prep.y[a - prep.preprocessor.seq_len + 1 : a + 1])
    sal = A.saliency_frame(run, step=1)
    assert len(sal) == prep.preprocessor.seq_len * prep.preprocessor.n_features
    assert sal["share"].sum() == pytest.approx(1.0)
    assert len(A.saliency_frame(run, window=0)) == len(sal)


def test_trajectory_recorder_and_replay(runs: dict) -> None:
    run = runs["lstm"]
    rec = A.TrajectoryRecorder(run.prepared(), epochs=(0, 1, 2))
    replay = pipeline.train(run.prepared(), callbacks=[rec], build=rec.build)
    assert sorted(rec.snapshots) == [A.FINAL_EPOCH, 0, 1, 2]
    frame = rec.frame()
    assert set(frame["epoch"]) == {A.FINAL_EPOCH, 0, 1, 2} and len(frame) == 4 * len(run.prepared().test)
    final = A.anchor_states(replay.model, rec.X)
    assert np.allclose(rec.snapshots[A.FINAL_EPOCH], final)
    # the basis is the final states' PCA: their projection has the final PCA's variance
    basis = rec.basis()
    assert np.allclose(frame[frame["epoch"] == A.FINAL_EPOCH][["PC1", "PC2", "PC3"]].var(ddof=1).to_numpy()[: basis.n_components],
                       basis.explained_variance)
    evo = A.record_evolution(run, epochs=(0, 1))
    assert evo.epochs == [0, 1, A.FINAL_EPOCH] and evo.replay_gap < 1e-4 and evo.source == "replayed"
    evo_frame = evo.frame(run.prepared())
    assert list(evo_frame.columns) == list(frame.columns) and len(evo_frame) == 3 * len(run.prepared().test)
    np.testing.assert_allclose(evo.explained_variance_ratio, basis.explained_variance_ratio, atol=1e-4)
    assert A.default_epochs(60)[:4] == (0, 1, 2, 3) and A.default_epochs(60)[-1] == 60
    # snapshots of wide models are thinned to a memory budget: 3 snapshots x 8 units x 10 windows
    small = A.TrajectoryRecorder(run.prepared(), epochs=(0, 1), max_values=3 * 8 * 10)
    assert 5 <= len(small.rows) <= 10 and len(A.TrajectoryRecorder(run.prepared(), max_windows=7).rows) <= 7


def test_evolution_checks_its_arrays(runs: dict) -> None:
    states, idx = np.zeros((3, 4, 8), dtype=np.float32), np.arange(4)
    evo = A.Evolution(epochs=[0, 2, A.FINAL_EPOCH], states=states, windows=idx, anchors=idx + 10)
    assert evo.snapshot(2).shape == (4, 8) and evo.source == "recorded"
    ok = {"epochs": [0, 2, A.FINAL_EPOCH], "states": states, "windows": idx, "anchors": idx}
    bad = [{**ok, "epochs": [0, 2]},  # epochs vs states
           {**ok, "epochs": [0, 2, 1]},  # no final snapshot last
           {**ok, "epochs": [2, 0, A.FINAL_EPOCH]},  # out of order
           {**ok, "windows": idx[:3]},
           {**ok, "source": "guessed"}]
    for kw in bad:
        with pytest.raises(ConfigError):
            A.Evolution(**kw)
    far = A.Evolution(epochs=[0, 2, A.FINAL_EPOCH], states=states, windows=idx, anchors=idx + 10**6)
    with pytest.raises(ConfigError, match="outside the .* rows of the data"):
        far.frame(runs["lstm"].prepared())


def test_spans_and_errors(runs: dict) -> None:
    with pytest.raises(ConfigError):
        A.state_analysis(runs["lstm"], "nope")
    with pytest.raises(ConfigError):
        A.unit_order(pd.DataFrame({"unit": [0], "variance": [1.0], "abs_corr": [0.5]}), "size")
    with pytest.raises(ConfigError):
        A.saliency(runs["lstm"].model, runs["lstm"].prepared().test.X[:2], steps=[5])
