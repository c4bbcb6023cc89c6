"""Runs & export: this session's runs side by side, overlays of two or more runs,
downloads (run folder zip, ONNX, TorchScript), re-importing a run zip, deleting runs."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from ui import charts, state
from ui.common import ensure_entry_script, guard

ensure_entry_script()

K_COMPARE, K_EXPORT, K_UPLOAD = "runs.compare", "runs.export", "runs.upload"
K_UPLOAD_ERROR = "runs.upload_error"
FORMATS = {"onnx": ("ONNX", ".onnx", "application/octet-stream"),
           "torchscript": ("TorchScript", ".pt", "application/octet-stream")}


def _row(run: Any) -> dict[str, Any]:
    c, m = run.config, run.metrics
    test = m.get("test", {})
    return {
        "run": run.label,
        "id": run.id,
        "test RMSE": test.get("model", {}).get("rmse"),
        "naive RMSE": test.get("naive", {}).get("rmse"),
        "skill vs naive": m.get("skill_vs_naive"),
        "test MAE": test.get("model", {}).get("mae"),
        "dataset": run.dataset.name,
        "target": c.target,
        "features": ", ".join(c.features) or "–",
        "cell": c.cell,
        "hidden": c.hidden_size,
        "layers": c.num_layers,
        "bidir": c.bidirectional,
        "seq_len": c.seq_len,
        "horizon": c.horizon,
        "transform": m.get("transform", c.transform),
        "epochs": len(run.history),
        "best epoch": run.train_info.get("best_epoch"),
        "stop": run.train_info.get("stop_reason", ""),
        "seconds": run.train_info.get("seconds"),
        "origin": "uploaded" if run.meta.get("loaded_from") else "trained",
    }


def _short_labels(runs: list[Any]) -> dict[str, str]:
    """Legend names: the run label without what all compared runs share (dataset/target)."""
    same_data = len({(r.dataset.name, r.config.target) for r in runs}) == 1
    out = {}
    for r in runs:
        data = "" if same_data else f" · {r.data_words}"
        out[r.id] = f"{r.model_words}{data} · {r.time_words}"
    if len(set(out.values())) < len(out):  # same settings and second: add the id
        out = {rid: f"{name} · {rid[:6]}" for rid, name in out.items()}
    return out


def _zip_bytes(run: Any) -> bytes:
    from rnnlab.archive import zip_run
    from rnnlab.runs import save_run

    cache = state.export_cache()
    key = (run.id, "zip")
    if key not in cache:
        with tempfile.TemporaryDirectory(prefix="rnnlab-run-") as tmp:
            cache[key] = zip_run(save_run(run, Path(tmp) / run.id))
    return cache[key]


def _build_exports(run: Any) -> None:
    from rnnlab.export import export_run

    cache = state.export_cache()
    for fmt_name in FORMATS:
        if (run.id, fmt_name) not in cache:
            cache[(run.id, fmt_name)] = export_run(run, fmt_name)


def _import(upload: Any) -> None:
    """Load an uploaded run zip once per upload; errors stay visible while the file is there."""
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
        except RnnlabError as exc:
            msg = f"Could not import {upload.name!r}: {exc}. Your runs are unchanged."
            st.session_state[K_UPLOAD_ERROR] = (upload.file_id, msg)
            st.error(msg)
            return
        replaced = run.id in state.get_runs()
        state.add_run(run)
        state.flash(f"{'Replaced' if replaced else 'Imported'} **{run.label}** from {upload.name}; it is now the "
                    "selected run on every page.", "success")
        st.rerun()


st.title("Runs & export")
runs = state.get_runs()

if not runs:
    st.info("No runs yet in this session. Train one on the **Train** page, or import a run zip below.")
else:
    # ------------------------------------------------------------------------- comparison table
    st.subheader("This session's runs")
    table = pd.DataFrame([_row(r) for r in reversed(list(runs.values()))])
    st.dataframe(
        table, hide_index=True, width="stretch",
        column_config={
            "run": st.column_config.TextColumn("run", width="large", pinned=True),
            "id": None,
            "test RMSE": st.column_config.NumberColumn(format="%.4g"),
            "test MAE": st.column_config.NumberColumn(format="%.4g"),
            "naive RMSE": st.column_config.NumberColumn(format="%.4g"),
            "skill vs naive": st.column_config.NumberColumn(format="percent", help="1 − RMSE/RMSE(naive)"),
            "seconds": st.column_config.NumberColumn(format="%.1f"),
            "bidir": st.column_config.CheckboxColumn("bidir"),
        },
    )

    # ------------------------------------------------------------------------- overlays
    st.subheader("Compare runs")
    ids = list(reversed(list(runs)))
    chosen = [i for i in st.session_state.get(K_COMPARE, ids[:2]) if i in runs]
    st.session_state[K_COMPARE] = chosen
    chosen = st.multiselect("Runs to overlay", ids, key=K_COMPARE, format_func=lambda i: runs[i].label,
                            max_selections=4, help="Pick two (up to four) runs")
    if len(chosen) < 2:
        st.caption("Select at least two runs to overlay their loss curves and predictions.")
    else:
        sel = [runs[i] for i in chosen]
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
            elif any(r.predictions is None for r in sel):
                st.info("A selected run has no stored predictions.")
            else:
                first = sel[0].predictions
                first = first[first["step"] == 1]
                parts = [pd.DataFrame({"time": first["target_time"], "series": "actual", "value": first["actual"]})]
                for r in sel:
                    p = r.predictions[r.predictions["step"] == 1]
                    parts.append(pd.DataFrame({"time": p["target_time"], "series": names[r.id], "value": p["model"]}))
                st.altair_chart(charts.compare_predictions(pd.concat(parts, ignore_index=True),
                                                           y_title=str(sel[0].config.target), height=320),
                                width="stretch")

    # ------------------------------------------------------------------------- export / delete
    st.subheader("Download or delete a run")
    current = state.selected_run()
    if st.session_state.get(K_EXPORT) not in runs:
        st.session_state[K_EXPORT] = current.id if current is not None else ids[0]
    rid = st.selectbox("Run", ids, key=K_EXPORT, format_func=lambda i: runs[i].label)
    run = runs[rid]
    cache = state.export_cache()
    cols = st.columns(4, vertical_alignment="bottom")
    data = None
    with guard("packing the run folder"):
        data = _zip_bytes(run)
    if data is not None:
        cols[0].download_button("Run folder (.zip)", data, file_name=f"rnnlab-run-{run.id}.zip",
                                mime="application/zip", icon=":material/folder_zip:", on_click="ignore",
                                width="stretch", help="config, weights (safetensors), scaler, metrics, history, "
                                                      "predictions and the data: reloads anywhere")
    ready = all((run.id, f) in cache for f in FORMATS)
    if ready:
        for col, (f, (label, ext, mime)) in zip(cols[1:3], FORMATS.items()):
            col.download_button(f"{label} model ({ext})", cache[(run.id, f)], file_name=f"rnnlab-{run.id}{ext}",
                                mime=mime, icon=":material/download:", on_click="ignore", width="stretch",
                                help=f"Input (batch, {run.config.seq_len}, {run.preprocessor.n_features}) scaled "
                                     "windows → output (batch, horizon) in model space; the scaler.json in the "
                                     "run zip maps to and from original units")
    elif cols[1].button("Prepare ONNX + TorchScript", icon=":material/build:", width="stretch",
                        help="Export the model and check both exports against torch on test windows"):
        with guard("exporting the model"):
            with st.spinner("Exporting and checking against torch…"):
                _build_exports(run)
            st.rerun()
    if cols[3].button("Delete run", icon=":material/delete:", width="stretch",
                      help="Remove this run from the session (download it first to keep it)"):
        state.remove_run(rid)
        st.session_state.pop(K_EXPORT, None)
        state.flash(f"Deleted **{run.label}**.", "info")
        st.rerun()
    if ready:
        st.caption("Both exports were checked against torch on up to 64 test windows (max abs difference ≤ 1e-4).")

# ----------------------------------------------------------------------------- import
st.subheader("Import a run")
upload = st.file_uploader("Run zip (downloaded from this page or written by `python -m rnnlab train`)",
                          type=["zip"], key=K_UPLOAD)
if upload is not None:
    _import(upload)
