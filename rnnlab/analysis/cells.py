"""Gates and cell states, recomputed from the trained weights with an explicit cell loop.

``nn.LSTM`` / ``nn.GRU`` return only hidden (and final cell) states, so the gate
activations are recomputed here from the layer weights, step by step, batched over windows,
for every layer and direction. PyTorch's equations (gate order as in its weight layout):

* RNN:  ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``
* LSTM: ``i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)``; ``i, f, o = sigmoid``, ``g = tanh``;
  ``c' = f * c + i * g``; ``h' = o * tanh(c')``
* GRU:  ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``, ``z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)``,
  ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``

A stacked layer reads the previous layer's output (both directions concatenated); dropout
between layers is inactive at inference. The test suite checks that this loop reproduces
``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` to 1e-5 (1 and 2 layers, uni- and bidirectional).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from rnnlab.errors import ConfigError
from rnnlab.models import RNNForecaster

from ._common import DEFAULT_CHUNK

GATE_NAMES: dict[str, tuple[str, ...]] = {
    "lstm": ("input", "forget", "cell", "output"),  # "cell" = the tanh cell candidate g
    "gru": ("reset", "update", "new"),
    "rnn": (),
}
SIGMOID_GATES = frozenset({"input", "forget", "output", "reset", "update"})  # values in (0, 1); others in (-1, 1)


@dataclass
class LayerTrace:
    """One recurrent layer over a batch of windows; directions concatenated on the last axis
    (forward units first), exactly like the layer output of ``nn.LSTM`` etc."""

    h: np.ndarray  # (n, T, H*D) hidden state after each step
    c: np.ndarray | None = None  # (n, T, H*D) LSTM cell state after each step (None for rnn/gru)
    gates: dict[str, np.ndarray] = field(default_factory=dict)  # gate name -> (n, T, H*D)


@dataclass
class CellTrace:
    """Every layer's hidden states (and gates / cell states) for a batch of windows."""

    cell: str  # rnn | lstm | gru
    hidden_size: int
    num_directions: int
    layers: list[LayerTrace]

    @property
    def gate_names(self) -> tuple[str, ...]:
        return GATE_NAMES[self.cell]

    def final_hidden(self) -> np.ndarray:
        """Last state of every layer and direction like ``h_n``: ``(layers * D, n, H)``."""
        return self._final([lt.h for lt in self.layers])

    def final_cell(self) -> np.ndarray:
        """Like ``c_n`` of ``nn.LSTM``: ``(layers * D, n, H)``."""
        if self.cell != "lstm":
            raise ConfigError(f"a {self.cell} cell has no cell state")
        return self._final([lt.c for lt in self.layers])  # type: ignore[misc]

    def _final(self, arrays: list[np.ndarray]) -> np.ndarray:
        H = self.hidden_size
        out = []
        for a in arrays:
            out.append(a[:, -1, :H])  # forward direction: last step
            if self.num_directions == 2:
                out.append(a[:, 0, H:])  # backward direction: it ends at step 0
        return np.stack(out)


def _rnn_module(model: RNNForecaster | nn.RNNBase) -> nn.RNNBase:
    rnn = model if isinstance(model, nn.RNNBase) else model.rnn
    if not isinstance(rnn, (nn.RNN, nn.LSTM, nn.GRU)):
        raise ConfigError(f"expected an nn.RNN, nn.LSTM or nn.GRU, got {type(rnn).__name__}")
    if getattr(rnn, "proj_size", 0):
        raise ConfigError("LSTMs with proj_size > 0 are not supported by the gate loop")
    return rnn


def _cell_kind(rnn: nn.RNNBase) -> str:
    if isinstance(rnn, nn.LSTM):
        return "lstm"
    if isinstance(rnn, nn.GRU):
        return "gru"
    return "rnn"


def _params(rnn: nn.RNNBase, layer: int, reverse: bool) -> tuple[torch.Tensor, ...]:
    sfx = f"_l{layer}" + ("_reverse" if reverse else "")
    w_ih = getattr(rnn, "weight_ih" + sfx)  # (G*H, I)
    w_hh = getattr(rnn, "weight_hh" + sfx)  # (G*H, H)
    if rnn.bias:
        b_ih, b_hh = getattr(rnn, "bias_ih" + sfx), getattr(rnn, "bias_hh" + sfx)
    else:
        b_ih = b_hh = torch.zeros(w_ih.shape[0], dtype=w_ih.dtype)
    return w_ih, w_hh, b_ih, b_hh


