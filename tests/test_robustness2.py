"""Robustness, second round (issue 18): one test (a property test where the class is open-ended) per
class of hostile input. docs/ROBUSTNESS.md maps each item of the issue to these tests; the harness
``python -m bench.hostile`` runs a few hundred such inputs through the CLI and the library."""

from __future__ import annotations

import contextlib
import io
import json
import math
import threading
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab import pipeline
from rnnlab.cli import main
from rnnlab.data import load_csv, load_dataset
from rnnlab.errors import ConfigError, DataError, RnnlabError, RunError
from rnnlab.preprocessing import STATIONARITY_MAX_ROWS, Preprocessor
from rnnlab.runs import load_run, save_run
from rnnlab.settings import SPECS, RunConfig

FORMS = {"/": ("%d/%m/%Y", "%m/%d/%Y"), "-": ("%d-%m-%Y", "%m-%d-%Y"), ".": ("%d.%m.%Y", "%m.%d.%Y")}


def csv_of(times: list[str], values: np.ndarray, header: str = "date,value") -> bytes:
    return (header + "\n" + "\n".join(f"{t},{float(v)!r}" for t, v in zip(times, values)) + "\n").encode()


def walk(n: int, seed: int = 0, level: float = 100.0) -> np.ndarray:
    return level + np.cumsum(np.random.default_rng(seed).normal(0, 1, n))


# ============================================================================= 1: day-first dates
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(freq=st.sampled_from(["BMS", "MS", "QS", "W-MON", "D", "SMS"]), start=st.dates(pd.Timestamp("1990-01-01").date(),
       pd.Timestamp("2030-01-01").date()), n=st.integers(12, 150), sep=st.sampled_from(list(FORMS)),
       dayfirst=st.booleans())
def test_numeric_dates_are_read_right_or_the_reading_is_stated(freq, start, n, sep, dayfirst) -> None:
    """Dates written dd/mm or mm/dd: the loaded calendar is the true one; where the rows cannot decide
    (no day above 12 and both readings regular and in order), the note says which reading was taken
    and how to force the other, and forcing it gives the truth. Never a silent re-ordering."""
    idx = pd.date_range(pd.Timestamp(start), periods=n, freq=freq)
    fmt = FORMS[sep][0 if dayfirst else 1]
    raw = csv_of(list(idx.strftime(fmt)), walk(n))
    ds = load_csv(raw)
    got = pd.DatetimeIndex(ds.frame.index)
    if len(got) == n and (got == idx).all():
        return
    notes = [w for w in ds.warnings if "can be read either way" in w]
    assert notes and f"dayfirst={dayfirst}" in notes[0], (ds.warnings, got[:3], idx[:3])
    forced = load_csv(raw, dayfirst=dayfirst)
    assert (pd.DatetimeIndex(forced.frame.index) == idx).all()


def test_first_business_day_monthly_dd_mm_is_day_first_without_reordering() -> None:
    """The issue's case: a monthly series on the first business day written dd/mm/yyyy (every day <= 12)."""
    idx = pd.date_range("2015-01-01", periods=120, freq="BMS")
    ds = load_csv(csv_of(list(idx.strftime("%d/%m/%Y")), walk(120)))
    assert (ds.frame.index == idx).all()
    assert not any("sorted" in w for w in ds.warnings)
    assert any("read as dd/mm/yyyy (day first)" in w and "--no-dayfirst" in w for w in ds.warnings)


def test_dayfirst_forced_and_impossible_reading() -> None:
    idx = pd.date_range("2020-01-01", periods=30, freq="D")
    raw = csv_of(list(idx.strftime("%d/%m/%Y")), walk(30))  # days up to 30: only day-first is possible
    assert (load_csv(raw).frame.index == idx).all()
    with pytest.raises(DataError, match=r"dayfirst=False cannot read the dates of 'date'.*use dayfirst=True"):
        load_csv(raw, dayfirst=False)


def test_a_large_reorder_is_reported_as_a_suspected_wrong_parse_and_newest_first_is_not() -> None:
    idx = pd.date_range("2020-01-01", periods=100, freq="D")
    order = np.random.default_rng(1).permutation(100)
    ds = load_csv(csv_of([str(idx[i].date()) for i in order], order.astype(float)))
    assert any("moved" in w and "read wrongly" in w for w in ds.warnings)
    rev = load_csv(csv_of([str(t.date()) for t in idx[::-1]], np.arange(100.0)[::-1]))
    assert rev.frame.index.is_monotonic_increasing and rev.frame.iloc[0, 0] == 0
    assert any("newest first" in w for w in rev.warnings) and not any("read wrongly" in w for w in rev.warnings)


