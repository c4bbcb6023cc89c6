"""A series without a time column is shown by its step numbers, never as 1970 dates: the clock
rule, the charts (Altair charts and the live Vega-Lite dicts), the page texts, a saved run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from rnnlab.data.dataset import STEP_CLOCK_START, clock_steps
from tests.app.apptools import DASHBOARD, RUN_TIMEOUT, no_exception, texts
from ui import charts, charts_internals
from ui.charts_steps import stepify
from ui.common import fmt_time

STEPS = pd.date_range(STEP_CLOCK_START, periods=300, freq="s")


def _series(index: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame({"time": index, "value": np.sin(np.arange(len(index)) / 9)})


def test_the_placeholder_clock_is_told_from_real_times() -> None:
    assert np.array_equal(clock_steps(pd.Series(STEPS[5:8])), [5, 6, 7])
    assert clock_steps(pd.date_range("2021-01-01", periods=3, freq="s")) is None  # real seconds
    assert clock_steps(pd.date_range("1970-01-01", periods=3, freq="D")) is None  # real days in 1970
    assert clock_steps(pd.date_range("1970-01-01", periods=3, freq="MS")) is None
    assert clock_steps(pd.Series([1.0, 2.0])) is None  # not times
    assert clock_steps(pd.date_range("1970-01-01", periods=3, freq="s", tz="UTC")) is None
    assert fmt_time(STEPS[1234 % 300]) == "step 34" and fmt_time(STEPS[0], steps=True) == "step 0"
    assert fmt_time(pd.Timestamp("2021-03-04")) == "2021-03-04"
    assert fmt_time(pd.Timestamp("2021-03-04 05:06")) == "2021-03-04 05:06"


def test_charts_of_steps_have_a_step_axis_and_no_dates() -> None:
    spans = pd.DataFrame({"span": ["train", "test"], "start": [STEPS[0], STEPS[200]],
                          "end": [STEPS[199], STEPS[-1]], "rows": [200, 100]})
    spec = charts.vega_lite_dict(charts.series_with_spans(_series(STEPS), spans))
    dumped = json.dumps(spec)
    assert "1970-01-01" not in dumped
    xs = [layer["encoding"]["x"] for layer in spec["layer"]]
    assert all(x["type"] == "quantitative" for x in xs) and xs[-1]["title"] == "step"
    values = next(v for v in spec["datasets"].values() if "value" in v[0])
    assert [r["time"] for r in values[:3]] == [0, 1, 2]
    # the live preview (a Vega-Lite dict whose datasets are frames) and a layered internals chart
    live = charts.live_preview(pd.DataFrame({"time": STEPS[:50], "actual": np.ones(50), "forecast": np.ones(50)}),
                               spec=True)
    assert live["layer"][0]["encoding"]["x"]["type"] == "quantitative"
    assert all(not pd.api.types.is_datetime64_dtype(d["time"]) for d in live["datasets"].values() if "time" in d)
    errors = pd.DataFrame({"target_time": STEPS[:40], "error": np.ones(40), "naive_error": np.ones(40)})
    assert "1970-01-01" not in json.dumps(charts.vega_lite_dict(charts_internals.errors_over_time(errors)))


def test_charts_of_real_times_are_left_alone() -> None:
    chart = charts.series_with_spans(_series(pd.date_range("2021-01-01", periods=300, freq="h")))
    assert stepify(chart) is chart
    spec = charts.vega_lite_dict(chart)
    assert spec["layer"][-1]["encoding"]["x"]["type"] == "temporal"


def test_data_page_of_a_csv_without_time_column_speaks_of_steps() -> None:
    at = AppTest.from_file(DASHBOARD, default_timeout=RUN_TIMEOUT).run()
    at.button_group(key="data.source").set_value("Upload CSV").run()
    raw = pd.DataFrame({"load": 50 + 10 * np.sin(np.arange(400) / 9) + np.arange(400) % 7}).to_csv(index=False)
    at.file_uploader(key="data.csv").set_value(("steps.csv", raw.encode(), "text/csv")).run()
    no_exception(at)
    assert not at.error, texts(at.error)
    shown = texts(at.caption) + texts(at.markdown) + texts(at.warning) + texts(at.info)
    assert not [t for t in shown if "1970-01-01" in t], [t for t in shown if "1970-01-01" in t]
    assert any("Steps **0** to **399**" in t for t in shown), shown
    assert next(m for m in at.metric if m.label == "Frequency").value == "steps"
    specs = [e.proto.spec for e in at.get("vega_lite_chart")]
    assert specs and not [s for s in specs if "1970-01-01" in s]
