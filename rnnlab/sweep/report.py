"""What a sweep found: its trials as a table, the best trial, what pruning saved, and the test
span scored once, for the best trial (and for the trial of the default settings: a reference
fixed before the search, never a choice made by it)."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from rnnlab.errors import RnnlabError
from rnnlab.store import RunStore

STATE_WORDS = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
               "WAITING": "waiting"}


def trials_frame(study: Any) -> pd.DataFrame:
    """One row per trial: number, state, value (the validation score), best so far (over finished
    trials in number order), epochs run, pruned_at, run id, worker, retry_of, then one column per
    searched setting."""
    rows = []
    best = math.inf
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        state = STATE_WORDS.get(t.state.name, t.state.name.lower())
        value = t.value if t.value is not None and t.state.name in ("COMPLETE", "PRUNED") else float("nan")
        if t.state.name == "COMPLETE" and value < best:
            best = value
        u = t.user_attrs
        if u.get("surplus"):
            state = "surplus"
        rows.append({
            "number": t.number, "state": state, "value": value, "best_so_far": best if math.isfinite(best) else math.nan,
            "epochs": u.get("epochs"), "pruned_at": u.get("pruned_at") or None, "max_epochs": u.get("max_epochs"),
            "run_id": u.get("run_id", ""), "worker": u.get("worker", ""), "defaults": bool(u.get("defaults")),
            "retry_of": t.system_attrs.get("failed_trial"), "seconds": u.get("seconds"),
            "start": t.datetime_start, "end": t.datetime_complete, **{f"param {k}": v for k, v in t.params.items()},
        })
    return pd.DataFrame(rows)


@dataclass
class SweepSummary:
    """The numbers of a study (``to_dict`` for ``--json``)."""

    study: str
    objective: str  # what was minimised, in words
    target_trials: int
    states: dict[str, int]  # state -> trials
    best: dict[str, Any] | None  # number, value, params, run_id, store, epochs
    defaults: dict[str, Any] | None  # the trial of the default settings, when the study ran one
    epochs_run: int  # by every finished trial
    epochs_run_pruned: int  # by the pruned trials
    epochs_saved: float  # estimate: what the pruned trials would have run more (the finished trials' median)
    share_saved: float  # epochs_saved / (epochs_run + epochs_saved)
    wall_seconds: float  # first trial start to last trial end
    test: dict[str, Any] = field(default_factory=dict)  # role (best, defaults) -> test table, once scored
    test_note: str = ""

    def verdict(self, metric: str = "rmse") -> str:
        """The test span in words: whether the best trial beats the baselines and the default settings
        there (a search can fit the validation span and lose on the test span: say so)."""
        best = self.test.get("best", {})
        mine = best.get("model", {}).get(metric)
        if not isinstance(mine, (int, float)):
            return ""
        name = metric.upper()
        beaten_by = [f"{who} ({row[metric]:.4g})" for who, row in best.items()
                     if who != "model" and isinstance(row.get(metric), (int, float)) and row[metric] < mine]
        words = [f"On the test span the best trial's {name} is {mine:.4g}"]
        words.append(f"; the baselines that beat it: {', '.join(beaten_by)}" if beaten_by
                     else "; it beats every baseline")
        ref = self.test.get("defaults", {}).get("model", {}).get(metric)
        if isinstance(ref, (int, float)) and self.defaults and self.best and self.defaults["number"] != self.best["number"]:
            if ref < mine:
                words.append(f"; the default settings do better there ({ref:.4g}): the search fitted the validation "
                             f"span, and its choice does not carry over to the test span")
            else:
                words.append(f"; the default settings score {ref:.4g}")
        return "".join(words) + "."

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _trial_doc(t: Any) -> dict[str, Any]:
    u = t.user_attrs
    return {"number": t.number, "value": t.value, "params": dict(t.params), "run_id": u.get("run_id", ""),
            "store": u.get("store", ""), "worker": u.get("worker", ""), "epochs": u.get("epochs"),
            "best_epoch": u.get("best_epoch")}


def summarize(study: Any) -> SweepSummary:
    trials = study.get_trials(deepcopy=False)
    states: dict[str, int] = {}
    for t in trials:
        name = "surplus" if t.user_attrs.get("surplus") else STATE_WORDS.get(t.state.name, t.state.name.lower())
        states[name] = states.get(name, 0) + 1
    complete = [t for t in trials if t.state.name == "COMPLETE" and t.value is not None and math.isfinite(t.value)]
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    best = min(complete, key=lambda t: t.value) if complete else None
    defaults = next((t for t in sorted(complete, key=lambda t: t.number) if t.user_attrs.get("defaults")), None)
    ran_complete = [int(t.user_attrs.get("epochs") or 0) for t in complete]
    ran_pruned = [int(t.user_attrs.get("epochs") or 0) for t in pruned]
    typical = statistics.median(ran_complete) if ran_complete else max(
        (int(t.user_attrs.get("max_epochs") or 0) for t in pruned), default=0)
    saved = float(sum(max(0.0, typical - r) for r in ran_pruned))
    run_total = sum(ran_complete) + sum(ran_pruned)
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    wall = (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0
    return SweepSummary(
        study=study.study_name, objective=str(study.user_attrs.get("objective", "validation loss")),
        target_trials=int(study.user_attrs.get("trials", 0) or 0), states=states,
        best=_trial_doc(best) if best else None, defaults=_trial_doc(defaults) if defaults else None,
        epochs_run=run_total, epochs_run_pruned=sum(ran_pruned), epochs_saved=saved,
        share_saved=saved / (run_total + saved) if run_total + saved else 0.0, wall_seconds=wall)


def score_test(summary: SweepSummary, store: RunStore) -> None:
    """Score the test span of the best trial (and of the defaults trial) once: the run is opened
    (:func:`rnnlab.runs.load_run` scores a run whose test span was withheld) and saved back with its
    scores and the tag ``best``; a run already scored is only read. Runs kept in another machine's
    store are named in ``test_note``."""
    notes = []
    for role, doc in (("best", summary.best), ("defaults", summary.defaults)):
        if not doc or not doc.get("run_id"):
            continue
        if role == "defaults" and summary.best and doc["number"] == summary.best["number"]:
            summary.test["defaults"] = summary.test.get("best", {})
            continue
        try:
            entry = store.get(doc["run_id"])
        except RnnlabError:
            notes.append(f"trial {doc['number']}'s run {doc['run_id']} is not in this store ({store.root}); it was "
                         f"saved by {doc.get('worker') or 'another worker'} in {doc.get('store') or 'its store'}")
            continue
        if entry.withheld:
            run = store.open(entry.id)  # scores the test span now
            if role == "best":
                run.meta["tags"] = sorted({*run.meta.get("tags", []), "best"})
            entry = store.save(run)
        summary.test[role] = entry.summary.get("test", {})
    summary.test_note = "; ".join(notes)


def importances(study: Any) -> dict[str, float]:
    """Hyperparameter importances of the complete trials (``optuna.importance``, its default
    evaluator); empty when there are too few trials to say."""
    import warnings

    import optuna

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            values = dict(optuna.importance.get_param_importances(study))
        except (ValueError, RuntimeError, ZeroDivisionError, IndexError):
            return {}
    if any("too small" in str(w.message) for w in caught):  # Optuna would report equal importances
        return {}
    return values


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else "n/a"
    return str(v)


def format_report(s: SweepSummary) -> str:
    """The plain-text report of ``python -m rnnlab sweep``."""
    lines = [f"study {s.study}: " + ", ".join(f"{n} {k}" for k, n in sorted(s.states.items()))
             + f" (target {s.target_trials}); {s.wall_seconds:.0f} s from the first trial's start to the last's end"]
    lines.append(f"minimised: {s.objective} (the test span plays no part in the search)")
    if s.best is None:
        lines.append("no trial completed yet")
        return "\n".join(lines)
    b = s.best
    lines.append(f"best: trial {b['number']}  {s.objective.split(' (')[0]} {_fmt(b['value'])}  run {b['run_id']}")
    lines.append("  settings: " + ", ".join(f"{k}={_fmt(v)}" for k, v in b["params"].items()))
    if s.defaults and s.defaults["value"]:
        d = s.defaults
        lines.append(f"default settings: trial {d['number']}  {_fmt(d['value'])}  run {d['run_id']}  (the best trial "
                     f"is {1 - b['value'] / d['value']:.1%} lower on validation)")
    for role in ("best", "defaults"):
        table = s.test.get(role)
        if not table:
            continue
        lines.append("test span, " + ("best trial (scored once, after the search):" if role == "best"
                                      else "default settings (the reference, fixed before the search):"))
        metrics = [m for m in ("rmse", "mae", "mase") if m in table.get("model", {})] or list(table.get("model", {}))[:4]
        for who, row in table.items():
            lines.append(f"  {who:<15}" + "  ".join(f"{m.upper()} {_fmt(row.get(m, float('nan')))}" for m in metrics))
    if s.verdict():
        lines.append(s.verdict())
    if s.test_note:
        lines.append(s.test_note)
    lines.append(f"pruning: {s.states.get('pruned', 0)} trials pruned after {s.epochs_run_pruned} epochs; about "
                 f"{s.epochs_saved:.0f} epochs saved ({s.share_saved:.0%} of {s.epochs_run + s.epochs_saved:.0f}; "
                 f"estimate: each pruned trial would have run the finished trials' median epochs)")
    return "\n".join(lines)