def _run_direction(kind: str, x: torch.Tensor, params: tuple[torch.Tensor, ...], reverse: bool,
                   nonlinearity: str, keep_gates: bool) -> tuple[torch.Tensor, torch.Tensor | None, dict[str, torch.Tensor]]:
    """One direction of one layer: ``x (B, T, I)`` -> ``h (B, T, H)``, ``c``, gates ``(B, T, H)``."""
    w_ih, w_hh, b_ih, b_hh = params
    B, T, _ = x.shape
    H = w_hh.shape[1]
    xw = x @ w_ih.T + b_ih  # (B, T, G*H): input projections for all steps at once
    h = x.new_zeros(B, H)
    c = x.new_zeros(B, H)
    hs = x.new_empty(B, T, H)
    cs = x.new_empty(B, T, H) if kind == "lstm" else None
    names = GATE_NAMES[kind] if keep_gates else ()
    gates = {g: x.new_empty(B, T, H) for g in names}
    act = torch.tanh if nonlinearity == "tanh" else torch.relu
    steps = range(T - 1, -1, -1) if reverse else range(T)
    for t in steps:
        hw = h @ w_hh.T + b_hh  # (B, G*H)
        if kind == "lstm":
            i, f, g, o = (xw[:, t] + hw).chunk(4, dim=1)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            cs[:, t] = c  # type: ignore[index]
            if keep_gates:
                gates["input"][:, t], gates["forget"][:, t], gates["cell"][:, t], gates["output"][:, t] = i, f, g, o
        elif kind == "gru":
            xr, xz, xn = xw[:, t].chunk(3, dim=1)
            hr, hz, hn = hw.chunk(3, dim=1)
            r = torch.sigmoid(xr + hr)
            z = torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            h = (1 - z) * n + z * h
            if keep_gates:
                gates["reset"][:, t], gates["update"][:, t], gates["new"][:, t] = r, z, n
        else:
            h = act(xw[:, t] + hw)
        hs[:, t] = h
    return hs, cs, gates


@torch.no_grad()
def _trace_batch(rnn: nn.RNNBase, x: torch.Tensor, keep_gates: bool) -> list[dict[str, torch.Tensor]]:
    kind = _cell_kind(rnn)
    D = 2 if rnn.bidirectional else 1
    nonlin = getattr(rnn, "nonlinearity", "tanh")
    dtype = rnn.weight_ih_l0.dtype
    inp = x.to(dtype)  # (B, T, F): the loop is batch-first whatever the module's batch_first
    out: list[dict[str, torch.Tensor]] = []
    for layer in range(rnn.num_layers):
        parts = [_run_direction(kind, inp, _params(rnn, layer, d == 1), d == 1, nonlin, keep_gates) for d in range(D)]
        rec: dict[str, torch.Tensor] = {"h": torch.cat([p[0] for p in parts], dim=-1)}
        if kind == "lstm":
            rec["c"] = torch.cat([p[1] for p in parts], dim=-1)  # type: ignore[misc]
        for g in parts[0][2]:
            rec["gate:" + g] = torch.cat([p[2][g] for p in parts], dim=-1)
        out.append(rec)
        inp = rec["h"]  # (B, T, H*D) feeds the next layer
    return out


def trace_cells(model: RNNForecaster | nn.RNNBase, X: np.ndarray | torch.Tensor, *, gates: bool = True,
                chunk: int = DEFAULT_CHUNK) -> CellTrace:
    """Run the explicit cell loop over windows ``X (n, T, F)`` (always batch-first), in chunks.

    Returns every layer's hidden states and, with ``gates=True``, the gate activations (and
    LSTM cell states). Works for ``nn.RNN`` (tanh/relu), ``nn.LSTM`` and ``nn.GRU``, any
    number of layers, uni- or bidirectional.
    """
    rnn = _rnn_module(model)
    kind = _cell_kind(rnn)
    Xt = torch.as_tensor(X)  # (n, T, F) batch-first, also for modules built with batch_first=False
    if not isinstance(model, nn.RNNBase):  # a whole model: the recurrent layers read its front end's output
        with torch.no_grad():
            Xt = model.rnn_inputs(Xt)
    chunks: list[list[dict[str, np.ndarray]]] = []
    for i in range(0, len(Xt), chunk):
        xb = Xt[i : i + chunk]
        res = _trace_batch(rnn, xb, gates)
        chunks.append([{k: v.numpy() for k, v in rec.items()} for rec in res])
    D = 2 if rnn.bidirectional else 1
    H = rnn.hidden_size
    layers: list[LayerTrace] = []
    for layer in range(rnn.num_layers):
        def cat(key: str, layer: int = layer) -> np.ndarray:
            if not chunks:
                return np.empty((0, Xt.shape[1], H * D), dtype=np.float32)
            return np.concatenate([c[layer][key] for c in chunks])

        names = GATE_NAMES[kind] if gates else ()
        layers.append(LayerTrace(h=cat("h"), c=cat("c") if kind == "lstm" else None,
                                 gates={g: cat("gate:" + g) for g in names}))
    return CellTrace(cell=kind, hidden_size=H, num_directions=D, layers=layers)