def test_mixed_separators_and_times_without_dates() -> None:
    idx = pd.date_range("2020-01-01", periods=40, freq="D")
    mixed = [t.strftime("%d/%m/%Y" if i % 2 else "%d-%m-%Y") for i, t in enumerate(idx)]
    assert (load_csv(csv_of(mixed, walk(40))).frame.index == idx).all()
    times = load_csv(csv_of([f"{i % 24:02d}:00" for i in range(30)], walk(30), header="time,value"))
    assert times.steps and "time" in times.dropped  # not put on today's date


def test_cli_has_a_dayfirst_flag(tmp_path) -> None:
    idx = pd.date_range("2020-01-01", periods=40, freq="MS")
    p = tmp_path / "m.csv"
    p.write_bytes(csv_of(list(idx.strftime("%d/%m/%Y")), walk(40)))
    assert RunConfig(dataset=str(p), dayfirst=False).validate().dayfirst is False
    ds = load_dataset(str(p), dayfirst=False)
    assert ds.frame.index[1] == pd.Timestamp("2020-01-02")  # forced month-first: 01/02 is 2 January


# ============================================================================= 3: bounded transform choice
def test_auto_transform_tests_a_bounded_recent_part(monkeypatch) -> None:
    """The ADF/KPSS tests refit a regression per lag; they see at most STATIONARITY_MAX_ROWS rows (the
    last of the training span) at any length, and the reason says so."""
    import rnnlab.preprocessing as prep_mod

    seen: list[int] = []
    real = prep_mod.choose_transform
    monkeypatch.setattr(prep_mod, "choose_transform", lambda y: (seen.append(len(y)), real(y))[1])
    n = 200_000
    y = walk(n)
    pre = Preprocessor("y", seq_len=5, horizon=1).fit(pd.DataFrame({"y": y}), int(0.7 * n))
    assert seen == [STATIONARITY_MAX_ROWS]
    assert f"tested on the last {STATIONARITY_MAX_ROWS:,} of {int(0.7 * n):,} training rows" in pre.transform_reason_
    small = Preprocessor("y", seq_len=5, horizon=1).fit(pd.DataFrame({"y": y[:1000]}), 700)
    assert seen[-1] == 700 and "tested on the last" not in small.transform_reason_


# ============================================================================= 5: magnitudes
@settings(max_examples=80, deadline=None)
@given(exponent=st.integers(-320, 308), relative=st.sampled_from([1e-16, 1e-13, 1e-8, 1e-2, 1.0]),
       sentinel=st.booleans())
def test_magnitudes_are_refused_or_scaled_for_real(exponent, relative, sentinel) -> None:
    """Any magnitude, any size of changes, with or without one huge sentinel: a DataError/ConfigError that
    names the column, or a preprocessor whose target scale is the data's own (never the fallback 1 for a
    series that moves) and whose inverse transform round-trips."""
    n = 120
    level = 10.0 ** exponent
    with np.errstate(over="ignore"):  # 1e308 x 1.01 is inf: read as missing, which is part of the test
        y = level * (1 + relative * np.cumsum(np.random.default_rng(exponent & 0xFFFF).normal(0, 1, n)))
    if sentinel:
        y[57] = 1e300
    idx = pd.date_range("2020-01-01", periods=n, freq="D")
    try:
        ds = load_csv(csv_of([str(t.date()) for t in idx], y))
        sel = ds.select("value")
        pre = Preprocessor("value", seq_len=5, horizon=2).fit(sel.frame, 84)
    except (DataError, ConfigError) as exc:
        assert "'value'" in str(exc) or "value" in str(exc)
        return
    assert not sentinel, "a 1e300 sentinel was accepted as data"
    v = sel.frame["value"].to_numpy()
    moves = np.ptp(v[:84]) > 0
    assert math.isfinite(pre.target_scale_) and pre.target_scale_ > 0
    if moves:
        assert pre.target_scale_ != 1.0 or np.isclose(np.std(np.diff(v[:84])), 1.0, rtol=0.5) or pre.transform_ == "level"
    w = pre.windows(sel.frame, pre.valid_anchors(n))
    back = pre.inverse_targets(pre.scale_targets(w.y_true, w.base), w.base)
    ok = np.isfinite(w.y_true)
    np.testing.assert_allclose(back[ok], w.y_true[ok], rtol=1e-9)


