"""Inside the network: hidden states, gates, probing, errors, saliency, what-if.

Everything here is numpy / torch, works for rnn, lstm and gru cells, uni- and
multivariate runs and all target transforms, and predicts in batched chunks.

States and training dynamics (:mod:`.states`)
    ``state_analysis(run, span)`` -> anchor states + PCA frame (time, value, prediction, error, split, PC1..PC3)
    ``pca(X, k)``, ``unit_table`` / ``unit_order`` / ``unit_heatmap_frame``
    ``probe_properties`` / ``probe_units`` / ``top_units`` / ``probe_run(run)``
    ``TrajectoryRecorder`` (Trainer callback) -> ``Evolution`` (``run.evolution`` with
    ``pipeline.train(..., record_evolution=True)``); ``record_evolution(run)`` replays training
Gates (:mod:`.cells`)
    ``trace_cells(model, X)`` explicit cell loop -> every layer's h, LSTM c, gates
    ``layer_states``, ``saturation_stats``, ``gate_histogram``, ``gate_window_frame``
Errors (:mod:`.residuals`), convention ``error = forecast - actual``
    ``forecast_table``, ``errors_over_time``, ``error_histogram``, ``acf``, ``error_by_step``,
    ``calendar_groupings`` / ``error_by_calendar``, ``error_by_regime``, ``worst_windows``, ``window_detail``
Sensitivity (:mod:`.sensitivity`)
    ``saliency`` / ``saliency_frame``, ``edit_window`` / ``what_if``, ``recursive_forecast`` / ``recursive_vs_direct``
"""

from __future__ import annotations

from rnnlab.pca import PCAResult, pca
from rnnlab.tasks.forecast import anchor_states
from rnnlab.tasks.forecast.evolution import (
    FINAL_EPOCH,
    PC_COLUMNS,
    Evolution,
    TrajectoryRecorder,
    default_epochs,
)

from .architecture import (
    attention_frame,
    attention_vs_saliency,
    attention_weights,
    conv_activations,
    conv_filters,
    highway_forecasts,
    highway_parts,
    highway_share,
)
from .cells import (
    GATE_NAMES,
    SIGMOID_GATES,
    CellTrace,
    LayerTrace,
    gate_histogram,
    gate_window_frame,
    layer_states,
    saturation_stats,
    trace_cells,
)
from .residuals import (
    REGIMES,
    WorstWindows,
    acf,
    calendar_groupings,
    error_by_calendar,
    error_by_regime,
    error_by_step,
    error_histogram,
    errors_over_time,
    forecast_table,
    normal_curve,
    window_detail,
    worst_windows,
)
from .sensitivity import (
    RecursiveComparison,
    WhatIf,
    edit_window,
    recursive_forecast,
    recursive_vs_direct,
    saliency,
    saliency_frame,
    transform_target_rows,
    what_if,
)
from .states import (
    PROPERTIES,
    Probing,
    StateAnalysis,
    layer_anchor_states,
    linear_probe_r2,
    probe_properties,
    probe_run,
    probe_units,
    record_evolution,
    state_analysis,
    top_units,
    unit_heatmap_frame,
    unit_order,
    unit_table,
)

__all__ = [
    "attention_frame",
    "attention_vs_saliency",
    "attention_weights",
    "conv_activations",
    "conv_filters",
    "highway_forecasts",
    "highway_parts",
    "highway_share",
    "FINAL_EPOCH",
    "GATE_NAMES",
    "PC_COLUMNS",
    "PROPERTIES",
    "REGIMES",
    "SIGMOID_GATES",
    "CellTrace",
    "Evolution",
    "LayerTrace",
    "PCAResult",
    "Probing",
    "RecursiveComparison",
    "StateAnalysis",
    "TrajectoryRecorder",
    "WhatIf",
    "WorstWindows",
    "acf",
    "anchor_states",
    "calendar_groupings",
    "default_epochs",
    "edit_window",
    "error_by_calendar",
    "error_by_regime",
    "error_by_step",
    "error_histogram",
    "errors_over_time",
    "forecast_table",
    "gate_histogram",
    "gate_window_frame",
    "layer_anchor_states",
    "layer_states",
    "linear_probe_r2",
    "normal_curve",
    "pca",
    "probe_properties",
    "probe_run",
    "probe_units",
    "record_evolution",
    "recursive_forecast",
    "recursive_vs_direct",
    "saliency",
    "saliency_frame",
    "saturation_stats",
    "state_analysis",
    "top_units",
    "trace_cells",
    "transform_target_rows",
    "unit_heatmap_frame",
    "unit_order",
    "unit_table",
    "what_if",
    "window_detail",
    "worst_windows",
]