def layer_states(model: RNNForecaster | nn.RNNBase, X: np.ndarray | torch.Tensor, chunk: int = DEFAULT_CHUNK) -> list[np.ndarray]:
    """Hidden states of every layer at every step: list over layers of ``(n, T, H*D)``."""
    return [lt.h for lt in trace_cells(model, X, gates=False, chunk=chunk).layers]


def saturation_stats(trace: CellTrace, low: float = 0.05, high: float = 0.95) -> pd.DataFrame:
    """Share of saturated gate values per layer and gate (all windows, steps and units).

    Sigmoid gates (input, forget, output, reset, update) live in (0, 1): *low* is ``< low``,
    *high* is ``> high``. Tanh-valued ones (LSTM cell candidate, GRU new gate; LSTM cell
    state through ``tanh``) live in (-1, 1): *low* is ``< -high``, *high* is ``> high``.
    Columns: layer (1-based), gate, range, frac_low, frac_high, frac_saturated, mean, std.
    """
    rows = []
    for li, lt in enumerate(trace.layers, start=1):
        items = list(lt.gates.items())
        if lt.c is not None:
            items.append(("tanh(cell state)", np.tanh(lt.c)))
        for name, values in items:
            v = values.ravel()
            if v.size == 0:
                continue
            if name in SIGMOID_GATES:
                lo, hi, rng = float(np.mean(v < low)), float(np.mean(v > high)), "(0, 1)"
            else:
                lo, hi, rng = float(np.mean(v < -high)), float(np.mean(v > high)), "(-1, 1)"
            rows.append({"layer": li, "gate": name, "range": rng, "frac_low": lo, "frac_high": hi,
                         "frac_saturated": lo + hi, "mean": float(v.mean()), "std": float(v.std())})
    return pd.DataFrame(rows, columns=["layer", "gate", "range", "frac_low", "frac_high", "frac_saturated", "mean", "std"])


def gate_histogram(trace: CellTrace, layer: int = -1, bins: int = 40) -> pd.DataFrame:
    """Distribution of each gate of one layer (all windows, steps, units): long frame
    gate, bin_start, bin_end, share (fraction of values in the bin)."""
    lt = trace.layers[layer]
    items = list(lt.gates.items())
    if lt.c is not None:
        items.append(("tanh(cell state)", np.tanh(lt.c)))
    frames = []
    for name, values in items:
        lo = 0.0 if name in SIGMOID_GATES else -1.0
        edges = np.linspace(lo, 1.0, bins + 1)
        counts, _ = np.histogram(np.clip(values.ravel(), lo, 1.0), bins=edges)
        frames.append(pd.DataFrame({"gate": name, "bin_start": edges[:-1], "bin_end": edges[1:],
                                    "share": counts / max(1, values.size)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["gate", "bin_start", "bin_end", "share"])


def gate_window_frame(trace: CellTrace, window: int, layer: int = -1, max_units: int | None = None) -> pd.DataFrame:
    """Gate values and states inside one window (step x unit) for heatmaps: long frame
    quantity, step (1 = oldest input), lag (0 = anchor), unit, value. Quantities: each gate,
    ``cell state`` (LSTM) and ``hidden``."""
    lt = trace.layers[layer]
    items: list[tuple[str, np.ndarray]] = [(g, v[window]) for g, v in lt.gates.items()]
    if lt.c is not None:
        items.append(("cell state", lt.c[window]))
    items.append(("hidden", lt.h[window]))
    frames = []
    for name, m in items:  # m: (T, H*D)
        T, U = m.shape
        units = U if max_units is None else min(U, max_units)
        steps = np.repeat(np.arange(1, T + 1), units)
        frames.append(pd.DataFrame({"quantity": name, "step": steps, "lag": T - steps,
                                    "unit": np.tile(np.arange(units), T), "value": m[:, :units].ravel()}))
    return pd.concat(frames, ignore_index=True)
