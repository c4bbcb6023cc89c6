"""Series without a time column are numbered steps, and the charts say so.

The core keeps such a series on a placeholder clock (step k sits k seconds after
``rnnlab.data.dataset.STEP_CLOCK_START``, 1970-01-01) so every time-based path (windows, spans,
exports) works unchanged. A chart must never show that clock as dates: :func:`stepify` (for an
Altair chart) and :func:`stepify_spec` (for a Vega-Lite dict with its datasets) turn every column
on the clock into step numbers and every temporal encoding of it into a quantitative one titled
"step". Charts of real dates pass through untouched (one dtype check per column).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from rnnlab.data.dataset import clock_steps

STEP_TITLE = "step"


def _convert_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """``frame`` with its clock columns as step numbers (a copy when any), and their names. A
    ``time_ms`` colour field (milliseconds of ``time``) follows ``time``."""
    steps = {}
    for name in frame.columns:
        converted = clock_steps(frame[name])
        if converted is not None:
            steps[str(name)] = converted
    if not steps:
        return frame, set()
    out = frame.copy()
    for name, values in steps.items():
        out[name] = values
    if "time" in steps and "time_ms" in out.columns:
        out["time_ms"] = steps["time"]
        steps["time_ms"] = steps["time"]
    return out, set(steps)


def _fix_encodings(node: Any, fields: set[str]) -> None:
    """Every temporal encoding of a step field becomes quantitative: no time unit, time format or
    time label expression; titled "step" unless it has a title of its own (other than "time")."""
    if isinstance(node, list):
        for item in node:
            _fix_encodings(item, fields)
        return
    if not isinstance(node, dict):
        return
    if node.get("field") in fields and node.get("type") in ("temporal", "quantitative"):
        was_temporal = node.get("type") == "temporal" or node.get("field") == "time_ms"
        if was_temporal:
            node["type"] = "quantitative"
            node.pop("timeUnit", None)
            if "format" in node:
                node["format"] = ",d"
            if node.get("title") in (None, "time", "anchor"):
                node["title"] = STEP_TITLE if node.get("title") != "anchor" else "anchor step"
            for key in ("axis", "legend"):
                guide = node.get(key)
                if isinstance(guide, dict):
                    guide.pop("labelExpr", None)
                    guide["format"] = ",d"
    for value in node.values():
        _fix_encodings(value, fields)


def stepify_spec(spec: dict) -> dict:
    """A Vega-Lite dict whose ``datasets`` are DataFrames (or row lists) with clock columns as step
    numbers and its encodings of them quantitative. Changes ``spec`` in place and returns it."""
    fields: set[str] = set()
    for name, data in list(spec.get("datasets", {}).items()):
        if isinstance(data, pd.DataFrame):
            spec["datasets"][name], found = _convert_frame(data)
            fields |= found
    if fields:
        _fix_encodings({k: v for k, v in spec.items() if k != "datasets"}, fields)
    return spec


def _charts(chart: Any) -> list[Any]:
    """The chart and every sub-chart (layers, concatenations), outermost first."""
    out = [chart]
    for attr in ("layer", "concat", "hconcat", "vconcat"):
        subs = getattr(chart, attr, None)
        if isinstance(subs, list):
            for sub in subs:
                if not isinstance(sub, dict):
                    out.extend(_charts(sub))
    return out


def stepify(chart: Any) -> Any:
    """An Altair chart with clock columns shown as step numbers (the very chart when it has none;
    otherwise a copy, still an Altair chart that can be layered further)."""
    if not isinstance(chart, alt.TopLevelMixin):
        return chart
    fields: set[str] = set()
    for sub in _charts(chart):
        if isinstance(getattr(sub, "data", None), pd.DataFrame):
            fields |= _convert_frame(sub.data)[1]
    if not fields:
        return chart
    chart = chart.copy(deep=True)  # the caller's chart (maybe cached) stays as it was
    for sub in _charts(chart):
        if isinstance(getattr(sub, "data", None), pd.DataFrame):
            sub.data = _convert_frame(sub.data)[0]
        encoding = getattr(sub, "encoding", alt.Undefined)
        if encoding is not alt.Undefined:
            spec = encoding.to_dict(validate=False)
            _fix_encodings(spec, fields)
            sub.encoding = alt.FacetedEncoding.from_dict(spec, validate=False)
    return chart
