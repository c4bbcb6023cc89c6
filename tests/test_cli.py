"""The CLI end to end on a built-in dataset, and every bad-input path: exit 2, one line, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rnnlab.cli import main

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnnlab", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_datasets_lists_builtins(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("sp500", "nasdaq", "seattle-weather", "seattle-temps", "stocks-monthly"):
        assert name in out
    assert "licence" in out


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    proc = run_cli("train", "--data", "seattle-weather", "--target", "temp_max", "--model", "gru", "--hidden", "16",
                   "--layers", "1", "--epochs", "3", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "epoch   1/3" in proc.stderr
    assert "seasonal_naive" in proc.stdout and "linear" in proc.stdout and "RMSE" in proc.stdout
    return out


def test_train_writes_metrics_in_the_documented_layout(trained_run):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert set(metrics["test"]) == {"model", "naive", "seasonal_naive", "linear", "ets", "theta"}
    assert {"0.8", "0.95", "msis"} <= set(metrics["intervals"]) and "coverage" in metrics["intervals"]["0.8"]["ets"]
    assert {"mae", "rmse", "mase", "mape", "smape", "directional_accuracy", "r2"} <= set(metrics["test"]["model"])


@pytest.mark.slow
def test_predict_and_export(trained_run, tmp_path):
    out = tmp_path / "pred.csv"
    proc = run_cli("predict", "--run", str(trained_run), "--data", "seattle-weather", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    pred = pd.read_csv(out)
    assert {"anchor_time", "target_time", "step", "prediction", "actual", "lower_80", "upper_95"} <= set(pred.columns)
    assert pred["actual"].isna().sum() > 0  # the last windows forecast beyond the data
    for fmt, suffix in (("onnx", ".onnx"), ("torchscript", ".pt")):
        proc = run_cli("export", "--run", str(trained_run), "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        assert (trained_run / f"model{suffix}").stat().st_size > 1000


def test_predict_on_a_csv_without_time_column_writes_row_numbers(tmp_path, capsys):
    """No time column: the prediction file names rows in file order, not the placeholder clock."""
    import numpy as np

    data = tmp_path / "steps.csv"
    pd.DataFrame({"load": 50 + 10 * np.sin(np.arange(200) / 7)}).to_csv(data, index=False)
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--hidden", "8", "--layers", "1", "--epochs", "1", "--seq-len", "10",
                 "--horizon", "2", "--out", str(out), "--quiet"]) == 0
    pred_file = tmp_path / "pred.csv"
    assert main(["predict", "--run", str(out), "--data", str(data), "--out", str(pred_file)]) == 0
    capsys.readouterr()
    pred = pd.read_csv(pred_file)
    assert {"anchor_row", "target_row"} <= set(pred.columns) and "anchor_time" not in pred.columns
    assert pred["anchor_row"].iloc[0] >= 9  # the first full window of 10 rows ends at row 9 (10 with differences)
    assert (pred["target_row"] - pred["anchor_row"] == pred["step"]).all()
    assert pred["target_row"].max() == 201  # the last window forecasts 2 rows beyond the 200
    assert "1970-01-01" not in pred_file.read_text()


@pytest.mark.parametrize("args,needle", [
    (["train", "--data", "no/such/file.csv", "--out", "OUT"], "no/such/file.csv"),
    (["train", "--data", "seattle-weather", "--target", "nope", "--out", "OUT"], "nope"),
    (["train", "--data", "seattle-weather", "--seq-len", "5000", "--out", "OUT"], "seq_len=5000"),
    (["train", "--data", "seattle-weather", "--seq-len", "0", "--out", "OUT"], "seq_len=0"),
    (["train", "--data", "seattle-weather", "--lr", "0", "--out", "OUT"], "lr=0"),
    (["predict", "--run", "RUNDIR", "--data", "seattle-weather", "--out", "x.csv"], "does not exist"),
    (["export", "--run", "CORRUPT", "--format", "onnx"], "config.json"),
])
def test_bad_input_exits_2_with_one_clear_line(args, needle, tmp_path, capsys):
    args = [a.replace("OUT", str(tmp_path / "o")).replace("RUNDIR", str(tmp_path / "missing")) for a in args]
    if "CORRUPT" in args:
        corrupt = tmp_path / "corrupt"
        corrupt.mkdir()
        for name in ("config.json", "weights.safetensors", "scaler.json", "linear.json", "history.json",
                     "metrics.json", "data.csv.gz"):
            (corrupt / name).write_text("garbage")
        args = [str(corrupt) if a == "CORRUPT" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and needle in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_no_traceback_from_a_real_process(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n")
    proc = run_cli("train", "--data", str(bad), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")
