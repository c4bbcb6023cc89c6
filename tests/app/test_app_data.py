"""Data page: built-in choice, CSV upload (good and bad), Yahoo offline fallback, columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab.errors import DataError
from tests.app.apptools import no_exception, open_app, session_config, session_dataset, texts


def _ds(at):
    return session_dataset(at)


def _good_csv(n: int = 200) -> bytes:
    t = pd.date_range("2021-01-01", periods=n, freq="D")
    y = 20 + 5 * np.sin(np.arange(n) / 7)
    return pd.DataFrame({"date": t.strftime("%Y-%m-%d"), "sales": y, "promo": np.arange(n) % 3}).to_csv(
        index=False).encode()


def test_default_dataset_with_info_chart_windows_and_transform() -> None:
    at = open_app()
    no_exception(at)
    assert _ds(at).name == "seattle-weather"
    md = " ".join(texts(at.markdown) + texts(at.caption))
    assert "Licence" in md and "Source" in md and "Frequency" in md
    assert at.get("vega_lite_chart"), "the target chart is drawn"
    labels = {m.label for m in at.metric}
    assert {"Train windows", "Validation windows", "Test windows"} <= labels
    assert any("Target transform" in t for t in texts(at.info))
    assert len(at.dataframe) == 2  # preview + statistics


def test_choose_builtin_target_and_features() -> None:
    at = open_app()
    at.selectbox(key="data.builtin").set_value("stocks-monthly").run()
    no_exception(at)
    assert _ds(at).name == "stocks-monthly"
    at.selectbox(key="data.target").set_value("aapl").run()
    at.multiselect(key="data.features").set_value(["ibm"]).run()
    no_exception(at)
    cfg = session_config(at)
    assert (cfg.dataset, cfg.target, cfg.features) == ("stocks-monthly", "aapl", ["ibm"])
    # going away and back keeps the choice
    at.switch_page("pages/train.py").run()
    at.switch_page("pages/data.py").run()
    assert at.selectbox(key="data.target").value == "aapl"
    assert at.multiselect(key="data.features").value == ["ibm"]


def test_good_csv_upload_becomes_the_dataset() -> None:
    at = open_app()
    at.button_group(key="data.source").set_value("Upload CSV").run()
    at.file_uploader(key="data.csv").set_value(("shop.csv", _good_csv(), "text/csv")).run()
    no_exception(at)
    assert not at.error, texts(at.error)
    ds = _ds(at)
    assert ds.name == "shop.csv" and set(ds.columns) == {"sales", "promo"}
    assert at.selectbox(key="data.csv_time").options[:2] == ["(auto-detect)", "date"]
    assert ds.target == "sales" and at.selectbox(key="data.target").value == "sales"  # the first column, not the last


def test_decimal_commas_are_an_info_note_not_a_warning() -> None:
    at = open_app()
    at.button_group(key="data.source").set_value("Upload CSV").run()
    t = pd.date_range("2021-01-01", periods=120, freq="D")
    rows = "\n".join(f"{d:%Y-%m-%d};{20 + i % 9},5" for i, d in enumerate(t))
    at.file_uploader(key="data.csv").set_value(("eu.csv", f"date;temp\n{rows}\n".encode(), "text/csv")).run()
    no_exception(at)
    assert _ds(at).frame["temp"].iloc[0] == 20.5
    assert any("decimal separator" in t for t in texts(at.info)), texts(at.info)
    assert not any("decimal separator" in t for t in texts(at.warning)), texts(at.warning)


def test_bad_csv_upload_shows_error_and_keeps_previous_dataset() -> None:
    at = open_app()
    before = _ds(at)
    at.button_group(key="data.source").set_value("Upload CSV").run()
    at.file_uploader(key="data.csv").set_value(("broken.csv", b"just,a\nheader,row\n", "text/csv")).run()
    no_exception(at)
    assert any("broken.csv" in t and "previous dataset" in t for t in texts(at.error)), texts(at.error)
    assert _ds(at).name == before.name
    # binary junk too
    at.file_uploader(key="data.csv").set_value(("junk.csv", bytes(range(256)) * 10, "text/csv")).run()
    no_exception(at)
    assert at.error and _ds(at).name == before.name


def test_yahoo_offline_warns_and_keeps_previous_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    import rnnlab.data

    def offline(*args, **kwargs):
        raise DataError("could not download 'AAPL' from Yahoo Finance (offline?): no answer within 10 s; "
                        "use a built-in dataset such as sp500 (offline)")

    monkeypatch.setattr(rnnlab.data, "fetch_yfinance", offline)
    at = open_app()
    at.button_group(key="data.source").set_value("Yahoo Finance").run()
    [b for b in at.button if b.label == "Fetch"][0].click().run()
    no_exception(at)
    assert any("offline" in t and "seattle-weather" in t for t in texts(at.warning)), texts(at.warning)
    assert _ds(at).name == "seattle-weather"


def test_constant_target_column_shows_error() -> None:
    t = pd.date_range("2021-01-01", periods=100, freq="D")
    raw = pd.DataFrame({"date": t.strftime("%Y-%m-%d"), "flat": 1.0, "y": np.arange(100.0)}).to_csv(index=False)
    at = open_app()
    at.button_group(key="data.source").set_value("Upload CSV").run()
    at.file_uploader(key="data.csv").set_value(("flat.csv", raw.encode(), "text/csv")).run()
    at.selectbox(key="data.target").set_value("flat").run()
    no_exception(at)
    assert at.error, "a constant target cannot be forecast"


def test_axis_titles_carry_the_documented_unit() -> None:
    at = open_app()
    no_exception(at)
    import json

    specs = " ".join(json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("vega_lite_chart"))
    assert "temp_max (°C)" in specs  # seattle-weather documents its units; a bare column name is not enough
