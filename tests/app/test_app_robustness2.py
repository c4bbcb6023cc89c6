"""Data page, second robustness round (issue 18): the date order choice, and bad uploads that must keep
the previous dataset (a 1e300 sentinel, a target mostly missing)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.app.apptools import no_exception, open_app, session_config, session_dataset, texts


def _csv(times: list[str], values: np.ndarray) -> bytes:
    return ("date,value\n" + "\n".join(f"{t},{float(v)!r}" for t, v in zip(times, values)) + "\n").encode()


def _upload(at, name: str, blob: bytes):
    at.file_uploader(key="data.csv").set_value((name, blob, "text/csv")).run()
    no_exception(at)
    return at


def test_date_order_choice_and_stated_reading() -> None:
    at = open_app("data")
    at.button_group(key="data.source").set_value("Upload CSV").run()
    days = pd.date_range("2021-01-01", periods=12, freq="D")  # 01/01..12/01: both readings regular
    blob = _csv(list(days.strftime("%d/%m/%Y")), np.arange(12.0) ** 1.5)
    _upload(at, "days.csv", blob)
    ds = session_dataset(at)
    assert ds.name == "days.csv" and ds.frame.index[1] == pd.Timestamp("2021-02-01")  # month first, and said so
    assert any("can be read either way" in w for w in ds.warnings)
    at.selectbox(key="data.csv_dayfirst").set_value("day first (31/12/2020)").run()
    no_exception(at)
    ds = session_dataset(at)
    assert (ds.frame.index == days).all()
    assert session_config(at).dayfirst is True


def test_sentinel_and_mostly_missing_uploads_keep_the_previous_dataset() -> None:
    at = open_app("data")
    before = session_dataset(at)
    at.button_group(key="data.source").set_value("Upload CSV").run()
    t = pd.date_range("2021-01-01", periods=200, freq="D")
    y = 50 + np.cumsum(np.random.default_rng(0).normal(0, 1, 200))
    sentinel = y.copy()
    sentinel[57] = 1e300
    holes = y.astype(object)
    holes[5:190] = ""
    for name, values, rule in (("sentinel.csv", sentinel, "sentinel"), ("holes.csv", holes, "20%")):
        _upload(at, name, _csv([str(d.date()) for d in t], values) if name == "sentinel.csv" else
                ("date,value\n" + "\n".join(f"{d.date()},{v}" for d, v in zip(t, values))).encode())
        assert session_dataset(at) is before
        assert any(f"Could not use '{name}'" in e and rule in e for e in texts(at.error)), texts(at.error)
