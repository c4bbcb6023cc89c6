"""Memory before work: estimate what training (or a window array) needs and refuse what cannot fit.

The settings' bounds allow models far larger than a machine holds (hidden 4,096 x 16 layers is
2.1 billion parameters, about 34 GB with Adam); without a check such a run ends in an allocation
traceback or swaps the machine. :func:`check_training_memory` estimates the parameters from the
settings alone (no model is built) and :func:`check_bytes` compares an estimate with the memory
available now (``MemAvailable``, and a cgroup limit where one applies). ``RNNLAB_MEMORY_LIMIT``
(bytes, or with a K/M/G suffix) overrides the available memory (tests, shared servers).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rnnlab.errors import ConfigError

MEMORY_SHARE = 0.8  # refuse an estimate above this share of the available memory
_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_bytes() -> int | None:
    """Bytes this process may still allocate: ``RNNLAB_MEMORY_LIMIT`` when set, else the smaller of
    the kernel's MemAvailable and the cgroup's headroom; None when unknown (no check then)."""
    env = os.environ.get("RNNLAB_MEMORY_LIMIT", "").strip().upper().removesuffix("B").removesuffix("I")
    if env:
        unit = env[-1] if env[-1] in _UNITS else ""
        try:
            return int(float(env[: len(env) - len(unit)]) * _UNITS[unit])
        except ValueError:
            pass
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    limit, used = _read_int("/sys/fs/cgroup/memory.max"), _read_int("/sys/fs/cgroup/memory.current")
    if limit is not None and used is not None:
        found.append(max(0, limit - used))
    return min(found) if found else None


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def check_bytes(needed: float, what: str, advice: str) -> None:
    """ConfigError when ``needed`` bytes exceed MEMORY_SHARE of the available memory."""
    avail = available_bytes()
    if avail is None or needed <= MEMORY_SHARE * avail:
        return
    raise ConfigError(f"{what} needs about {gib(needed)} of memory, but only {gib(avail)} is available "
                      f"(rnnlab uses at most {MEMORY_SHARE:.0%} of it); {advice}")


def parameter_count(cell: str, input_size: int, hidden: int, layers: int, bidirectional: bool, output: int) -> int:
    """Parameters of the recurrent layers plus a linear head, from the sizes alone."""
    gates, dirs = _GATES.get(cell, 4), 2 if bidirectional else 1
    total, width = 0, input_size
    for _ in range(layers):
        total += dirs * gates * hidden * (width + hidden + 2)
        width = hidden * dirs
    return total + width * output + output


def training_bytes(n_params: int, batch: int, seq_len: int, hidden: int, layers: int, cell: str,
                   bidirectional: bool) -> float:
    """Weights, gradients and Adam's two moments (4 x 4 bytes per parameter) plus the activations that
    backpropagation through time keeps for one batch (gates and states of every step and layer)."""
    dirs = 2 if bidirectional else 1
    activations = 4.0 * batch * seq_len * layers * dirs * hidden * (_GATES.get(cell, 4) + 3)
    return 16.0 * n_params + 2 * activations


def conv_bytes(batch: int, seq_len: int, channels: int, kernel: int, dilation: int, layers: int) -> float:
    """Activations of the causal convolution front end for one batch: layer i pads its input on the left
    by (kernel - 1) * dilation**i steps, so a large dilation growth makes every layer long."""
    steps = sum(seq_len + (kernel - 1) * dilation**i for i in range(layers))
    return 2 * 4.0 * batch * channels * steps


def check_training_memory(config: Any, input_size: int, output_size: int) -> None:
    """Refuse (ConfigError, with the estimate and the available memory) a model that cannot train here."""
    c = config
    conv_layers = int(getattr(c, "conv_layers", 0) or 0)
    width = int(c.conv_channels) if conv_layers else input_size
    n = parameter_count(c.cell, width, c.hidden_size, c.num_layers, c.bidirectional, output_size)
    need = training_bytes(n, c.batch_size, int(c.seq_len or 1), c.hidden_size, c.num_layers, c.cell,
                          c.bidirectional)
    if conv_layers:
        need += conv_bytes(c.batch_size, int(c.seq_len or 1), int(c.conv_channels), int(c.conv_kernel),
                           int(c.conv_dilation), conv_layers)
    count = f"{n / 1e6:,.1f} million" if n >= 1e6 else f"{n:,}"
    check_bytes(need, f"training {c.cell} hidden {c.hidden_size} x {c.num_layers} layers ({count} parameters, "
                      f"batch {c.batch_size}, seq_len {c.seq_len})",
                "lower hidden_size, num_layers, batch_size or seq_len" + (
                    " (or conv_dilation / conv_layers: layer i pads by (conv_kernel - 1) x conv_dilation**i steps)"
                    if conv_layers else ""))
