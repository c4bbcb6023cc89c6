"""Inside the parts beyond the plain RNN: attention weights (and whether they agree with gradient
saliency), the convolutional front end's filters and activations, and the autoregressive
highway's share of each forecast."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from rnnlab.errors import ConfigError
from rnnlab.tasks.forecast import ForecastRun

from ._common import run_parts
from .sensitivity import saliency


def _windows(run: ForecastRun, span: str):
    prep, model = run_parts(run)
    return prep, model, prep.windows_of(span)


@torch.no_grad()
def attention_weights(run: ForecastRun, span: str = "test", windows: Sequence[int] | None = None) -> np.ndarray:
    """Attention weights ``(n, horizon, seq_len)`` of the span's windows (all, or ``windows``)."""
    prep, model, w = _windows(run, span)
    if model.attention is None:
        raise ConfigError("this run has no attention (attention='none')")
    rows = np.arange(len(w)) if windows is None else np.asarray(windows, dtype=np.int64)
    X = torch.from_numpy(w.X[rows])
    out = [model(X[i : i + 512]).attention for i in range(0, len(X), 512)]
    return torch.cat(out).numpy() if out else np.empty((0, model.shape.output_size, w.X.shape[1]))


def attention_frame(run: ForecastRun, span: str = "test", step: int = 1, max_windows: int = 300) -> pd.DataFrame:
    """Long frame for a heatmap of horizon step ``step``'s weights: window, time (anchor), lag
    (input steps before the anchor; 0 = the last), weight. Windows evenly thinned."""
    prep, model, w = _windows(run, span)
    rows = np.arange(0, len(w), max(1, int(np.ceil(len(w) / max_windows))))
    weights = attention_weights(run, span, rows)[:, step - 1, :]  # (m, T)
    L = weights.shape[1]
    lags = np.arange(L - 1, -1, -1)
    return pd.DataFrame({"window": np.repeat(rows, L), "time": np.repeat(prep.index[w.anchors[rows]], L),
                         "lag": np.tile(lags, len(rows)), "weight": weights.ravel()})


def attention_vs_saliency(run: ForecastRun, window: int, step: int = 1, span: str = "test") -> tuple[pd.DataFrame, float]:
    """For one window and forecast step: per input step (lag) the attention weight and the gradient
    saliency (summed over input columns, as a share of the total). Returns the frame and the
    correlation of the two (do they agree on where the model looks?)."""
    prep, model, w = _windows(run, span)
    if not 0 <= window < len(w):
        raise ConfigError(f"window={window} must lie in 0..{len(w) - 1}")
    att = attention_weights(run, span, [window])[0, step - 1]  # (T,)
    sal = saliency(model, w.X[window : window + 1], steps=[step - 1])[0].sum(axis=-1)  # (T,)
    sal = sal / sal.sum() if sal.sum() > 0 else sal
    L = len(att)
    frame = pd.DataFrame({"lag": np.arange(L - 1, -1, -1), "attention": att, "saliency": sal})
    corr = float(np.corrcoef(att, sal)[0, 1]) if np.std(att) > 0 and np.std(sal) > 0 else float("nan")
    return frame, corr


def conv_filters(run: ForecastRun) -> pd.DataFrame:
    """Every convolution weight: layer, channel, input (channel or column), tap (0 = the oldest step
    of the kernel), weight."""
    _, model = run_parts(run)
    if model.conv is None:
        raise ConfigError("this run has no convolutional front end (conv_layers=0)")
    cols = run.preprocessor.columns
    rows = []
    for li, conv in enumerate(model.conv.convs):
        W = conv.weight.detach().numpy()  # (out, in, k)
        for o in range(W.shape[0]):
            for i in range(W.shape[1]):
                name = cols[i] if li == 0 and i < len(cols) else f"ch{i}"
                for t in range(W.shape[2]):
                    rows.append((li, o, name, t, float(W[o, i, t])))
    return pd.DataFrame(rows, columns=["layer", "channel", "input", "tap", "weight"])


@torch.no_grad()
def conv_activations(run: ForecastRun, window: int, span: str = "test") -> pd.DataFrame:
    """Each convolution layer's activations over one window: layer, channel, lag, time, activation."""
    prep, model, w = _windows(run, span)
    if model.conv is None:
        raise ConfigError("this run has no convolutional front end (conv_layers=0)")
    if not 0 <= window < len(w):
        raise ConfigError(f"window={window} must lie in 0..{len(w) - 1}")
    acts = model.conv.activations(torch.from_numpy(w.X[window : window + 1]))
    L = w.X.shape[1]
    a = int(w.anchors[window])
    times = prep.index[a - L + 1 : a + 1]
    frames = []
    for li, act in enumerate(acts):
        v = act[0].numpy()  # (T, C)
        frames.append(pd.DataFrame({"layer": li, "channel": np.tile(np.arange(v.shape[1]), L),
                                    "lag": np.repeat(np.arange(L - 1, -1, -1), v.shape[1]),
                                    "time": np.repeat(times, v.shape[1]), "activation": v.ravel()}))
    return pd.concat(frames, ignore_index=True)


@torch.no_grad()
def highway_parts(run: ForecastRun, span: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """``(network part, highway part)`` of every window's forecast in model space, ``(n, horizon)`` each."""
    prep, model, w = _windows(run, span)
    if model.highway is None:
        raise ConfigError("this run has no autoregressive highway (highway=0)")
    X = torch.from_numpy(w.X)
    parts = [model.parts(X[i : i + 1024])[:2] for i in range(0, len(X), 1024)]
    return (torch.cat([p[0] for p in parts]).numpy(), torch.cat([p[1] for p in parts]).numpy())


def highway_share(run: ForecastRun, span: str = "test") -> pd.DataFrame:
    """Per forecast step: how much of the forecast comes from the highway, as the mean of
    ``|highway| / (|network| + |highway|)`` over the windows (model space), with the mean parts."""
    network, highway = highway_parts(run, span)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.abs(highway) / (np.abs(network) + np.abs(highway))
    return pd.DataFrame({"step": np.arange(1, network.shape[1] + 1), "highway_share": np.nanmean(share, axis=0),
                         "mean_abs_network": np.abs(network).mean(axis=0),
                         "mean_abs_highway": np.abs(highway).mean(axis=0)})


def highway_forecasts(run: ForecastRun, window: int, span: str = "test") -> pd.DataFrame:
    """One window's forecast in original units with and without the highway: step, time, full,
    network_only, highway_only (the highway's forecast alone), actual."""
    prep, model, w = _windows(run, span)
    if not 0 <= window < len(w):
        raise ConfigError(f"window={window} must lie in 0..{len(w) - 1}")
    network, highway = highway_parts(run, span)
    pre, base = prep.preprocessor, w.base[window : window + 1]
    h = network.shape[1]
    rows = w.anchors[window] + np.arange(1, h + 1)
    from ._common import times_of

    return pd.DataFrame({"step": np.arange(1, h + 1), "time": times_of(prep, rows),
                         "full": pre.inverse_targets(network[window : window + 1] + highway[window : window + 1], base)[0],
                         "network_only": pre.inverse_targets(network[window : window + 1], base)[0],
                         "highway_only": pre.inverse_targets(highway[window : window + 1], base)[0],
                         "actual": w.y_true[window]})
