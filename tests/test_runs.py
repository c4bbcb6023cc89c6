"""Run folders and archives: identical reload, and refusal of anything unsafe or corrupt."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch

from rnnlab import pipeline
from rnnlab.archive import load_run_archive, unzip_run, zip_run
from rnnlab.errors import RunError
from rnnlab.runs import load_run, required_files, save_run
from rnnlab.tasks import forecast

REQUIRED_FILES = required_files("forecast")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from rnnlab.settings import RunConfig
    from tests.conftest import make_dataset

    rng = np.random.default_rng(0)
    t = np.arange(400)
    ds = make_dataset(5 + np.sin(t / 5) + 0.1 * rng.standard_normal(400), extra={"x": np.cos(t / 5)})
    cfg = RunConfig(seq_len=12, horizon=3, features=["x"], hidden_size=8, num_layers=1, epochs=2, patience=0)
    run = pipeline.fit(ds, cfg, record_evolution=True)
    folder = save_run(run, tmp_path_factory.mktemp("runs") / "r1")
    return run, folder


def test_run_folder_holds_the_documented_files(trained):
    run, folder = trained
    for name in [*REQUIRED_FILES, "predictions.csv", "evolution.safetensors", "intervals.json"]:
        assert (folder / name).is_file(), name
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["config"]["seed"] == 0 and cfg["meta"]["data_fingerprint"] == run.dataset.fingerprint()
    assert "torch" in cfg["meta"]["versions"]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics["test"]) == {"model", "naive", "seasonal_naive", "linear", "ets", "theta"}


def test_load_run_gives_identical_predictions(trained):
    run, folder = trained
    again = load_run(folder)
    X = run.prepared().test.X
    np.testing.assert_array_equal(forecast.predict_scaled(run.model, X), forecast.predict_scaled(again.model, X))
    np.testing.assert_array_equal(again.prepared().test.X, X)
    assert again.metrics["test"]["model"]["rmse"] == pytest.approx(run.metrics["test"]["model"]["rmse"])
    assert again.history == run.history
    np.testing.assert_allclose(again.forecast()["forecast"], run.forecast()["forecast"])


def test_archive_round_trip(trained, tmp_path):
    run, folder = trained
    again = load_run_archive(zip_run(folder), tmp_path / "x")
    assert again.preprocessor.to_dict() == run.preprocessor.to_dict()
    assert again.evolution is not None and again.evolution.epochs == run.evolution.epochs


def test_evolution_round_trip(trained):
    run, folder = trained
    evo, again = run.evolution, load_run(folder).evolution
    assert evo.epochs == [0, 1, 2, -1] and again.epochs == evo.epochs
    np.testing.assert_array_equal(again.states, evo.states)
    np.testing.assert_array_equal(again.windows, evo.windows)
    np.testing.assert_array_equal(again.anchors, evo.anchors)
    assert again.val_losses == evo.val_losses and set(again.val_losses) == {1, 2}
    assert (again.span, again.source, again.replay_gap) == ("test", "recorded", 0.0)
    from safetensors import safe_open

    with safe_open(str(folder / "evolution.safetensors"), framework="pt") as f:  # plain tensors + JSON metadata
        assert sorted(f.keys()) == ["anchors", "states", "windows"]
        assert json.loads(f.metadata()["evolution"])["epochs"] == [0, 1, 2, -1]


def test_run_folder_without_evolution_loads(trained, tmp_path):
    """Runs saved before evolution.safetensors existed (or trained without it) load with evolution None;
    re-saving a run without one removes a stale file."""
    run, folder = trained
    old = tmp_path / "old"
    old.mkdir()
    for name in REQUIRED_FILES:
        (old / name).write_bytes((folder / name).read_bytes())
    again = load_run(old)
    assert again.evolution is None and again.metrics["test"]["model"]["rmse"] == pytest.approx(run.metrics["test"]["model"]["rmse"])
    assert load_run_archive(_zip(_run_entries(folder)), tmp_path / "zipped").evolution is None
    target = save_run(run, tmp_path / "again")
    again.evolution = None
    save_run(again, target)
    assert not (target / "evolution.safetensors").exists() and load_run(target).evolution is None


def test_corrupt_evolution_is_refused(trained, tmp_path):
    from safetensors.torch import save_file

    _, folder = trained
    entries = _run_entries(folder)
    other = tmp_path / "other.safetensors"
    save_file({"states": torch.zeros(4, 3, 8)}, str(other), metadata={"format": "rnnlab-evolution/1"})
    entries["evolution.safetensors"] = other.read_bytes()
    with pytest.raises(RunError, match="not an rnnlab evolution"):
        load_run_archive(_zip(entries), tmp_path / "b")
    meta = {"format": "rnnlab-evolution/1", "evolution": json.dumps(
        {"epochs": [0, 1, -1], "val_losses": {}, "span": "test", "source": "recorded", "replay_gap": 0.0})}
    save_file({"states": torch.zeros(3, 2, 5), "windows": torch.arange(2), "anchors": torch.arange(2)}, str(other), metadata=meta)
    entries["evolution.safetensors"] = other.read_bytes()
    with pytest.raises(RunError, match=r"states of 5 units \(the model has 8\)"):
        load_run_archive(_zip(entries), tmp_path / "c")
    save_file({"states": torch.zeros(2, 2, 8), "windows": torch.arange(2), "anchors": torch.arange(2)}, str(other), metadata=meta)
    entries["evolution.safetensors"] = other.read_bytes()
    with pytest.raises(RunError, match="evolution.safetensors .* is invalid"):
        load_run_archive(_zip(entries), tmp_path / "d")


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _run_entries(folder) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in REQUIRED_FILES}


def test_archive_that_is_not_a_zip(tmp_path):
    with pytest.raises(RunError, match="not a zip"):
        unzip_run(b"hello world", tmp_path)


def test_zip_that_is_not_a_run(tmp_path):
    with pytest.raises(RunError, match="not an rnnlab run"):
        unzip_run(_zip({"notes.txt": b"hi"}), tmp_path)


def test_path_traversal_is_refused_before_writing(trained, tmp_path):
    _, folder = trained
    entries = _run_entries(folder)
    entries["../evil.txt"] = b"x"
    with pytest.raises(RunError, match="outside the run folder"):
        unzip_run(_zip(entries), tmp_path / "dest")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "dest").exists()


def test_truncated_weights_are_refused(trained, tmp_path):
    _, folder = trained
    entries = _run_entries(folder)
    entries["weights.safetensors"] = entries["weights.safetensors"][:100]
    with pytest.raises(RunError, match="not a valid safetensors"):
        load_run_archive(_zip(entries), tmp_path / "d")


class Boom:
    def __reduce__(self):
        return (open, ("/tmp/rnnlab-pwned", "w"))


@pytest.mark.parametrize("name", ["weights.safetensors", "evolution.safetensors"])
def test_pickle_disguised_as_safetensors_is_refused_and_not_executed(trained, tmp_path, name):
    _, folder = trained
    entries = _run_entries(folder)
    entries[name] = pickle.dumps(Boom())
    with pytest.raises(RunError, match=f"{name} .*not a valid safetensors"):
        load_run_archive(_zip(entries), tmp_path / "d")
    import os

    assert not os.path.exists("/tmp/rnnlab-pwned")


def test_config_that_does_not_match_weights(trained, tmp_path):
    _, folder = trained
    entries = _run_entries(folder)
    cfg = json.loads(entries["config.json"])
    cfg["config"]["hidden_size"] = 32
    entries["config.json"] = json.dumps(cfg).encode()
    with pytest.raises(RunError, match="does not match config.json"):
        load_run_archive(_zip(entries), tmp_path / "d")


def test_missing_file_and_bad_json(trained, tmp_path):
    _, folder = trained
    entries = _run_entries(folder)
    del entries["scaler.json"]
    with pytest.raises(RunError, match="missing scaler.json"):
        unzip_run(_zip(entries), tmp_path / "a")
    entries = _run_entries(folder)
    entries["metrics.json"] = b"{not json"
    with pytest.raises(RunError, match="metrics.json .* not valid JSON"):
        load_run_archive(_zip(entries), tmp_path / "b")


def test_unwritable_destination_keeps_the_run_usable(trained, tmp_path):
    run, _ = trained
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RunError, match="cannot write the run"):
        save_run(run, blocker / "run")
    assert forecast.predict_scaled(run.model, run.prepared().test.X[:2]).shape == (2, 3)


def test_load_missing_folder(tmp_path):
    with pytest.raises(RunError, match="does not exist"):
        load_run(tmp_path / "nope")


def test_ending_lines_say_how_training_ended_and_only_the_warnings_it_added() -> None:
    from torch import nn

    from rnnlab.run import Run
    from rnnlab.settings import ResolvedConfig, RunConfig

    cfg = ResolvedConfig.resolved(RunConfig(target="y", seq_len=10, horizon=1, season=1, highway=0))
    run = Run(config=cfg, model=nn.Linear(1, 1), dataset=None,
              train_info={"message": "early stopping at epoch 9", "seconds": 3.21},
              meta={"warnings": ["a note about the data", "started from the weights of src"]})
    assert run.ending_lines(1) == ["early stopping at epoch 9 (3.2s)", "warning: started from the weights of src"]
    assert run.ending_lines(2) == ["early stopping at epoch 9 (3.2s)"]