def test_sentinel_message_names_the_value_and_the_fix() -> None:
    y = walk(200)
    y[57] = 1e300
    idx = pd.date_range("2020-01-01", periods=200, freq="D")
    with pytest.raises(DataError, match=r"'value'.*1e\+300.*sentinel"):
        load_csv(csv_of([str(t.date()) for t in idx], y))


# ============================================================================= 7: log_return on the whole series
def test_log_return_is_checked_on_the_whole_series() -> None:
    y = np.linspace(100, 10, 300)
    y[-20:] = -1.0  # test span only
    frame = pd.DataFrame({"y": y})
    with pytest.raises(ConfigError, match=r"log_return.*'y' is -1 at row 280 \(in the validation or test span\)"):
        Preprocessor("y", transform="log_return", seq_len=5, horizon=1).fit(frame, 210)
    rng = np.random.default_rng(1)
    g = np.exp(np.linspace(0, 3, 400) + rng.normal(0, 0.02, 400).cumsum())
    g[-40:] = -g[-40:]
    pre = Preprocessor("y", seq_len=5, horizon=1).fit(pd.DataFrame({"y": g}), 280)
    assert pre.transform_ != "log_return" and "not positive later" in pre.transform_reason_


# ============================================================================= 10: settings
NUMERIC = [s for s in SPECS.values() if s.kind in (int, float)]


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from([s.name for s in NUMERIC]),
       value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**70), 2**70)))
def test_every_numeric_setting_is_checked_before_use(name, value) -> None:
    """Any number (NaN, inf, huge, negative, fractional) for any numeric setting: a ConfigError naming
    the setting, or a value within its stated bounds."""
    try:
        cfg = RunConfig(**{name: value}).validate()
    except ConfigError as exc:
        assert name in str(exc)
        return
    got = getattr(cfg, name)
    s = SPECS[name]
    assert got is None or (math.isfinite(got) and (s.lo is None or got >= s.lo) and (s.hi is None or got <= s.hi))


# ============================================================================= 11: memory
def test_a_model_that_cannot_fit_in_memory_is_refused_with_the_estimate(monkeypatch, sine_dataset) -> None:
    monkeypatch.setenv("RNNLAB_MEMORY_LIMIT", "8G")
    cfg = RunConfig(seq_len=10, horizon=2, hidden_size=4096, num_layers=16, epochs=1)
    with pytest.raises(ConfigError, match=r"needs about \d+\.\d GiB of memory, but only 8\.0 GiB is available.*hidden_size"):
        pipeline.prepare(sine_dataset, cfg)
    pipeline.prepare(sine_dataset, RunConfig(seq_len=10, horizon=2, hidden_size=8, num_layers=1))  # fits


def test_a_convolution_front_end_with_runaway_dilation_is_refused(monkeypatch, sine_dataset) -> None:
    """conv_dilation 8 over 8 layers pads layer 7 by 63 x 8**7 steps: before, training hung."""
    monkeypatch.setenv("RNNLAB_MEMORY_LIMIT", "16G")
    cfg = RunConfig(seq_len=10, horizon=2, hidden_size=4, num_layers=1, conv_layers=8, conv_kernel=64, conv_dilation=8)
    with pytest.raises(ConfigError, match=r"needs about [\d,.]+ GiB.*conv_dilation"):
        pipeline.prepare(sine_dataset, cfg)
    pipeline.prepare(sine_dataset, cfg.replace(conv_layers=3, conv_dilation=2))


def test_windows_that_cannot_fit_are_refused_before_allocation(monkeypatch, sine_dataset) -> None:
    monkeypatch.setenv("RNNLAB_MEMORY_LIMIT", "100K")
    with pytest.raises(ConfigError, match=r"windows of seq_len=300.*memory.*lower seq_len"):
        pipeline.prepare(sine_dataset, RunConfig(seq_len=300, horizon=2, hidden_size=4, num_layers=1))


# ============================================================================= 2/9: run-file schemas
@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    from tests.conftest import make_dataset

    t = np.arange(200)
    ds = make_dataset(5 + np.sin(t / 5) + 0.1 * np.random.default_rng(0).standard_normal(200))
    run = pipeline.fit(ds, RunConfig(seq_len=8, horizon=2, hidden_size=4, num_layers=1, epochs=1, patience=0))
    return save_run(run, tmp_path_factory.mktemp("schema") / "run")


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
                           max_leaves=6)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list) and doc:
        yield from _paths(doc[0], (*prefix, 0))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data(), fname=st.sampled_from(["config.json", "metrics.json", "history.json", "scaler.json",
                                               "linear.json"]))
