"""Sweep logic with tiny trials in one process: spaces, the default space, the worker loop on
SQLite, pruning and its epoch count, the test span scored once, the surplus rule, the retry of a
dead worker's trial, and the CLI's space printing. Real worker processes: test_sweep_workers.py."""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

import numpy as np
import optuna
import pytest

from rnnlab.cli import main
from rnnlab.errors import ConfigError
from rnnlab.settings import RunConfig
from rnnlab.store import RunStore
from rnnlab.sweep import (
    Param,
    SweepSpec,
    Worker,
    default_params,
    default_space,
    load_space,
    open_storage,
    open_study,
    parse_space,
    score_test,
    summarize,
    to_toml,
    trials_frame,
)
from rnnlab.sweep.study import SurplusTrial, make_pruner, redact
from tests.conftest import make_dataset

TINY = {"epochs": 3, "patience": 0, "num_layers": 1, "seq_len": 12, "horizon": 2, "batch_size": 64}


def tiny_spec(tmp_path, **kw) -> SweepSpec:
    space = kw.pop("space", {"hidden_size": Param("hidden_size", "int", 4, 12), "cell": Param("cell", "choice",
                                                                                             choices=("gru", "lstm"))})
    base = kw.pop("base", RunConfig(dataset="sine", **TINY))
    return SweepSpec(base, space, storage=f"sqlite:///{tmp_path / 'sweeps.db'}", study=kw.pop("study", "s"),
                     heartbeat=kw.pop("heartbeat", 1), **kw)


