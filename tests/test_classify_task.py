"""The classify task: split, fitting on training sequences only, truncation, training, metrics
against the baselines, run folders, export, user CSVs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rnnlab import pipeline
from rnnlab.corpora import load_sequence_dataset
from rnnlab.errors import DataError
from rnnlab.export import export_run
from rnnlab.runs import load_run, save_run
from rnnlab.sequences import SequenceDataset
from rnnlab.settings import RunConfig
from rnnlab.tasks import get_task
from rnnlab.tasks.classify.baselines import classification_metrics
from rnnlab.tasks.classify.prepared import stratified_split

TINY = dict(epochs=2, hidden_size=8, num_layers=1, batch_size=32)


def subset(ds: SequenceDataset, idx: np.ndarray) -> SequenceDataset:
    return replace(ds, labels=ds.labels[idx], ids=[ds.ids[i] for i in idx],
                   sequences=None if ds.sequences is None else [ds.sequences[i] for i in idx],
                   texts=None if ds.texts is None else [ds.texts[i] for i in idx],
                   given_split=None if ds.given_split is None else ds.given_split[idx], warnings=[])


@pytest.fixture(scope="module")
def vowels() -> SequenceDataset:
    ds = load_sequence_dataset("japanese-vowels")
    return subset(ds, np.arange(0, len(ds), 4))  # 160 utterances, both partitions, every speaker


@pytest.fixture(scope="module")
def names() -> SequenceDataset:
    ds = load_sequence_dataset("names-sex")
    return subset(ds, np.arange(0, len(ds), 20))


@pytest.fixture(scope="module")
def vowel_run(vowels: SequenceDataset):
    return pipeline.fit(vowels, RunConfig.defaults("classify", **TINY))


def test_defaults_and_settings_of_the_task() -> None:
    cfg = RunConfig.defaults("classify")
    assert (cfg.dataset, cfg.pooling, cfg.padding) == ("japanese-vowels", "last", "post")
    assert cfg.applies("pooling") and not cfg.applies("horizon") and not RunConfig().applies("pooling")
    assert get_task("classify").name == "classify"


def test_split_is_stratified_seeded_and_keeps_the_given_test_set(vowels: SequenceDataset) -> None:
    labels = np.repeat(np.arange(3), [40, 20, 10])
    part = stratified_split(labels, 0.15, 0.15, seed=3)
    assert np.array_equal(part, stratified_split(labels, 0.15, 0.15, seed=3))
    assert not np.array_equal(part, stratified_split(labels, 0.15, 0.15, seed=4))
    for c, n in ((0, 40), (1, 20), (2, 10)):
        assert (part[labels == c] == 2).sum() == round(n * 0.15)
    prep = pipeline.prepare(vowels, RunConfig.defaults("classify"))
    given_test = vowels.given_split == "test"
    assert np.array_equal(prep.part == 2, given_test)
    assert set(np.unique(prep.labels[prep.indices("train")])) == set(range(9))


def test_scaling_uses_the_training_sequences_only(vowels: SequenceDataset) -> None:
    prep = pipeline.prepare(vowels, RunConfig.defaults("classify"))
    train = np.concatenate([vowels.sequences[i] for i in prep.indices("train")]).astype(np.float64)
    np.testing.assert_allclose(prep.encoder.center_, train.mean(0), rtol=1e-6)
    everything = np.concatenate(vowels.sequences).astype(np.float64)
    assert not np.allclose(prep.encoder.center_, everything.mean(0), rtol=1e-6)
    scaled = np.concatenate([prep.items[i] for i in prep.indices("train")])
    np.testing.assert_allclose(scaled.mean(0), 0, atol=1e-4)


def test_truncation_is_applied_and_reported(vowels: SequenceDataset) -> None:
    prep = pipeline.prepare(vowels, RunConfig.defaults("classify", max_steps=10))
    long = int((vowels.lengths > 10).sum())
    assert long > 0 and prep.n_truncated == long and prep.counts()["n_truncated"] == long
    assert max(len(s) for s in prep.items) == 10
    assert any("max_steps=10" in w for w in prep.warnings)


def test_a_run_scores_the_model_next_to_the_baselines(vowel_run) -> None:
    test = vowel_run.metrics["test"]
    assert set(test) == {"model", "majority", "logistic"}
    for row in test.values():
        assert set(row) == {"accuracy", "balanced_accuracy", "macro_f1", "log_loss"}
    n_test = vowel_run.metrics["n_test_sequences"]
    assert n_test == int((vowel_run.dataset.given_split == "test").sum())
    assert np.asarray(vowel_run.metrics["confusion"]["model"]).sum() == n_test
    assert len(vowel_run.predictions) == n_test
    assert test["logistic"]["accuracy"] > 0.5 > test["majority"]["accuracy"]  # speakers are easy for the summary
    assert "baseline" in vowel_run.metrics["verdict"] or "beats" in vowel_run.metrics["verdict"]


def test_metrics_by_hand() -> None:
    y = np.array([0, 0, 1, 1, 2])
    proba = np.eye(3)[[0, 1, 1, 1, 0]] * 0.9 + 0.1 / 3
    m = classification_metrics(y, proba)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["balanced_accuracy"] == pytest.approx((0.5 + 1 + 0) / 3)
    f1 = [2 * 0.5 * 0.5 / 1.0, 2 * (2 / 3) * 1 / (2 / 3 + 1), 0.0]
    assert m["macro_f1"] == pytest.approx(np.mean(f1))


def test_run_folder_reload_and_export(vowel_run, tmp_path: Path) -> None:
    folder = save_run(vowel_run, tmp_path / "run")
    assert {"classes.json", "scaler.json", "data.csv.gz", "predictions.csv"} <= {p.name for p in folder.iterdir()}
    back = load_run(folder)
    assert back.classes == vowel_run.classes and back.metrics["test"] == vowel_run.metrics["test"]
    items = [vowel_run.prepared().items[i] for i in vowel_run.prepared().indices("test")]
    np.testing.assert_allclose(back.predict_proba(back.encode(back.dataset))[vowel_run.prepared().part == 2],
                               vowel_run.predict_proba(items), atol=1e-6)
    from rnnlab.archive import load_run_archive, zip_run

    unzipped = load_run_archive(zip_run(folder), tmp_path / "unzipped")
    assert unzipped.metrics["test"] == vowel_run.metrics["test"] and unzipped.encoder == back.encoder
    spec = get_task("classify").export_spec(back)
    assert len(set(spec.check[1].tolist())) > 3  # checked on a batch of mixed lengths
    for fmt in ("onnx", "torchscript"):
        assert export_run(back, fmt, tmp_path / f"m.{fmt}")  # parity with torch is checked inside


def test_text_sequences_train_and_classify_typed_names(names: SequenceDataset) -> None:
    run = pipeline.fit(names, RunConfig.defaults("classify", dataset="names-sex", bidirectional=True,
                                                 pooling="mean", **TINY))
    proba = run.predict_texts(["Mary", "John", "Zzyzx"])  # an unseen character maps to "unknown"
    assert proba.shape == (3, 2) and np.allclose(proba.sum(1), 1)
    assert run.model.shape.vocab_size == run.encoder.size


def csv_file(tmp_path: Path, rows: list[str], name: str = "seq.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def long_rows(n: int = 12, classes: int = 2) -> list[str]:
    rows = ["sequence_id,step,a,b,label"]
    for s in range(n):
        for t in range(2 + s % 4):
            rows.append(f"s{s},{t},{s * 0.1 + t},{t % 2},{'c' + str(s % classes)}")
    return rows


def test_user_csv_trains_and_bad_csvs_say_what_is_wrong(tmp_path: Path) -> None:
    task = get_task("classify")
    ds = task.load_data(csv_file(tmp_path, long_rows()), RunConfig.defaults("classify"))
    assert (len(ds), ds.n_features, ds.classes) == (12, 2, ["c0", "c1"])
    run = pipeline.fit(ds, RunConfig.defaults("classify", **TINY))
    assert run.metrics["n_test_sequences"] >= 2
    cfg = RunConfig.defaults("classify")
    varying = long_rows()
    varying[2] = varying[2].replace(",c0", ",c1")
    cases = {"varies": varying, "single class": long_rows(classes=1),
             "not numeric": [r if i != 3 else "s0,1,abc,1,c0" for i, r in enumerate(long_rows())]}
    for expected, rows in cases.items():
        with pytest.raises(DataError) as err:
            task.load_data(csv_file(tmp_path, rows, "bad.csv"), cfg)
        text = str(err.value).lower()
        assert {"varies": "label", "single class": "class", "not numeric": "numeric"}[expected] in text, text
    with pytest.raises(DataError, match="japanese-vowels"):
        task.load_data("no-such-dataset", cfg)
    with pytest.raises(DataError, match="sequence_id"):
        task.load_data(csv_file(tmp_path, [r.replace("sequence_id", "sid") for r in long_rows()], "noid.csv"), cfg)


def test_cli_train_and_predict_a_user_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rnnlab.cli import main

    data = csv_file(tmp_path, long_rows(16))
    out = tmp_path / "run"
    assert main(["train", "--task", "classify", "--data", data, "--epochs", "2", "--hidden-size", "8",
                 "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "majority" in printed and "logistic" in printed and "accuracy" in printed
    assert main(["predict", "--run", str(out), "--data", data, "--out", str(tmp_path / "p.csv")]) == 0
    import pandas as pd

    preds = pd.read_csv(tmp_path / "p.csv")
    assert list(preds.columns[:3]) == ["id", "predicted", "confidence"] and len(preds) == 16
    np.testing.assert_allclose(preds[["p_c0", "p_c1"]].sum(axis=1), 1, atol=1e-6)
    assert main(["train", "--task", "classify", "--horizon", "3", "--out", str(tmp_path / "x")]) == 2
    assert "--horizon" in capsys.readouterr().err


def test_accuracy_by_length_names_its_bins_in_steps(vowel_run) -> None:
    """The Errors page's bins read as the lengths they hold ("7-9"), in order, covering every test sequence."""
    from rnnlab.tasks.classify.evaluate import accuracy_by_length

    table = accuracy_by_length(vowel_run)
    bounds = [tuple(int(x) for x in name.split("-")) if "-" in name else (int(name),) * 2 for name in table["lengths"]]
    assert all(lo <= hi for lo, hi in bounds) and all(a[1] < b[0] for a, b in zip(bounds, bounds[1:]))
    assert table["n"].sum() == len(vowel_run.predictions)
    assert table["model"].between(0, 1).all() and table["logistic"].between(0, 1).all()