def test_any_json_of_the_wrong_shape_is_refused_with_run_error(saved_run, tmp_path_factory, data, fname) -> None:
    """Replace any value anywhere in a run's JSON files with any JSON value: load_run either loads a run
    (the change was harmless) or raises RunError; never another exception."""
    import shutil

    folder = tmp_path_factory.mktemp("mut") / "run"
    shutil.copytree(saved_run, folder)
    doc = json.loads((folder / fname).read_text())
    path = data.draw(st.sampled_from(list(_paths(doc))))
    value = data.draw(JSON_VALUES)
    if path:
        node = doc
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    else:
        doc = value
    (folder / fname).write_text(json.dumps(doc))
    with contextlib.suppress(RunError):  # a harmless change loads; anything else must be a RunError
        load_run(folder)


# ============================================================================= 13/14/20: archives, links, leaks
def test_zips_that_pythons_reader_rejects_leave_nothing(saved_run, tmp_path) -> None:
    from rnnlab.archive import load_run_archive, zip_run

    good = zip_run(saved_run)
    corrupt = bytearray(good)
    i = corrupt.find(b"weights.safetensors")
    for k in range(i + 60, i + 300):
        corrupt[k] ^= 0x5A

    def patched(flag: int = 0, method: int | None = None) -> bytes:
        """The good archive with every member's flag bits / compression method rewritten in both headers."""
        import struct

        b = bytearray(good)
        for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            pos = b.find(sig)
            while pos >= 0:
                old_flag, old_method = struct.unpack_from("<HH", b, pos + flag_at)
                struct.pack_into("<HH", b, pos + flag_at, old_flag | flag, old_method if method is None else method)
                pos = b.find(sig, pos + 4)
        return bytes(b)

    for blob in (bytes(corrupt), patched(flag=0x1), patched(method=99), good[: len(good) // 2]):
        with pytest.raises(RunError):
            load_run_archive(blob, tmp_path / "dest")
        assert not (tmp_path / "dest").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_writing_never_follows_a_link(saved_run, tmp_path, capsys) -> None:
    from rnnlab.archive import unzip_run, zip_run

    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "config.json").symlink_to(victim)
    with pytest.raises(RunError):
        unzip_run(zip_run(saved_run), dest)
    data = tmp_path / "d.csv"
    load_run(saved_run).dataset.frame.to_csv(data)
    (tmp_path / "p.csv").symlink_to(victim)
    assert main(["predict", "--run", str(saved_run), "--data", str(data), "--out", str(tmp_path / "p.csv")]) == 0
    (tmp_path / "m.pt").symlink_to(victim)
    assert main(["export", "--run", str(saved_run), "--format", "torchscript", "--out", str(tmp_path / "m.pt")]) == 0
    assert victim.read_bytes() == b"precious"
    assert not (tmp_path / "p.csv").is_symlink() and pd.read_csv(tmp_path / "p.csv").shape[0] > 0


def test_run_zip_holds_no_local_path(saved_run, tmp_path) -> None:
    from rnnlab.archive import load_run_archive, zip_run

    doc = json.loads((saved_run / "config.json").read_text())
    doc["config"]["dataset"] = "/home/someone/secret/prices.csv"
    doc["dataset"]["source"] = "/home/someone/secret/prices.csv"
    (saved_run / "config.json").write_text(json.dumps(doc))
    blob = zip_run(saved_run)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        text = zf.read("config.json").decode()
    assert "/home/someone" not in text and str(saved_run) not in text and "prices.csv" in text
    assert load_run_archive(blob, tmp_path / "imported").config.dataset == "prices.csv"


@pytest.mark.parametrize("spec", ["yf:..", "yf:.", "yf:---", "yf:^", "yf:=", "yf:../etc", "yf:a/b"])
def test_tickers_without_a_symbol_are_refused_before_any_download(spec) -> None:
    with pytest.raises(DataError, match="invalid ticker"):
        load_dataset(spec)


# ============================================================================= 17/19: messages, missing values
def test_utf16_without_bom_is_read() -> None:
    idx = pd.date_range("2020-01-01", periods=30, freq="D")
    text = "date,value\n" + "\n".join(f"{t.date()},{i}" for i, t in enumerate(idx)) + "\n"
    for enc in ("utf-16-le", "utf-16-be"):
        ds = load_csv(text.encode(enc))
        assert len(ds.frame) == 30 and any(enc.upper() in w for w in ds.warnings)


@pytest.mark.parametrize("cells,why", [([""] * 40, "has no values"), (["true", "false"] * 20, "true/false"),
                                       (["abc"] * 40, "not numeric")])
def test_a_dropped_target_says_why_and_the_default_does_not_switch_silently(cells, why) -> None:
    idx = pd.date_range("2020-01-01", periods=40, freq="D")
    raw = ("date,other,close\n" + "\n".join(f"{t.date()},{i},{c}" for i, (t, c) in enumerate(zip(idx, cells)))).encode()
    ds = load_csv(raw)
    assert ds.target == "other" and any("'close' would be the default target" in w for w in ds.warnings)
    with pytest.raises(DataError, match=f"target column 'close' .* was dropped when the data was loaded: it .*{why}"):
        ds.select("close")


def test_few_distinct_timestamps_mention_duplicates() -> None:
    raw = ("date,value\n" + "\n".join(f"2020-01-0{1 + i % 2},{i}" for i in range(300))).encode()
    with pytest.raises(DataError, match=r"got 2 after dropping 298 row\(s\) with duplicate timestamps.*time_col"):
        load_csv(raw)


@settings(max_examples=40, deadline=None)
@given(share=st.floats(0.0, 0.95), inf=st.booleans(), seed=st.integers(0, 99))
def test_missing_values_beyond_the_cap_are_refused_not_invented(share, inf, seed) -> None:
    from rnnlab.data.dataset import MAX_MISSING_SHARE

    n = 300
    rng = np.random.default_rng(seed)
    v = walk(n, seed).astype(object)
    holes = rng.choice(np.arange(1, n - 1), int(share * n), replace=False)
    v[holes] = "inf" if inf else ""
    idx = pd.date_range("2020-01-01", periods=n, freq="D")
    raw = ("date,value,other\n" + "\n".join(f"{t.date()},{x},{i}" for i, (t, x) in enumerate(zip(idx, v)))).encode()
    try:
        ds = load_csv(raw)
        ds.select("value")
    except DataError as exc:
        assert len(holes) / n > MAX_MISSING_SHARE - 0.01
        assert "'value'" in str(exc) and "20%" in str(exc)
        return
    assert len(holes) / n <= MAX_MISSING_SHARE + 1e-9  # rows 0 and n - 1 are never holes: the span is all n rows


def test_concurrent_saves_to_one_folder_never_call_it_foreign(saved_run) -> None:
    run = load_run(saved_run)
    errors: list[str] = []

    def saver() -> None:
        for _ in range(4):
            try:
                save_run(run, saved_run)
            except RnnlabError as exc:
                errors.append(str(exc))

    threads = [threading.Thread(target=saver) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not [e for e in errors if "not an rnnlab run" in e], errors
    load_run(saved_run)


# ============================================================================= 18: ms vs MS
def test_milliseconds_are_not_months(tmp_path) -> None:
    from rnnlab.calendar import infer_season

    ms = load_csv(csv_of([str(t) for t in pd.date_range("2024-01-01", periods=300, freq="ms")], walk(300)))
    assert ms.freq == "ms" and infer_season(ms.freq) == 1
    month = load_csv(csv_of([str(t.date()) for t in pd.date_range("2000-01-01", periods=60, freq="MS")], walk(60)))
    assert month.freq == "MS" and infer_season(month.freq) == 12


# ============================================================================= the harness itself
def test_hostile_harness_classifies_cases(tmp_path) -> None:
    """bench/hostile.py runs and writes its counts (two fast items here; the full run is a benchmark)."""
    from bench import hostile
    from bench.hostile_common import Case, Wrong

    assert hostile.main(["--only", "18,20", "--quiet", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "hostile.json").read_text())
    assert doc["counts"] == {"clean": 15}

    def wrong(tmp) -> None:
        raise Wrong("accepted a bad input")

    def crash(tmp) -> None:
        raise KeyError("x")

    assert hostile.run_case(Case(0, "w", wrong))[0] == "wrong"
    assert hostile.run_case(Case(0, "t", crash))[0] == "traceback"
    assert hostile.run_case(Case(0, "r", lambda tmp: load_dataset("yf:..")))[0] == "clean"
