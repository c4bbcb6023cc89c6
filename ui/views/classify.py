"""The pages' part for sequence classification (contract in :mod:`ui.views`): data, settings,
live preview, summary against the baselines, predictions, hidden states, errors."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from rnnlab.settings import RunConfig, specs_for
from ui import charts_sequences as cs
from ui import state
from ui.common import fmt, guard
from ui.settings_widgets import setting_input, start_from_widgets

K = "classify."  # widget keys of these views
SOURCES = ["Built-in", "Upload CSV"]
METRICS = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "macro_f1": "macro F1",
           "log_loss": "log loss"}
WHO = {"model": "network", "majority": "majority class", "logistic": "logistic regression"}


def _use(ds: Any, spec: dict[str, Any]) -> None:
    state.set_dataset(ds, {**spec, "fingerprint": ds.fingerprint()})
    cfg = state.get_config()
    state.set_config(cfg.replace(dataset=ds.name))


def _sequence_preview(ds: Any) -> None:
    """A few sequences: frames as a heatmap, names as text."""
    if ds.texts is not None:
        rng = np.random.default_rng(0)
        pick = rng.choice(len(ds), size=min(12, len(ds)), replace=False)
        st.dataframe(pd.DataFrame({"text": [ds.texts[i] for i in pick],
                                   "class": [ds.classes[ds.labels[i]] for i in pick]}), hide_index=True)
        return
    i = st.selectbox("Sequence", range(len(ds)), key=K + "preview_seq",
                     format_func=lambda j: f"{ds.ids[j]} · class {ds.classes[ds.labels[j]]} · {len(ds.sequences[j])} "
                                           "steps")
    s = ds.sequences[i]
    names = ds.feature_names
    long = pd.DataFrame({"step": np.repeat(np.arange(1, len(s) + 1), len(names)), "feature": np.tile(names, len(s)),
                         "value": s.ravel().astype(float)})
    st.altair_chart(cs.frames_heatmap(long), width="stretch")


def data_page() -> None:
    from rnnlab.corpora import list_sequence_datasets, load_sequence_csv, load_sequence_dataset

    st.caption("Classify whole sequences of different lengths: speech frames, names, or your own long-format CSV.")
    source = st.segmented_control("Source", SOURCES, default="Built-in", key=K + "source", required=True)
    ds = state.get_dataset()
    if source == "Built-in":
        infos = {}
        with guard("reading the built-in sequence datasets"):
            infos = {i.name: i for i in list_sequence_datasets()}
        if not infos:
            return
        name = st.selectbox("Built-in dataset", list(infos), key=K + "builtin",
                            format_func=lambda n: f"{n} · {infos[n].size:,} sequences, {len(infos[n].classes)} classes")
        info = infos[name]
        with st.container(border=True):
            st.markdown(info.description)
            st.caption(f"**Source** {info.source} · **Licence** {info.licence}")
        spec = {"kind": "builtin", "name": name}
        if ds is None or state.get_data_spec().get("name") != name or state.get_data_spec().get("kind") != "builtin":
            with guard(f"loading {name}"):
                _use(load_sequence_dataset(name), spec)
    else:
        st.caption("Long format: one row per step, `sequence_id, [step], feature columns…, label` (the label constant "
                   "within a sequence); or a text CSV `text, label` (one sequence per row).")
        c1, c2, c3 = st.columns(3)
        id_col = c1.text_input("Sequence id column", "sequence_id", key=K + "id_col")
        target = c2.text_input("Label column", "label", key=K + "target")
        time_col = c3.text_input("Step/time column (empty: detected, else file order)", "", key=K + "time_col")
        up = st.file_uploader("CSV file", type=["csv", "tsv", "txt", "gz"], key=K + "csv")
        if up is None:
            st.info(f"Upload a file to use it. The current dataset (**{ds.name if ds else 'none'}**) stays selected.")
        else:
            raw = up.getvalue()
            spec = {"kind": "csv", "name": up.name, "sha": hashlib.sha1(raw).hexdigest(), "id_col": id_col,
                    "target": target, "time_col": time_col}
            if {k: state.get_data_spec().get(k) for k in spec} != spec:
                with guard(f"reading {up.name}"):
                    _use(load_sequence_csv(raw, id_col=id_col, target=target, time_col=time_col or None,
                                           name=up.name), spec)
                    cfg = state.get_config()
                    state.set_config(cfg.replace(id_col=id_col, target=target, time_col=time_col or None))
                    st.success(f"Loaded **{up.name}**.")
    ds = state.get_dataset()
    if ds is None:
        return
    for w in ds.warnings:
        st.caption(f":material/info: {w}")
    lengths = ds.lengths
    m = st.columns(4)
    m[0].metric("Sequences", f"{len(ds):,}")
    m[1].metric("Classes", ds.n_classes)
    m[2].metric("Steps", f"{int(lengths.min())}–{int(lengths.max())}", help="shortest – longest")
    m[3].metric("Features per step", ds.n_features if ds.kind == "frames" else "characters")
    labels = [ds.classes[k] for k in ds.labels]
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Class balance**")
        st.altair_chart(cs.class_counts(ds.class_counts()), width="stretch")
    with c2:
        st.markdown("**Length by class**")
        st.altair_chart(cs.length_histogram(lengths, labels), width="stretch")
    st.markdown("**A few sequences**")
    _sequence_preview(ds)
    with guard("splitting the data"):
        from rnnlab.tasks.classify.prepared import prepare

        prep = prepare(ds, state.get_config())
        c = prep.counts()
        st.caption(f"Split by sequence (stratified by class, seed {prep.config.seed}): {c['n_train_sequences']} "
                   f"training, {c['n_val_sequences']} validation, {c['n_test_sequences']} test. Batches of "
                   f"{prep.config.batch_size} padded to their longest carry **{prep.padding_share():.0%} padding** "
                   f"steps; the mask and the packing keep them out of every state.")
        for w in prep.warnings:
            if w not in ds.warnings:
                st.caption(f":material/info: {w}")


def train_settings(prefix: str, config: RunConfig, dataset: Any) -> tuple[RunConfig, bool]:
    fields = [s.name for s in specs_for("classify") if s.group != "data"]
    for f in fields:
        if prefix + f not in st.session_state:
            st.session_state[prefix + f] = getattr(config, f)
    st.caption(f"Dataset **{dataset.name}** ({len(dataset):,} sequences, {dataset.n_classes} classes) — change it "
               "on the **Data** page.")
    c1, c2, c3 = st.columns(3, gap="large")
    with c1:
        st.markdown("##### Model")
        setting_input("cell", prefix + "cell", segmented=True)
        for name in ("hidden_size", "num_layers", "bidirectional", "pooling"):
            setting_input(name, prefix + name)
    with c2:
        st.markdown("##### Sequences")
        for name in ("padding", "max_steps", "scaling"):
            setting_input(name, prefix + name, placeholder="auto: 2000" if name == "max_steps" else None)
        setting_input("train_frac", prefix + "train_frac", slider=True)
        setting_input("val_frac", prefix + "val_frac", slider=True)
    with c3:
        st.markdown("##### Training")
        for name in ("epochs", "batch_size", "lr", "patience", "select_on", "class_weights", "seed"):
            setting_input(name, prefix + name)
    with st.expander("Advanced settings"):
        a1, a2 = st.columns(2)
        for name in ("dropout", "optimizer", "lr_schedule"):
            setting_input(name, prefix + name, a1)
        for name in ("weight_decay", "grad_clip", "nonlinearity"):
            setting_input(name, prefix + name, a2)
    with st.expander("Start from a saved run (transfer learning)"):
        start_from_widgets(prefix, st.container(), config)
    cfg = config
    ok = False
    with guard("checking the settings"):
        from rnnlab.tasks.classify.prepared import prepare

        cfg = config.replace(**{f: st.session_state[prefix + f] for f in fields})
        prep = prepare(dataset, cfg)
        c = prep.counts()
        st.caption(f"{c['n_train_sequences']} training, {c['n_val_sequences']} validation, {c['n_test_sequences']} "
                   f"test sequences; {c['n_truncated']} truncated to {prep.config.max_steps} steps; "
                   f"{prep.padding_share():.0%} of the training batches' steps are padding.")
        ok = True
    return cfg, ok


def live_preview(preview: dict[str, Any] | None) -> None:
    if not preview:
        st.caption("The validation accuracy and confusion matrix appear after the first epoch.")
        return
    history = st.session_state.setdefault(K + "val_accuracy", {})  # epoch -> validation accuracy of this job
    if preview["epoch"] == 1 and max(history, default=0) > 1:
        history.clear()  # a new training job
    history[int(preview["epoch"])] = float(preview["accuracy"])
    st.markdown(f"**Validation accuracy {preview['accuracy']:.1%}** · epoch {preview['epoch']}")
    # one above the other: beside the loss curves the preview has half the page, too narrow for both
    st.altair_chart(cs.accuracy_curve(history, height=150), width="stretch")
    st.altair_chart(cs.confusion_chart(preview["confusion"], preview["classes"], height=220), width="stretch")


def metrics_frame(run: Any) -> pd.DataFrame:
    rows = run.metrics.get("test", {})
    return pd.DataFrame([{"": WHO.get(w, w), **{METRICS[k]: v.get(k) for k in METRICS}} for w, v in rows.items()])


def _verdict(run: Any) -> None:
    words = str(run.metrics.get("verdict", ""))
    if words.startswith("a baseline wins"):
        st.warning(f"**{words[:1].upper() + words[1:]}.** The order of the steps adds little here beyond the "
                   "per-sequence summary the baseline reads.")
    elif words:
        st.success(words[:1].upper() + words[1:] + ".")


def final_summary(run: Any) -> None:
    test = run.metrics.get("test", {})
    model, base = test.get("model", {}), test.get("logistic", {})
    m = st.columns(4)
    m[0].metric("Test accuracy", f"{model.get('accuracy', float('nan')):.1%}",
                delta=f"{model.get('accuracy', 0) - base.get('accuracy', 0):+.1%} vs logistic")
    m[1].metric("Macro F1", fmt(model.get("macro_f1"), 3),
                delta=f"{model.get('macro_f1', 0) - base.get('macro_f1', 0):+.3f} vs logistic")
    m[2].metric("Majority class", f"{test.get('majority', {}).get('accuracy', float('nan')):.1%}")
    m[3].metric("Best epoch", f"{run.train_info.get('best_epoch', '–')} / {len(run.history)}")
    _verdict(run)
    st.dataframe(metrics_frame(run), hide_index=True)


def _pick_sequence(run: Any, key: str, options: list[int] | None = None) -> int:
    from rnnlab.analysis.sequences import sequence_words, test_indices

    idx = options if options is not None else [int(i) for i in test_indices(run)]
    return int(st.selectbox("Sequence", idx, key=key, format_func=lambda i: sequence_words(run, i)))


def predictions_page(run: Any) -> None:
    st.caption(f"**{run.dataset.name}** · {run.config.cell.upper()} {run.config.hidden_size}×{run.config.num_layers}"
               f" · pooling {run.config.pooling} · {run.metrics.get('n_test_sequences', 0)} test sequences")
    st.subheader("Test metrics: network vs baselines")
    _verdict(run)
    st.dataframe(metrics_frame(run), hide_index=True)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Confusion matrix** (network)")
        st.altair_chart(cs.confusion_chart(run.metrics["confusion"]["model"], run.classes), width="stretch")
    with c2:
        st.markdown("**Per class** (network)")
        st.dataframe(pd.DataFrame(run.metrics["per_class"]["model"]).T, width="stretch")
    st.subheader("One sequence")
    i = _pick_sequence(run, K + "pred_seq")
    with guard("predicting the sequence"):
        proba = run.predict_proba([run.prepared().items[i]])[0]
        st.caption(f"Predicted **{run.classes[int(proba.argmax())]}** ({proba.max():.1%}); true "
                   f"**{run.classes[int(run.dataset.labels[i])]}**")
        st.altair_chart(cs.probability_bars(proba, run.classes), width="stretch")
    if run.dataset.texts is not None:
        st.subheader("Type a name")
        text = st.text_input("Text to classify", "Alex", key=K + "typed")
        with guard("classifying the text"):
            if text.strip():
                p = run.predict_texts([text.strip()])[0]
                st.markdown(f"**{text.strip()}** → **{run.classes[int(p.argmax())]}** ({p.max():.1%})")
                st.altair_chart(cs.probability_bars(p, run.classes), width="stretch")
    st.subheader("All test predictions")
    if run.predictions is not None:
        st.dataframe(run.predictions, hide_index=True)


def hidden_states_page(run: Any) -> None:
    from rnnlab.analysis import sequences as A

    with guard("computing the pooled states"):
        frame, basis = A.pooled_frame(run)
        color = st.radio("Colour by", ["true", "predicted", "correct"], horizontal=True, key=K + "color",
                         format_func={"true": "true class", "predicted": "predicted class",
                                      "correct": "right / wrong"}.get)
        st.markdown(f"**Pooled states of the {len(frame)} test sequences** (what the head reads, PCA: "
                    f"{basis.explained_variance_ratio[:2].sum():.0%} of the variance)")
        st.altair_chart(cs.pooled_scatter(frame, color), width="stretch")
        wrong = [int(i) for i in frame.loc[frame["correct"] == "wrong", "index"]]
        only_wrong = st.toggle("Only misclassified sequences", value=bool(wrong), key=K + "hs_wrong",
                               disabled=not wrong)
        i = _pick_sequence(run, K + "hs_seq", wrong if only_wrong and wrong else None)
        traj = A.trajectory(run, i, basis)
        final = traj["predicted"].iloc[-1]
        sure = A.first_sure_step(traj, run.classes[int(run.dataset.labels[i])])
        st.caption(f"Final prediction **{final}**, true **{run.classes[int(run.dataset.labels[i])]}**. "
                   + (f"Right from step **{sure}** of {len(traj)} on." if sure else "It never settles on the true "
                      "class."))
        c1, c2 = st.columns(2)
        with c1:
            st.markdown("**State trajectory**, step by step (numbered), over the pooled states")
            st.altair_chart(cs.trajectory_chart(traj, frame), width="stretch")
        with c2:
            st.markdown("**Class probabilities after each step** (the classifier fed only the first steps)")
            st.altair_chart(cs.probabilities_over_steps(A.probabilities_long(traj)), width="stretch")
        st.markdown(f"**Pooling weights over the steps** ({run.config.pooling})")
        st.altair_chart(cs.step_bars(traj, "weight", "pooling weight"), width="stretch")


def errors_page(run: Any) -> None:
    from rnnlab.analysis import sequences as A
    from rnnlab.tasks.classify.evaluate import accuracy_by_length

    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Confusion matrix** (network, test sequences)")
        st.altair_chart(cs.confusion_chart(run.metrics["confusion"]["model"], run.classes), width="stretch")
    with c2, guard("breaking the accuracy down by length"):
        st.markdown("**Accuracy by length** (network vs logistic regression)")
        st.altair_chart(cs.accuracy_by_length(accuracy_by_length(run)), width="stretch")
    with guard("listing the misclassified sequences"):
        wrong = A.misclassified(run)
        st.markdown(f"**{len(wrong)} misclassified test sequences**, most confident first")
        st.dataframe(wrong, hide_index=True)
        if len(wrong):
            options = [A.index_of(run, s) for s in wrong["id"]]
            i = _pick_sequence(run, K + "err_seq", options)
            st.markdown("**Saliency per step**: how much the predicted class's probability drops without that step")
            st.altair_chart(cs.step_bars(A.occlusion_saliency(run, i), "saliency", "probability drop"),
                            width="stretch")
    with guard("drawing a padded batch"):
        test = A.test_indices(run)
        st.markdown(f"**A batch as the network sees it** ({run.config.padding}-padding to the longest; grey = "
                    "padding, masked out and never packed into a state)")
        st.altair_chart(cs.padding_view(A.padding_frame(run, test[:: max(1, len(test) // 8)][:8])), width="stretch")
