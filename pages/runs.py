"""Runs & export: every run of the run store (made by the app, the CLI or a sweep; or, in session
mode, this session's runs) in a sortable, filterable table; rename, tag, annotate and delete a
run (deleting asks first); downloads (run folder zip, ONNX, TorchScript); overlays of two to four
runs; re-importing a run zip. Runs are listed from their config.json: only the runs a section
shows in detail are loaded."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from rnnlab.data.builtin import value_title
from ui import charts, runstore, state
from ui.common import ensure_entry_script, guard

ensure_entry_script()

K_COMPARE, K_EXPORT, K_UPLOAD = "runs.compare", "runs.export", "runs.upload"
K_UPLOAD_ERROR, K_CONFIRM = "runs.upload_error", "runs.confirm_delete"
K_DATASETS, K_TASKS, K_SWEEPS, K_SORT = "runs.f_datasets", "runs.f_tasks", "runs.f_sweeps", "runs.sort"
FORMATS = {"onnx": ("ONNX", ".onnx", "application/octet-stream"),
           "torchscript": ("TorchScript", ".pt", "application/octet-stream")}
HEADLINE = ("rmse", "mae", "accuracy", "loss", "perplexity")  # metric columns, in this order, where runs have them
SWEEP_ALL, SWEEP_NONE = "all runs", "no sweep trials"


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def _metric_names(items: list[Any]) -> list[str]:
    have = {k for e in items for k in e.summary.get("test", {}).get("model", {})}
    names = [m for m in HEADLINE if m in have]
    return names[:2] or sorted(have)[:2]


def _row(e: Any, metrics: list[str]) -> dict[str, Any]:
    test = e.summary.get("test", {})
    row: dict[str, Any] = {"run": e.label, "id": e.id, "created": e.created.replace("T", " "), "task": e.task,
                           "dataset": e.dataset, "target": e.target, "model": e.model, "status": e.status,
                           "epochs": e.epochs}
    for m in metrics:
        row[f"test {m}"] = _num(test.get("model", {}).get(m))
    row["naive RMSE"] = _num(test.get("naive", {}).get("rmse"))
    row["skill vs naive"] = _num(e.summary.get("skill_vs_naive"))
    row["validation"] = _num(e.sweep.get("value")) if e.sweep else _num(e.summary.get("val", {}).get("model", {}).get(
        metrics[0] if metrics else "rmse"))
    row.update({"name": e.name, "tags": ", ".join(e.tags), "note": e.note,
                "sweep": f"{e.sweep.get('study')} #{e.sweep.get('trial')}" if e.sweep else "",
                "where": "store" if e.path.parts else "this session"})
    return row


def _filtered(items: list[Any]) -> list[Any]:
    """Filters (dataset, task, sweep) and the sort order chosen above the table."""
    c1, c2, c3, c4 = st.columns([2, 1, 2, 2])
    datasets = sorted({e.dataset for e in items})
    tasks = sorted({e.task for e in items})
    studies = sorted({str(e.sweep.get("study")) for e in items if e.sweep})
    chosen_ds = c1.multiselect("Dataset", datasets, key=K_DATASETS, placeholder="every dataset")
    chosen_tasks = c2.multiselect("Task", tasks, key=K_TASKS, placeholder="every task")
    sweep = c3.selectbox("Sweep trials", [SWEEP_ALL, SWEEP_NONE, *studies], key=K_SWEEPS,
                         help="Show every run, hide the trials of sweeps, or show one study's trials")
    metrics = _metric_names(items)
    sorts = ["newest first", "oldest first", "dataset", "task", *(f"test {m} (lowest first)" for m in metrics[:1]),
             "validation score (lowest first)"]
    order = c4.selectbox("Sort by", sorts, key=K_SORT)
    out = [e for e in items if (not chosen_ds or e.dataset in chosen_ds) and (not chosen_tasks or e.task in chosen_tasks)]
    if sweep == SWEEP_NONE:
        out = [e for e in out if not e.sweep]
    elif sweep != SWEEP_ALL:
        out = [e for e in out if str(e.sweep.get("study")) == sweep]

    def key_metric(e: Any, value: float | None) -> tuple[bool, float]:
        return (value is None, value if value is not None else 0.0)

    if order == "oldest first":
        out = out[::-1]
    elif order in ("dataset", "task"):
        out = sorted(out, key=lambda e: (getattr(e, order), e.created), reverse=False)
    elif order.startswith("test "):
        out = sorted(out, key=lambda e: key_metric(e, _num(e.metric(metrics[0]))))
    elif order.startswith("validation"):
        out = sorted(out, key=lambda e: key_metric(e, _row(e, metrics)["validation"]))
    return out


def _short_labels(runs: list[Any]) -> dict[str, str]:
    """Legend names: the run label without what all compared runs share (dataset/target)."""
    same_data = len({(r.dataset.name, r.config.target) for r in runs}) == 1
    out = {}
    for r in runs:
        data = "" if same_data else f" · {r.data_words}"
        out[r.id] = f"{r.model_words}{data} · {r.meta.get('name') or r.time_words}"
    if len(set(out.values())) < len(out):  # same settings and second: add the id
        out = {rid: f"{name} · {rid[:6]}" for rid, name in out.items()}
    return out


def _build_exports(run: Any) -> None:
    from rnnlab.export import export_run

    cache = state.export_cache()
    for fmt_name in FORMATS:
        if (run.id, fmt_name) not in cache:
            cache[(run.id, fmt_name)] = export_run(run, fmt_name)


def _import(upload: Any) -> None:
    """Load an uploaded run zip once per upload (into the store in store mode); errors stay visible
    while the file is there."""
    from rnnlab.archive import load_run_archive
    from rnnlab.errors import RnnlabError

    if state.upload_seen(upload.file_id):
        err = st.session_state.get(K_UPLOAD_ERROR)
        if err and err[0] == upload.file_id:
            st.error(err[1])
        return
    st.session_state[K_UPLOAD_ERROR] = None
    with guard(f"importing {upload.name}"):
        try:
            with tempfile.TemporaryDirectory(prefix="rnnlab-upload-") as tmp:
                run = load_run_archive(upload.getvalue(), Path(tmp) / "run")
            replaced = run.id in state.get_runs()
            run = runstore.add(run)
        except RnnlabError as exc:
            msg = f"Could not import {upload.name!r}: {exc}. Your runs are unchanged."
            st.session_state[K_UPLOAD_ERROR] = (upload.file_id, msg)
            st.error(msg)
            return
        where = " into the run store" if runstore.mode() == "store" else ""
        state.flash(f"{'Replaced' if replaced else 'Imported'} **{run.label}** from {upload.name}{where}; it is now "
                    "the selected run on every page.", "success")
        st.rerun()


def _compare(items: list[Any]) -> None:
    st.subheader("Compare runs")
    ids = [e.id for e in items]
    labels = {e.id: e.label for e in items}
    chosen = [i for i in st.session_state.get(K_COMPARE, ids[:2]) if i in labels]
    st.session_state[K_COMPARE] = chosen
    chosen = st.multiselect("Runs to overlay", ids, key=K_COMPARE, format_func=lambda i: labels.get(i, i),
                            max_selections=4, help="Pick two (up to four) runs; they are loaded when picked")
    if len(chosen) < 2:
        st.caption("Select at least two runs to overlay their loss curves and predictions.")
        return
    sel = []
    with guard("loading the runs to compare"):
        sel = [runstore.open_run(i, keep=tuple(chosen)) for i in chosen]
    if len(sel) < 2:
        return
    names = _short_labels(sel)
    hist = pd.DataFrame([
        {"run": names[r.id], "epoch": h["epoch"], "train_loss": h.get("train_loss"), "val_loss": h.get("val_loss")}
        for r in sel for h in r.history
    ])
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Loss per epoch** (solid: validation, dashed: train)")
        st.altair_chart(charts.compare_losses(hist, height=320), width="stretch")
    with c2:
        st.markdown("**Test predictions, one step ahead**")
        same = len({(r.dataset.name, r.config.target, len(r.dataset.frame)) for r in sel}) == 1
        if not same:
            st.info("These runs forecast different series; predictions can only be overlaid for runs on the "
                    "same dataset and target.")
        elif any(getattr(r, "predictions", None) is None for r in sel):
            st.info("A selected run has no stored predictions.")
        else:
            first = sel[0].predictions
            first = first[first["step"] == 1]
            parts = [pd.DataFrame({"time": first["target_time"], "series": "actual", "value": first["actual"]})]
            for r in sel:
                p = r.predictions[r.predictions["step"] == 1]
                parts.append(pd.DataFrame({"time": p["target_time"], "series": names[r.id], "value": p["model"]}))
            st.altair_chart(charts.compare_predictions(pd.concat(parts, ignore_index=True),
                                                       y_title=value_title(sel[0].dataset.name, str(sel[0].config.target)),
                                                       height=320), width="stretch")


def _manage(items: list[Any]) -> None:
    """One run: name, tags, note; downloads; delete (asks first)."""
    st.subheader("Manage, download or delete a run")
    by_id = {e.id: e for e in items}
    ids = list(by_id)
    if st.session_state.get(K_EXPORT) not in by_id:
        current = state.selected_id()
        st.session_state[K_EXPORT] = current if current in by_id else ids[0]
    rid = st.selectbox("Run", ids, key=K_EXPORT, format_func=lambda i: by_id[i].label)
    e = by_id[rid]
    bits = [f"id `{e.id}`", e.status, f"{e.epochs} epochs"]
    if e.sweep:
        bits.append(f"sweep **{e.sweep.get('study')}** trial {e.sweep.get('trial')}")
    if "test" in e.withheld:
        bits.append("test span not scored yet (it is scored when the run is opened)")
    st.caption(" · ".join(bits) + (f" · folder `{e.path}`" if e.path.parts else " · this session only (not in the store)"))
    with st.form(f"runs.edit.{rid}", border=False):
        f1, f2 = st.columns([1, 1])
        name = f1.text_input("Name", e.name, max_chars=200)
        tags = f2.text_input("Tags (comma separated)", ", ".join(e.tags))
        note = st.text_area("Note", e.note, height=80, max_chars=10_000)
        if st.form_submit_button("Save name, tags and note", icon=":material/edit:"):
            with guard("saving the run's name, tags and note"):
                runstore.edit(rid, name=name, tags=tags, note=note)
                state.flash(f"Saved the name, tags and note of **{rid}**.", "success")
                st.rerun()

    cache = state.export_cache()
    cols = st.columns(4, vertical_alignment="bottom")
    data = None
    with guard("packing the run folder"):
        data = runstore.zip_bytes(rid)
    if data is not None:
        cols[0].download_button("Run folder (.zip)", data, file_name=f"rnnlab-run-{rid}.zip",
                                mime="application/zip", icon=":material/folder_zip:", on_click="ignore",
                                width="stretch", help="config, weights (safetensors), scaler, metrics, history, "
                                                      "predictions and the data: reloads anywhere")
    ready = all((rid, f) in cache for f in FORMATS)
    if ready:
        for col, (f, (label, ext, mime)) in zip(cols[1:3], FORMATS.items()):
            col.download_button(f"{label} model ({ext})", cache[(rid, f)], file_name=f"rnnlab-{rid}{ext}",
                                mime=mime, icon=":material/download:", on_click="ignore", width="stretch",
                                help="Scaled input windows → output in model space; the scaler.json in the run zip "
                                     "maps to and from original units")
    elif cols[1].button("Prepare ONNX + TorchScript", icon=":material/build:", width="stretch",
                        help="Export the model and check both exports against torch on test windows"):
        with guard("exporting the model"):
            with st.spinner("Exporting and checking against torch…"):
                _build_exports(runstore.open_run(rid))
            st.rerun()
    if cols[3].button("Delete run", icon=":material/delete:", width="stretch",
                      help="Remove this run (from the run store: its folder is deleted); asks first"):
        st.session_state[K_CONFIRM] = rid
    if ready:
        st.caption("Both exports were checked against torch on up to 64 test windows (max abs difference ≤ 1e-4).")
    if st.session_state.get(K_CONFIRM) == rid:
        where = "its folder is removed from the run store" if e.path.parts else "it is removed from this session"
        st.warning(f"Delete **{e.label}** for good? {where.capitalize()}; download it first to keep a copy.")
        d1, d2, _ = st.columns([1, 1, 4])
        if d1.button("Yes, delete", type="primary", icon=":material/delete_forever:", width="stretch"):
            st.session_state.pop(K_CONFIRM, None)
            with guard("deleting the run"):
                runstore.delete(rid)
                st.session_state.pop(K_EXPORT, None)
                state.flash(f"Deleted **{e.label}**.", "info")
                st.rerun()
        if d2.button("Cancel", width="stretch"):
            st.session_state.pop(K_CONFIRM, None)
            st.rerun()


# ----------------------------------------------------------------------------- page
st.title("Runs & export")
store_mode = runstore.mode() == "store"
if problem := runstore.mode_problem():
    st.warning(problem)
items = runstore.entries()
if store_mode:
    st.caption(f"Every run of the run store `{runstore.store().root}`: trained here, with the CLI "
               "(`python -m rnnlab train`) or by a sweep. Runs stay after the tab is closed.")
else:
    st.caption("Session-only mode (`RNNLAB_STORE_MODE=session`): runs live in this browser session; download a run "
               "to keep it.")
skipped = runstore.warnings()
if skipped:
    st.warning("Some folders of the run store are not runs and were skipped:\n\n"
               + "\n".join(f"- {w}" for w in skipped[:20]) + ("\n- …" if len(skipped) > 20 else ""))

if not items:
    st.info("No runs yet" + (" in the run store" if store_mode else " in this session")
            + ". Train one on the **Train** page, or import a run zip below.")
else:
    shown = _filtered(items)
    metrics = _metric_names(items)
    st.subheader(f"Runs ({len(shown)} of {len(items)})")
    if shown:
        table = pd.DataFrame([_row(e, metrics) for e in shown])
        st.dataframe(
            table, hide_index=True, width="stretch",
            column_config={
                "run": st.column_config.TextColumn("run", width="large", pinned=True),
                "id": st.column_config.TextColumn("id", width="small"),
                **{f"test {m}": st.column_config.NumberColumn(format="%.4g") for m in metrics},
                "naive RMSE": st.column_config.NumberColumn(format="%.4g", help="Repeating the last value"),
                "skill vs naive": st.column_config.NumberColumn(format="percent", help="1 − RMSE/RMSE(naive)"),
                "validation": st.column_config.NumberColumn(
                    format="%.4g", help="Sweep trials: the score the sweep minimised (their test span is scored only "
                                        "when opened); other runs: the validation span's score"),
            },
        )
        _compare(shown)
        _manage(shown)
    else:
        st.info("No run matches the filters.")

# ----------------------------------------------------------------------------- import
st.subheader("Import a run")
upload = st.file_uploader("Run zip (downloaded from this page or written by `python -m rnnlab train`)",
                          type=["zip"], key=K_UPLOAD)
if upload is not None:
    _import(upload)