# ----------------------------------------------------------------------------- spaces
def test_space_files_in_toml_and_json(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text('epochs = 5\n[hidden_size]\nlow = 8\nhigh = 64\nlog = true\n[cell]\nchoices = ["gru", "lstm"]\n'
                    '[num_layers]\nlow = 1\nhigh = 3\n')
    space = load_space(toml, "forecast")
    assert space["epochs"] == 5 and space["hidden_size"] == Param("hidden_size", "int", 8, 64, log=True)
    assert space["cell"].choices == ("gru", "lstm") and space["num_layers"].describe() == "1..3"
    js = tmp_path / "s.json"
    js.write_text(json.dumps({"lr": {"low": 1e-4, "high": 1e-2, "log": True}}))
    assert load_space(js, "forecast")["lr"].describe() == "0.0001..0.01 (log)"
    assert parse_space(tomllib.loads(to_toml(space)), "forecast") == space  # printed spaces read back


@pytest.mark.parametrize("doc,needle", [
    ({"hiden_size": {"low": 1, "high": 2}}, "unknown setting 'hiden_size'"),
    ({"hidden_size": {"low": 0, "high": 8}}, "hidden_size=0 is out of range"),
    ({"lr": {"low": 0.0001, "high": 2.0}}, "lr=2 is out of range"),
    ({"hidden_size": {"low": 64, "high": 8}}, "must be below high"),
    ({"dropout": {"low": 0.0, "high": 0.5, "log": True}}, "log scale needs low > 0"),
    ({"cell": {"choices": ["lstm", "transformer"]}}, "cell='transformer' is not valid"),
    ({"cell": {"choices": []}}, "non-empty list"),
    ({"target": {"choices": ["a", "b"]}}, "cannot search 'target'"),
    ({"hidden_size": {"low": 8, "high": 64, "steps": 8}}, "unknown key(s) ['steps']"),
    ({"epochs": 5}, "fixes every setting"),
    ({"seq_len": {"choices": [None, 20]}}, "'auto' (none) cannot be a choice"),
])
def test_bad_space_entries_name_the_rule(doc, needle):
    with pytest.raises(ConfigError) as info:
        parse_space(doc, "forecast")
    assert needle in str(info.value)


def test_bad_space_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[hidden_size\nlow = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_space(bad, "forecast")
    with pytest.raises(ConfigError, match="cannot read the space file"):
        load_space(tmp_path / "missing.json", "forecast")


def test_default_space_follows_the_data(sine_dataset):
    base = RunConfig(dataset="sine")
    space, resolved = default_space(sine_dataset, base)
    assert {"cell", "hidden_size", "num_layers", "dropout", "lr", "batch_size", "seq_len", "transform"} <= set(space)
    assert space["transform"].choices == ("level", "diff", "log_return")  # a positive series
    assert space["seq_len"].low <= resolved["seq_len"] <= space["seq_len"].high
    defaults = default_params(space, base, resolved)
    assert defaults is not None and defaults["cell"] == "lstm" and defaults["seq_len"] == resolved["seq_len"]
    assert defaults["transform"] == resolved["transform"] != "auto"
    rng = np.random.default_rng(0)
    below_zero = make_dataset(np.sin(np.arange(600) / 9) + 0.1 * rng.standard_normal(600))
    space, _ = default_space(below_zero, base)
    assert "log_return" not in space["transform"].choices


def test_pruners_and_urls():
    assert isinstance(make_pruner("median"), optuna.pruners.MedianPruner)
    assert isinstance(make_pruner("halving"), optuna.pruners.SuccessiveHalvingPruner)
    assert isinstance(make_pruner("none"), optuna.pruners.NopPruner)
    assert redact("postgresql://me:secret@db:5432/x") == "postgresql://me:***@db:5432/x"
    with pytest.raises(ConfigError, match="trials=0"):
        tiny_spec(Path("/tmp"), trials=0)


# ----------------------------------------------------------------------------- the worker
def test_a_small_sweep_trains_every_trial_into_the_store_and_scores_the_test_span_once(
        sine_dataset, tmp_path, monkeypatch):
    from rnnlab.tasks.forecast import ForecastTask

    evaluated: list[str] = []
    real = ForecastTask.evaluate
    monkeypatch.setattr(ForecastTask, "evaluate", lambda self, run: (evaluated.append(run.id), real(self, run))[1])
    store = RunStore(tmp_path / "store")
    spec = tiny_spec(tmp_path, trials=4, defaults={"hidden_size": 8, "cell": "lstm"})
    seen = []
    worker = Worker(sine_dataset, spec, store, on_trial=lambda t: seen.append(t.number))
    study = worker.run()
    assert worker.created and worker.ran == [0, 1, 2, 3] and seen == [0, 1, 2, 3]
    assert evaluated == []  # the search never touched the test span
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4
    assert trials[0].params == {"hidden_size": 8, "cell": "lstm"} and trials[0].user_attrs["defaults"]
    entries = {e.id: e for e in store.list()}
    assert len(entries) == 4
    for t in trials:
        e = entries[t.user_attrs["run_id"]]
        assert e.sweep["study"] == "s" and e.sweep["trial"] == t.number and e.withheld == ("test",)
        assert e.sweep["value"] == pytest.approx(t.value) and e.sweep["params"] == t.params
        assert e.model == f"{t.params['cell']} h{t.params['hidden_size']}x1"
    frame = trials_frame(study)
    assert list(frame["number"]) == [0, 1, 2, 3] and {"param hidden_size", "param cell"} <= set(frame.columns)
    assert frame["best_so_far"].is_monotonic_decreasing
    summary = summarize(study)
    best = min(trials, key=lambda t: t.value)
    assert summary.best["number"] == best.number and summary.states == {"complete": 4}
    assert summary.epochs_run == 12 and summary.epochs_saved == 0
    score_test(summary, store)
    expected = {best.user_attrs["run_id"], trials[0].user_attrs["run_id"]}
    assert set(evaluated) == expected  # scored: the best trial and the defaults trial, nothing else
    assert "best" in store.get(best.user_attrs["run_id"]).tags
    assert summary.test["best"]["model"]["rmse"] > 0 and "naive" in summary.test["best"]
    again = summarize(study)
    score_test(again, store)  # already scored: read, not scored again
    assert set(evaluated) == expected and len(evaluated) == len(expected)
    # the value minimised is the validation RMSE in original units of the kept weights
    run = store.open(best.user_attrs["run_id"])
    assert run.metrics["val"]["model"]["rmse"] == pytest.approx(best.value, rel=1e-4)


def test_poor_trials_are_pruned_and_the_saved_epochs_counted(sine_dataset, tmp_path):
    store = RunStore(tmp_path / "store")
    space = {"lr": Param("lr", "choice", choices=(3e-3, 1e-6)), "hidden_size": Param("hidden_size", "int", 8, 9)}
    # no highway: it would start every trial at the linear fit, so a learning rate of 1e-6 would not look poor
    spec = tiny_spec(tmp_path, trials=6, space=space, base=RunConfig(dataset="sine", **{**TINY, "epochs": 10, "highway": 0}))
    study, _ = open_study(spec, open_storage(spec.storage, 1))
    for lr in (3e-3, 3e-3, 3e-3, 3e-3, 1e-6, 1e-6):  # four good trials first: the median pruner's start-up
        study.enqueue_trial({"lr": lr, "hidden_size": 8})
    Worker(sine_dataset, spec, store).run()
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4 + ["PRUNED"] * 2
    for t in trials[4:]:
        assert t.user_attrs["pruned_at"] == 3 and t.user_attrs["epochs"] == 3  # never before epoch 3 (warm-up)
        run = store.open(t.user_attrs["run_id"])
        assert run.train_info["stop_reason"] == "pruned" and "pruned by the sweep's median pruner" in \
            run.train_info["message"] and len(run.history) == 3
    s = summarize(study)
    assert s.states == {"complete": 4, "pruned": 2} and s.epochs_run == 4 * 10 + 2 * 3
    assert s.epochs_run_pruned == 6 and s.epochs_saved == 14 and s.share_saved == pytest.approx(14 / 60)


def test_a_trial_numbered_past_the_total_never_trains(sine_dataset, tmp_path):
    store = RunStore(tmp_path / "store")
    spec = tiny_spec(tmp_path, trials=1)
    worker = Worker(sine_dataset, spec, store)
    worker.run()
    study = worker.study
    study.optimize(worker._objective, n_trials=1, catch=(SurplusTrial,))  # as if a second worker raced in
    t = study.get_trials()[-1]
    assert t.state.name == "FAIL" and t.user_attrs["surplus"] and len(store.list()) == 1
    assert summarize(study).states == {"complete": 1, "surplus": 1}


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # the dead worker's trial is made by hand (ask)
def test_a_dead_workers_trial_is_failed_and_retried_with_its_settings(sine_dataset, tmp_path):
    store = RunStore(tmp_path / "store")
    spec = tiny_spec(tmp_path, trials=1)
    storage = open_storage(spec.storage, 1)
    study, _ = open_study(spec, storage)
    dead = study.ask()  # a worker took trial 0, drew its settings, beat once, then died
    params = {name: p.suggest(dead) for name, p in spec.space.items()}
    storage.record_heartbeat(dead._trial_id)
    time.sleep(4.5)  # past the grace period (4 x 1 s)
    t0 = time.monotonic()
    Worker(sine_dataset, spec, store).run()
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    assert trials[1].system_attrs["failed_trial"] == 0 and trials[1].params == params
    assert store.get(trials[1].user_attrs["run_id"]).sweep["retry_of"] == 0
    assert time.monotonic() - t0 < 60


def test_joining_a_study_of_another_sweep_is_refused(sine_dataset, tmp_path):
    spec = tiny_spec(tmp_path, trials=1)
    Worker(sine_dataset, spec, RunStore(tmp_path / "a")).run()
    other = tiny_spec(tmp_path, trials=1, base=RunConfig(dataset="other", **TINY))
    with pytest.raises(ConfigError, match="was made for another sweep.*dataset: 'sine'"):
        Worker(sine_dataset, other, RunStore(tmp_path / "b")).run()


def test_cli_prints_the_default_space_and_refuses_a_clash(capsys, tmp_path):
    assert main(["sweep", "--data", "stocks-monthly", "--print-space"]) == 0
    space = parse_space(tomllib.loads(capsys.readouterr().out), "forecast")
    assert {"cell", "hidden_size", "lr", "seq_len", "transform"} <= set(space)
    assert main(["sweep", "--data", "stocks-monthly", "--cell", "gru", "--print-space"]) == 0
    assert "[cell]" not in capsys.readouterr().out  # a flag fixes the setting: no longer searched
    f = tmp_path / "s.toml"
    f.write_text("[cell]\nchoices = ['gru', 'lstm']\n")
    assert main(["sweep", "--data", "stocks-monthly", "--cell", "gru", "--space", str(f)]) == 2
    assert "--cell fix(es) a setting the space file searches" in capsys.readouterr().err


def test_the_report_says_when_the_best_trial_loses_on_the_test_span():
    from rnnlab.sweep import SweepSummary, format_report

    def table(model, naive, linear):
        return {"model": {"rmse": model}, "naive": {"rmse": naive}, "linear": {"rmse": linear}}

    s = SweepSummary(study="s", objective="validation RMSE (original units)", target_trials=3,
                     states={"complete": 3}, best={"number": 2, "value": 3.2, "params": {"cell": "gru"},
                                                   "run_id": "b"},
                     defaults={"number": 0, "value": 3.4, "params": {"cell": "lstm"}, "run_id": "d"},
                     epochs_run=30, epochs_run_pruned=0, epochs_saved=0.0, share_saved=0.0, wall_seconds=10.0,
                     test={"best": table(4.5, 4.4, 3.4), "defaults": table(3.8, 4.4, 3.7)})
    v = s.verdict()
    assert "the baselines that beat it: naive (4.4), linear (3.4)" in v and "default settings do better there (3.8)" in v
    assert v in format_report(s)
    s.test = {"best": table(3.0, 4.4, 3.4), "defaults": table(3.8, 4.4, 3.7)}
    assert "it beats every baseline; the default settings score 3.8" in s.verdict()
