"""Each benchmark's main() runs on a tiny setting and writes valid JSON (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from bench import accuracy, darts_peer, live, malloc, memory, predict, speed, statsforecast_peer, store, threads

pytestmark = pytest.mark.slow  # each runs a benchmark end to end, in seconds


def _load(out, name: str, benchmark: str | None = None) -> dict:
    doc = json.loads((out / f"{name}.json").read_text())
    assert doc["benchmark"] == (benchmark or name) and doc["date"]
    m = doc["machine"]
    assert m["cores"] >= 1 and m["cpu_model"] and m["torch"] and m["torch_threads"] >= 1
    return doc


def test_speed_tiny(tmp_path):
    speed.main(["--out", str(tmp_path), "--rows", "400", "--hidden", "8", "--reps", "1", "--warmup", "0",
                "--configs", "lstm64", "--threads", "1", "--thread-reps", "1"])
    doc = _load(tmp_path, "speed")
    r = doc["results"][0]
    assert r["ratio"] > 0 and r["batch_events_last_epoch"] == r["batches_per_epoch"]


def test_live_tiny(tmp_path):
    live.main(["--out", str(tmp_path), "--rows", "400", "--hidden", "8", "--reps", "1", "--epochs", "1",
               "--poll", "0.05", "--threads", "1"])
    doc = _load(tmp_path, "live")
    assert set(doc["modes"]) == {"page", "page-1s", "snapshot"}
    assert all(m["ratio"] > 0 for m in doc["modes"].values())


def test_predict_tiny(tmp_path):
    predict.main(["--out", str(tmp_path), "--rows", "300", "--seq-len", "10", "--hidden", "8", "--reps", "1",
                  "--loop-sample", "20", "--threads", "1"])
    r = _load(tmp_path, "predict")["results"][0]
    assert r["hidden_states_shape"][1:] == [10, 8] and r["max_abs_diff_batched_vs_loop"] < 1e-4


def test_memory_tiny(tmp_path):
    memory.main(["--out", str(tmp_path), "--rows", "400", "--epochs", "1", "--runs", "2", "--threads", "1"])
    doc = _load(tmp_path, "memory")
    assert doc["one_run"]["peak_rss_mib"] > 0 and len(doc["app"]["runs"]) == 2


def test_malloc_tiny(tmp_path):
    malloc.main(["--out", str(tmp_path), "--rows", "400", "--epochs", "1", "--reps", "1", "--hidden", "8",
                 "--threads", "1"])
    doc = _load(tmp_path, "malloc")
    assert [r["malloc_tuning"] for r in doc["runs"]["untuned"]] == [False]


def test_darts_unavailable_is_reported(tmp_path):
    darts_peer.main(["--out", str(tmp_path), "--darts-python", str(tmp_path / "no-such-python")])
    doc = _load(tmp_path, "darts_peer")
    assert doc["available"] is False and doc["reason"]


def test_statsforecast_unavailable_is_reported(tmp_path):
    statsforecast_peer.main(["--out", str(tmp_path), "--sf-python", str(tmp_path / "no-such-python")])
    doc = _load(tmp_path, "statsforecast_peer")
    assert doc["available"] is False and "not found" in doc["reason"]


@pytest.mark.parametrize("jobs", ["1"])
def test_accuracy_tiny(tmp_path, jobs):
    accuracy.main(["--out", str(tmp_path), "--epochs", "1", "--seeds", "0,1", "--cells", "gru",
                   "--datasets", "stocks-monthly", "--jobs", jobs])
    doc = _load(tmp_path, "accuracy-capped", "accuracy")
    models = {r["model"] for r in doc["table"]}
    assert models == {"gru", "naive", "seasonal_naive", "linear", "ets", "theta"}
    md = (tmp_path / "accuracy-capped.md").read_text()
    assert "| stocks-monthly |" in md and "seasonal naive" in md and "Theta" in md and "cover 95 %" in md


def test_store_tiny(tmp_path):
    store.main(["--out", str(tmp_path), "--runs", "5", "--reps", "1", "--epochs", "1", "--threads", "1"])
    doc = _load(tmp_path, "store")
    listing = doc["listing"]
    assert listing["runs"] == 5 and listing["files_opened_cold"] == {"config.json": 5}
    assert listing["files_opened_warm"] == {}  # nothing changed: nothing read
    assert doc["checkpoints"]["checkpoints_written"] and doc["checkpoints"]["ratio"] > 0


def test_threads_tiny(tmp_path):
    """The CLI and the app path with rnnlab's rule (the hogs of the loaded condition: below)."""
    threads.main(["--out", str(tmp_path), "--rows", "300", "--hidden", "8", "--reps", "1", "--epochs", "2",
                  "--conditions", "quiet", "--paths", "cli,app", "--settings", "rule", "--cap", "30",
                  "--wait-quiet", "0"])
    doc = _load(tmp_path, "threads")
    rows = {(r["path"], r["setting"]): r for r in doc["table"]}
    assert set(rows) == {("cli", "rule"), ("app", "rule")}
    assert all(r["s/epoch"] > 0 and r["ratio to best"] == 1 for r in rows.values())
    ms = doc["measurements"]["quiet"]
    assert all(m["thread_choices"] and m["others_busy_cores"] is not None for m in ms)
    assert ms[[m["path"] for m in ms].index("cli")]["cli_says"].startswith("torch threads:")


def test_threads_hogs_are_killed_and_figures_fall_back():
    with threads.Hogs(1) as hogs:
        procs = list(hogs.procs)
        assert procs[0].poll() is None
    assert procs[0].poll() is not None and not hogs.procs
    full = {"epoch_seconds": [2.0, 1.0, 1.2], "partial": None}
    assert threads.epoch_figure(full) == (1.1, "epochs 2+")
    capped = {"epoch_seconds": [2.0], "stopped_at_cap": True,
              "partial": {"epoch": 2, "batches": 5, "n_batches": 50, "estimate_s": 30.0}}
    assert threads.epoch_figure(capped)[0] == 30.0
    killed = {"epoch_seconds": [], "stopped_at_cap": True, "partial": {"epoch": 1, "batches": 0, "lower_bound_s": 6}}
    assert threads.epoch_figure(killed) == (6.0, "lower bound (no epoch within the cap)")


def test_classify_tiny(tmp_path):
    from bench import classify

    classify.main(["--out", str(tmp_path), "--datasets", "japanese-vowels", "--seeds", "0", "--epochs", "1",
                   "--threads", "1"])
    doc = _load(tmp_path, "classify")
    row = doc["summary"][0]
    assert row["dataset"] == "japanese-vowels" and 0 <= row["model_accuracy"] <= 1
    assert row["logistic_accuracy"] > row["majority_accuracy"]


def test_text_tiny(tmp_path):
    from bench import text

    text.main(["--out", str(tmp_path), "--chars", "20000", "--hidden", "8", "--epochs", "1", "--compare-batches",
               "3", "--threads", "1"])
    doc = _load(tmp_path, "text")
    assert set(doc["test"]) == {"model", "unigram", "ngram"} and doc["sample"] and doc["overhead"]["ratio"] > 0
