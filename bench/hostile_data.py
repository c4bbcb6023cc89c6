"""Hostile inputs for the data path (issue 18 items 1, 3, 5, 6, 7, 17, 18, 19 and CSV noise); registered on import."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.hostile_common import (
    TINY,
    Wrong,
    base_run,
    case,
    check,
    cli,
    load,
    series_csv,
    write,
)


# ============================================================================= 1: day-first dates
def _first_business_days(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="BMS")


_DATE_FORMS = {"dd/mm/yyyy": "%d/%m/%Y", "dd-mm-yyyy": "%d-%m-%Y", "dd.mm.yyyy": "%d.%m.%Y", "mm/dd/yyyy": "%m/%d/%Y",
               "dd/mm/yy": "%d/%m/%y", "mm-dd-yyyy": "%m-%d-%Y", "dd/mm/yyyy hh:mm": "%d/%m/%Y %H:%M"}


def _date_case(calendar: str, form: str, start: str, n: int) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        if calendar == "BMS":
            idx = _first_business_days(start, n)
        else:
            idx = pd.date_range(start, periods=n, freq=calendar)
        rng = np.random.default_rng(n)
        v = 100 + np.cumsum(rng.normal(0, 1, n))
        text = "date,value\n" + "\n".join(f"{t},{x:.4f}" for t, x in zip(idx.strftime(_DATE_FORMS[form]), v)) + "\n"
        ds = load(write(tmp / "d.csv", text))
        got = pd.DatetimeIndex(ds.frame.index)
        check(len(got) == n, f"{len(got)} rows loaded of {n}")
        if not (got == idx).all() and any("can be read either way" in w and "dayfirst" in w for w in ds.warnings):
            return  # genuinely ambiguous: the reading taken and how to force the other are stated
        check(bool((got == idx).all()), f"dates read wrongly: first {list(got[:3].strftime('%Y-%m-%d'))}, "
                                        f"expected {list(idx[:3].strftime('%Y-%m-%d'))}")
        check(np.allclose(ds.frame["value"].to_numpy(), v, atol=1e-3), "values re-ordered")
    return run


for _cal, _start, _n in (("BMS", "2015-01-01", 120), ("BMS", "2019-06-01", 40), ("MS", "2010-01-01", 60),
                         ("W-MON", "2021-01-04", 30), ("D", "2021-01-01", 12), ("D", "2021-03-01", 200),
                         ("QS", "2000-01-01", 40)):
    for _form in _DATE_FORMS:
        case(1, f"dates {_cal} from {_start} x{_n} written {_form}")(_date_case(_cal, _form, _start, _n))


@case(1, "dayfirst forced the other way by the user is honoured (API)")
def _dayfirst_forced(tmp: Path) -> None:
    idx = pd.date_range("2020-01-01", periods=24, freq="MS")
    text = "date,value\n" + "\n".join(f"{t},{i}" for i, t in enumerate(idx.strftime("%d/%m/%Y"))) + "\n"
    p = write(tmp / "f.csv", text)
    try:
        ds = load(p, dayfirst=False)
    except TypeError as e:
        raise Wrong(f"no dayfirst option: {e}") from e
    check(ds.frame.index[1] == pd.Timestamp("2020-01-02"), f"dayfirst=False not honoured: {ds.frame.index[1]}")


@case(1, "shuffled ISO rows: a large reorder is reported as a suspected wrong parse (not a plain 'sorted')")
def _shuffled_iso(tmp: Path) -> None:
    idx = pd.date_range("2020-01-01", periods=100, freq="D")
    order = np.random.default_rng(1).permutation(100)
    text = "date,value\n" + "\n".join(f"{idx[i].date()},{i}" for i in order) + "\n"
    ds = load(write(tmp / "s.csv", text))
    check(any("%" in w and ("order" in w or "sort" in w) for w in ds.warnings), f"warnings: {ds.warnings}")


@case(1, "dd/mm and dd-mm separators mixed in one column")
def _mixed_seps(tmp: Path) -> None:
    idx = pd.date_range("2020-01-01", periods=40, freq="D")
    times = [t.strftime("%d/%m/%Y" if i % 2 else "%d-%m-%Y") for i, t in enumerate(idx)]
    ds = load(write(tmp / "m.csv", "date,v\n" + "\n".join(f"{t},{i}" for i, t in enumerate(times)) + "\n"))
    check(len(ds.frame) == 40 and bool((ds.frame.index == idx).all()), f"dates read wrongly: {ds.warnings}")


@case(1, "times of day without a date are not put on today's date")
def _time_only(tmp: Path) -> None:
    ds = load(write(tmp / "t.csv", "time,v\n" + "\n".join(f"{i % 24:02d}:{i % 60:02d},{i}" for i in range(50)) + "\n"))
    today = pd.Timestamp.today().normalize()
    check(not (pd.DatetimeIndex(ds.frame.index).normalize() == today).any(), "rows dated today")


@case(1, "newest-first file (reverse order) loads in time order without alarm")
def _reversed(tmp: Path) -> None:
    idx = pd.date_range("2020-01-01", periods=100, freq="D")
    text = "date,value\n" + "\n".join(f"{idx[i].date()},{i}" for i in range(99, -1, -1)) + "\n"
    ds = load(write(tmp / "r.csv", text))
    check(ds.frame["value"].iloc[0] == 0 and ds.frame.index.is_monotonic_increasing, "not reversed correctly")

# ============================================================================= 3: long series
def _long_case(n: int, limit: float) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        from rnnlab.preprocessing import Preprocessor

        rng = np.random.default_rng(0)
        y = 100 + np.cumsum(rng.normal(0, 1, n))
        frame = pd.DataFrame({"y": y})
        t0 = time.perf_counter()
        Preprocessor(target="y", seq_len=10, horizon=2).fit(frame, int(n * 0.7))
        dt = time.perf_counter() - t0
        check(dt < limit, f"choosing the transform for {n:,} rows took {dt:.1f} s")
    return run


for _n, _lim in ((20_000, 5.0), (100_000, 5.0), (400_000, 8.0), (2_000_000, 15.0)):
    case(3, f"auto transform on {_n:,} rows", limit=60.0)(_long_case(_n, _lim))

# ============================================================================= 5: magnitudes
def _magnitude_case(kind: str) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        n = 200
        rng = np.random.default_rng(3)
        v = 50 + np.cumsum(rng.normal(0, 1, n))
        if kind == "sentinel 1e300":
            v[57] = 1e300
        elif kind == "sentinel -1e308":
            v[120] = -1e308
        elif kind == "around 1e200":
            v = 1e200 * (1 + 0.01 * rng.normal(0, 1, n))
        elif kind == "around 1e-200":
            v = 1e-200 * (1 + 0.1 * rng.normal(0, 1, n).cumsum())
        elif kind == "changes 1e-14 on level 1":
            v = 1 + 1e-14 * rng.normal(0, 1, n).cumsum()
        elif kind == "changes 1e-13 on level 1e3":
            v = 1e3 + 1e-13 * np.arange(n)
        elif kind == "around 1e-9 (nano units)":
            v = 1e-9 * (5 + rng.normal(0, 1, n).cumsum())
        elif kind == "around 1e12":
            v = 1e12 + 1e9 * rng.normal(0, 1, n).cumsum()
        p = write(tmp / "m.csv", series_csv(n, values=v))
        res = cli("train", "--data", p, *TINY, "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(tmp / "o"))
        # accepted: the model must have trained on a real scale and its metrics must be finite
        from rnnlab.runs import load_run

        run = load_run(tmp / "o")
        m = run.metrics["test"]["model"]["rmse"]
        check(math.isfinite(m) and m > 0, f"accepted, test RMSE {m}")
        check(run.preprocessor.target_scale_ != 1.0 or kind.startswith("around 1e12"),
              f"accepted with a scale of 1 for data of magnitude {np.abs(v).max():g}")
        if kind.startswith("sentinel"):
            raise Wrong("a sentinel value was accepted as data")
        del res
    return run


for _k in ("sentinel 1e300", "sentinel -1e308", "around 1e200", "around 1e-200", "changes 1e-14 on level 1",
           "changes 1e-13 on level 1e3", "around 1e-9 (nano units)", "around 1e12"):
    case(5, f"train on values {_k}")(_magnitude_case(_k))

# ============================================================================= 6: no time column
def _no_time_case(n: int) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        rng = np.random.default_rng(0)
        text = "a,b\n" + "\n".join(f"{x:.3f},{y:.3f}" for x, y in rng.normal(0, 1, (n, 2)).cumsum(axis=0)) + "\n"
        ds = load(write(tmp / "nt.csv", text))
        check(len(ds.frame) == n, f"{len(ds.frame)} rows of {n}")
        check(not any("days from 2000" in w for w in ds.warnings), f"invented dates: {ds.warnings}")
    return run


for _n in (50, 5_000, 100_000, 300_000):
    case(6, f"CSV without a time column, {_n:,} rows")(_no_time_case(_n))

# ============================================================================= 7: log_return
@case(7, "--transform log_return, target negative in the test span")
def _logret_test_negative(tmp: Path) -> None:
    n = 300
    v = np.linspace(100, 10, n) + np.sin(np.arange(n))
    v[-20:] = -5 + np.arange(20) * 0.1
    cli("train", "--data", write(tmp / "l.csv", series_csv(n, values=v)), *TINY, "--transform", "log_return",
        "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(tmp / "o"))
    raise Wrong("accepted log_return on a non-positive target")


@case(7, "--transform log_return, a feature non-positive later")
def _logret_feature(tmp: Path) -> None:
    n = 300
    rng = np.random.default_rng(0)
    y = 100 + np.cumsum(rng.normal(0, 1, n))
    f = 50 + np.cumsum(rng.normal(0, 1, n))
    f[-30:] = -1.0
    idx = pd.date_range("2020-01-01", periods=n, freq="D")
    text = "date,y,f\n" + "\n".join(f"{t.date()},{a},{b}" for t, a, b in zip(idx, y, f)) + "\n"
    try:
        res = cli("train", "--data", write(tmp / "lf.csv", text), *TINY, "--transform", "log_return", "--features", "f",
                  "--target", "y", "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(tmp / "o"))
    except Exception as e:
        check("learning rate" not in str(e) and "lr" not in str(e).split(), f"blames the learning rate: {e}")
        raise
    check("diff" in res.err or "log" in res.err, "no word on the feature's transform")


@case(7, "auto transform, positive growing training span, non-positive later")
def _auto_logret(tmp: Path) -> None:
    n = 400
    rng = np.random.default_rng(1)
    v = np.exp(np.linspace(0, 3, n) + rng.normal(0, 0.02, n).cumsum())
    v[-40:] = -v[-40:]
    try:
        cli("train", "--data", write(tmp / "a.csv", series_csv(n, values=v)), *TINY, "--seq-len", "8", "--horizon", "2",
            "--quiet", "--out", str(tmp / "o"))
    except Exception as e:
        check("learning rate" not in str(e), f"blames the learning rate: {e}")
        raise

# ============================================================================= 17: messages
@case(17, "UTF-16 LE without BOM is read (or named UTF-16), not called binary")
def _utf16_nobom(tmp: Path) -> None:
    text = series_csv(50)
    p = write(tmp / "u.csv", text.encode("utf-16-le"))
    try:
        ds = load(p)
    except Exception as e:
        check("binary" not in str(e) or "UTF-16" in str(e), f"called binary: {e}")
        raise
    check(len(ds.frame) == 50, "rows lost")


@case(17, "UTF-16 BE without BOM")
def _utf16be_nobom(tmp: Path) -> None:
    p = write(tmp / "u.csv", series_csv(50).encode("utf-16-be"))
    try:
        ds = load(p)
    except Exception as e:
        check("binary" not in str(e) or "UTF-16" in str(e), f"called binary: {e}")
        raise
    check(len(ds.frame) == 50, "rows lost")


def _dropped_target(kind: str) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        n = 60
        idx = pd.date_range("2020-01-01", periods=n, freq="D")
        col = {"all-NaN": [""] * n, "boolean": ["true", "false"] * (n // 2), "text": ["abc"] * n}[kind]
        text = "date,other,close\n" + "\n".join(f"{t.date()},{i},{c}" for i, (t, c) in enumerate(zip(idx, col))) + "\n"
        ds = load(write(tmp / "t.csv", text))
        try:
            ds.select("close")
        except Exception as e:
            check("unknown target" not in str(e), f"misleading: {e}")
            raise
        raise Wrong("selected a dropped column")
    return run


for _k in ("all-NaN", "boolean", "text"):
    case(17, f"choosing a dropped {_k} target names why it was dropped")(_dropped_target(_k))


@case(17, "300 rows with 2 distinct timestamps mention duplicates")
def _two_ts(tmp: Path) -> None:
    text = "date,value\n" + "\n".join(f"2020-01-0{1 + i % 2},{i}" for i in range(300)) + "\n"
    try:
        load(write(tmp / "d.csv", text))
    except Exception as e:
        check("duplicate" in str(e), f"no word on duplicates: {e}")
        raise
    raise Wrong("accepted")


@case(17, "concurrent saves to one folder never say 'not a run folder'")
def _concurrent_saves(tmp: Path) -> None:
    import threading

    from rnnlab.runs import load_run, save_run

    folder = base_run(tmp)
    run = load_run(folder)
    errors: list[str] = []

    def saver() -> None:
        for _ in range(6):
            try:
                save_run(run, folder)
            except Exception as e:  # noqa: BLE001
                errors.append(str(e))

    threads = [threading.Thread(target=saver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not [e for e in errors if "not an rnnlab run" in e or "not a run" in e], f"errors: {errors[:2]}")
    load_run(folder)

# ============================================================================= 18: ms vs MS
@case(18, "millisecond data: no monthly season 12")
def _ms(tmp: Path) -> None:
    p = write(tmp / "ms.csv", series_csv(300, freq="ms", start="2024-01-01 00:00:00"))
    res = cli("train", "--data", p, *TINY, "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(tmp / "o"))
    check("season 12" not in res.out, res.out.splitlines()[0])


@case(18, "month-start data: season 12")
def _MS(tmp: Path) -> None:
    p = write(tmp / "MS.csv", series_csv(120, freq="MS", start="2000-01-01"))
    res = cli("train", "--data", p, *TINY, "--seq-len", "8", "--horizon", "2", "--quiet", "--out", str(tmp / "o"))
    check("season 12" in res.out, res.out.splitlines()[0])


@case(18, "calendar: ms / MS / 10ms / 2MS")
def _ms_calendar(tmp: Path) -> None:
    from rnnlab.calendar import infer_season, suggest_window

    check(infer_season("ms") == 1 and infer_season("MS") == 12 and infer_season("10ms") == 1, "seasons")
    check(suggest_window("ms", 1000) != suggest_window("MS", 1000), "windows equal for ms and MS")

# ============================================================================= 19: missing values
def _missing_case(share: float, kind: str) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        n = 400
        rng = np.random.default_rng(2)
        v = (50 + np.cumsum(rng.normal(0, 1, n))).astype(object)
        holes = rng.choice(np.arange(1, n - 1), int(share * n), replace=False)
        v[holes] = "inf" if kind == "inf" else ""
        ds = load(write(tmp / "m.csv", series_csv(n, values=v)))
        ds.select("value")
        if share > 0.25:
            raise Wrong(f"{share:.0%} {kind} values were invented by interpolation (warnings: {ds.warnings[-1:]})")
    return run


for _s in (0.05, 0.2, 0.5, 0.94):
    for _k in ("missing", "inf"):
        case(19, f"{_s:.0%} {_k} target values")(_missing_case(_s, _k))


@case(19, "the named target column is text: the default target must not silently switch")
def _switch(tmp: Path) -> None:
    n = 60
    idx = pd.date_range("2020-01-01", periods=n, freq="D")
    text = "date,volume,close\n" + "\n".join(f"{t.date()},{i},n/a{i}" for i, t in enumerate(idx)) + "\n"
    ds = load(write(tmp / "t.csv", text))
    check(any("close" in w and "target" in w for w in ds.warnings), f"switched silently to {ds.target}: {ds.warnings}")

# ============================================================================= generic CSV noise (all items)
def _csv_noise(seed: int) -> Callable[[Path], Any]:
    def run(tmp: Path) -> None:
        rng = np.random.default_rng(seed)
        n = int(rng.integers(5, 400))
        kinds = ["iso", "dmy", "mdy", "none", "epoch", "ms"]
        tk = kinds[seed % len(kinds)]
        idx = pd.date_range("2021-01-01", periods=n, freq=["D", "h", "MS", "W"][seed % 4])
        times = {"iso": idx.astype(str), "dmy": idx.strftime("%d/%m/%Y"), "mdy": idx.strftime("%m/%d/%Y"),
                 "none": None, "epoch": (idx.astype("int64") // 10**9).astype(str),
                 "ms": idx.strftime("%Y-%m-%d %H:%M:%S.%f")}[tk]
        vals = rng.normal(0, 1, n).cumsum() * 10 ** float(rng.uniform(-8, 8))
        vals = vals.astype(object)
        for _ in range(int(rng.integers(0, 6))):
            vals[int(rng.integers(0, n))] = rng.choice(["", "NaN", "inf", "-", "x", "1e309", "-1e400", "0"])
        header = "t,v" if times is not None else "v"
        rows = [f"{a},{b}" for a, b in zip(times, vals)] if times is not None else [str(b) for b in vals]
        text = header + "\n" + "\n".join(rows) + "\n"
        ds = load(write(tmp / "n.csv", text))
        sel = ds.select(ds.target)
        check(bool(np.isfinite(sel.frame.to_numpy()).all()), "non-finite values after select")
        if times is not None and tk in ("iso", "dmy", "mdy") and len(sel.frame) == n:
            check(bool((pd.DatetimeIndex(sel.frame.index) == idx).all()), f"dates read wrongly ({tk})")
    return run


for _seed in range(60):
    case(0, f"CSV noise #{_seed}")(_csv_noise(_seed))
