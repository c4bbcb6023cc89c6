"""The text task's pages: corpus choice and upload, settings, live samples, sampling, the
network read on text (Karpathy / LSTMVis views) and the model's surprise. Contract: ui/views/__init__.py."""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st

from rnnlab.settings import RunConfig, specs_for
from ui import charts_text, state
from ui.common import fmt, guard
from ui.settings_widgets import setting_input, start_from_widgets

K_SOURCE, K_BUILTIN, K_UPLOAD = "text.source", "text.builtin", "text.upload"
SOURCES = ["Built-in", "Upload .txt"]
PREVIEW_CHARS = 2_000
FIELDS = tuple(s.name for s in specs_for("text") if s.group != "data")


# ----------------------------------------------------------------------------- cached core calls
@st.cache_data(show_spinner="Loading the corpus…", max_entries=8)
def _builtin(name: str) -> Any:
    from rnnlab.corpora import load_corpus

    return load_corpus(name)


@st.cache_data(show_spinner=False)
def _catalogue() -> list[Any]:
    from rnnlab.corpora import list_corpora

    return list_corpora()


@st.cache_data(show_spinner="Reading the file…", max_entries=4)
def _upload(raw: bytes, name: str) -> Any:
    import io

    from rnnlab.corpora import load_text_file

    return load_text_file(io.BytesIO(raw), name=name)


@st.cache_data(show_spinner="Splitting and tokenizing…", max_entries=16)
def _summary(_corpus: Any, fingerprint: str, settings: dict[str, Any]) -> dict[str, Any]:
    """What the job will train on: vocabulary, tokens per part, unknown rates (checked like the job)."""
    from rnnlab.tasks.text.prepared import prepare

    prep = prepare(_corpus, RunConfig.defaults("text", **settings))
    return {"counts": prep.counts(), "unknown": prep.unknown_rates(), "seq_len": prep.config.seq_len,
            "warnings": list(prep.warnings), "vocab": prep.tokenizer.vocab_[:200]}


def summary(corpus: Any, cfg: RunConfig) -> dict[str, Any]:
    keys = ("level", "max_vocab", "train_frac", "val_frac", "seq_len", "bidirectional")
    return _summary(corpus, corpus.fingerprint(), {k: getattr(cfg, k) for k in keys})


def _trace(run: Any, part: str, start: int, length: int) -> Any:
    """The run read over an excerpt, kept per run and excerpt for the session."""
    from rnnlab.analysis import text as at

    cache = st.session_state.setdefault("text.traces", {})
    key = (run.id, part, int(start), int(length))
    if key not in cache:
        if len(cache) > 8:
            cache.clear()
        cache[key] = at.trace_text(run, at.excerpt(run, part, start, length))
    return cache[key]


# ----------------------------------------------------------------------------- Data
def _use(corpus: Any, spec: dict[str, Any]) -> None:
    state.set_dataset(corpus, {**spec, "fingerprint": corpus.fingerprint()})
    state.set_config(state.get_config().replace(dataset=corpus.name))


def data_page() -> None:
    st.caption("Pick a text to model, character by character (or word by word). Built-in corpora work offline; "
               "an uploaded .txt needs at least 1,000 characters (or 50 lines for one item per line).")
    source = st.segmented_control("Source", SOURCES, default="Built-in", key=K_SOURCE, required=True,
                                  persist_state="session")
    current = state.get_dataset()
    if source == "Built-in":
        infos = []
        with guard("reading the corpora"):
            infos = _catalogue()
        names = [i.name for i in infos]
        if not names:
            st.error("No built-in corpus is present; rebuild them with `python scripts/build_snapshots.py`.")
            return
        if st.session_state.get(K_BUILTIN) not in names:
            st.session_state[K_BUILTIN] = current.name if current is not None and current.name in names else names[0]
        name = st.selectbox("Corpus", names, key=K_BUILTIN,
                            format_func=lambda n: f"{n} ({next(i.size for i in infos if i.name == n):,} characters)")
        info = next(i for i in infos if i.name == name)
        st.caption(f"{info.description} Source: {info.source}. Licence: {info.licence}.")
        if current is None or current.name != name or state.get_data_spec().get("kind") != "builtin":
            with guard(f"loading {name}"):
                _use(_builtin(name), {"kind": "builtin", "name": name})
    else:
        up = st.file_uploader("Text file (.txt, UTF-8)", type=["txt", "gz"], key=K_UPLOAD)
        if up is not None:
            raw = up.getvalue()
            sha = hashlib.sha256(raw).hexdigest()[:16]
            if state.get_data_spec().get("sha") != sha:
                with guard(f"reading {up.name}"):
                    _use(_upload(raw, up.name), {"kind": "upload", "name": up.name, "sha": sha})
    corpus = state.get_dataset()
    if corpus is None:
        st.info("Choose a built-in corpus or upload a text file.")
        return
    for w in corpus.warnings:
        st.caption(f":material/info: {w}")
    cfg = state.get_config()
    c1, c2 = st.columns(2)
    level = c1.segmented_control("Token level", ["char", "word"], default=cfg.level, key="text.level", required=True,
                                 format_func={"char": "characters", "word": "words"}.get)
    cap = c2.number_input("Vocabulary cap", 5, 1_000_000, value=cfg.max_vocab, step=1000, key="text.max_vocab",
                          help="Most frequent tokens of the training text, special tokens included; the rest <unk>")
    cfg = cfg.replace(level=level, max_vocab=int(cap), dataset=corpus.name)
    state.set_config(cfg)
    info = None
    with guard("checking the corpus"):
        info = summary(corpus, cfg)
    st.subheader(f"{corpus.name} · {corpus.kind} text")
    if info is not None:
        n = info["counts"]
        m = st.columns(4)
        m[0].metric("Characters", f"{corpus.n_chars:,}")
        m[1].metric("Vocabulary", f"{n['vocab_size']:,}", help="Fitted on the training part only")
        m[2].metric("Tokens train / val / test", f"{n['n_train_tokens']:,} / {n['n_val_tokens']:,} / "
                                                 f"{n['n_test_tokens']:,}")
        m[3].metric("Unknown in test", f"{info['unknown']['test']:.2%}",
                    help="Share of test tokens outside the training vocabulary (<unk>)")
        for w in info["warnings"]:
            if w not in corpus.warnings:
                st.warning(w)
        st.caption("Split by position: the first part trains, the next validates (early stopping), the last is the "
                   "untouched test text. Vocabulary (most frequent first): "
                   + " ".join(repr(t)[1:-1] for t in info["vocab"][:60]))
    st.markdown("**Preview** (start of the text)")
    st.code(corpus.text[:PREVIEW_CHARS], language=None)


# ----------------------------------------------------------------------------- Train
def train_settings(prefix: str, config: RunConfig, dataset: Any) -> tuple[RunConfig, bool]:
    st.caption(f"Corpus **{dataset.name}** · {config.level} level · vocabulary cap {config.max_vocab:,} — change "
               "them on the **Data** page.")
    c1, c2, c3 = st.columns(3, gap="large")
    with c1:
        st.markdown("##### Model")
        setting_input("cell", prefix + "cell", segmented=True)
        for name in ("hidden_size", "num_layers", "embed_size"):
            setting_input(name, prefix + name)
        setting_input("dropout", prefix + "dropout", slider=True)
    with c2:
        st.markdown("##### Text")
        setting_input("seq_len", prefix + "seq_len", help="Tokens per truncated-BPTT chunk (line corpora: the "
                                                          "longest item)")
        setting_input("temperature", prefix + "temperature", slider=True)
        setting_input("ngram_order", prefix + "ngram_order")
    with c3:
        st.markdown("##### Training")
        for name in ("batch_size", "lr", "epochs", "patience", "seed"):
            setting_input(name, prefix + name)
    with st.expander("Advanced settings"):
        a1, a2, a3 = st.columns(3, gap="large")
        setting_input("train_frac", prefix + "train_frac", a1, slider=True)
        setting_input("val_frac", prefix + "val_frac", a1, slider=True)
        for name in ("optimizer", "lr_schedule", "weight_decay"):
            setting_input(name, prefix + name, a2)
        setting_input("grad_clip", prefix + "grad_clip", a3)
        setting_input("nonlinearity", prefix + "nonlinearity", a3)
        setting_input("bidirectional", prefix + "bidirectional", a3, disabled=True,
                      help="A language model reads left to right")
    with st.expander("Start from a saved run (transfer learning)"):
        start_from_widgets(prefix, st.container(), config)
    values = {f: st.session_state[prefix + f] for f in FIELDS if prefix + f in st.session_state}
    cfg = None
    with guard("checking the settings"):
        cfg = config.replace(**values)
    if cfg is None:
        return config, False
    info = None
    with guard("checking the settings"):
        info = summary(dataset, cfg)
    if info is None:
        return cfg, False
    n = info["counts"]
    st.caption(f"{n['n_train_tokens']:,} training tokens in chunks of {info['seq_len']} · vocabulary "
               f"{n['vocab_size']:,} · {n['n_test_tokens']:,} test tokens scored against unigram and "
               f"{cfg.ngram_order}-gram baselines.")
    return cfg, True


def live_preview(preview: dict[str, Any] | None) -> None:
    if not preview:
        st.markdown("**Sample from the current weights**")
        st.caption("A sample appears here after the first batches.")
        return
    loss = preview.get("val_loss")
    extra = f" · validation {loss / 0.6931:.3f} bits/token" if loss is not None else ""
    st.markdown(f"**Sample at epoch {preview['epoch']}** (temperature {preview['temperature']:g}{extra})")
    st.code(preview.get("prime", "") + preview.get("sample", ""), language=None)


def final_summary(run: Any) -> None:
    test = run.metrics.get("test", {})
    model, ngram, uni = test.get("model", {}), test.get("ngram", {}), test.get("unigram", {})
    key = "bits_per_char" if "bits_per_char" in model else "bits_per_word"
    unit = "bits/char" if key == "bits_per_char" else "bits/word"
    m = st.columns(4)
    m[0].metric(f"Test {unit} (model)", fmt(model.get(key)),
                delta=f"{fmt(model.get(key, 0) - ngram.get(key, 0))} vs {run.metrics.get('ngram_order')}-gram",
                delta_color="inverse", help="Lower is better; the baselines are scored on the same test tokens")
    m[1].metric(f"{run.metrics.get('ngram_order')}-gram / unigram", f"{fmt(ngram.get(key))} / {fmt(uni.get(key))}")
    m[2].metric("Top-1 / top-5 accuracy", f"{model.get('accuracy', 0):.1%} / {model.get('top5_accuracy', 0):.1%}")
    m[3].metric("Perplexity", fmt(model.get("perplexity")))
    verdict = run.metrics.get("verdict", "")
    (st.success if "model beats" in verdict else st.warning)(verdict[:1].upper() + verdict[1:] + ".")
    st.altair_chart(charts_text.baseline_bars(run.metrics), width="stretch")


# ----------------------------------------------------------------------------- Predictions: sampling
def predictions_page(run: Any) -> None:
    st.subheader("Sample from the model")
    final_summary(run)
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    prime = c1.text_input("Prime text", value="ROMEO:" if "shakespeare" in run.dataset.name else "",
                          key="text.prime", help="The model continues this text")
    length = c2.number_input("Length", 1, 5000, 300, key="text.length")
    top_k = c3.number_input("Top-k (0: all)", 0, 1000, 0, key="text.top_k")
    seed = c4.number_input("Seed", 0, 2**31 - 1, 0, key="text.seed", help="Same seed, same text")
    temperature = st.slider("Temperature (0: greedy)", 0.0, 2.0, 0.8, 0.05, key="text.temperature")
    s = None
    with guard("sampling"):
        s = run.sample(prime, int(length), float(temperature), int(top_k), int(seed))
    if s is None:
        return
    st.code(prime + s.text, language=None)
    st.markdown("**The model's guesses** under each character of the sample (colour: probability it gave the "
                "character that came; hover for its top-5 candidates)")
    from rnnlab.analysis import text as at

    with guard("reading the sample"):
        tr = at.trace_text(run, (prime + s.text)[:1200])
        frame = at.token_frame(tr)
        st.altair_chart(charts_text.text_grid(frame.iloc[:-1], "p_next", "probability of the next character",
                                              scheme="viridis", domain=(0, 1), reverse=False,
                                              tooltip_extra=("next", "top5")), width="content")
        st.dataframe(frame[["pos", "shown", "next", "p_next", "top5"]].head(200), hide_index=True)


# ----------------------------------------------------------------------------- Hidden states
def _excerpt_widgets(run: Any, key: str) -> tuple[str, int, int]:
    c1, c2, c3 = st.columns(3)
    part = c1.selectbox("Text", ["test", "val", "train"], key=key + "part")
    start = c2.number_input("From character", 0, 10_000_000, 0, step=500, key=key + "start")
    length = c3.number_input("Characters", 50, 3000, 800, step=100, key=key + "length")
    return part, int(start), int(length)


def hidden_states_page(run: Any) -> None:
    from rnnlab.analysis import text as at

    st.caption("The network read over a stretch of text: each character coloured by a unit's activation "
               "(Karpathy et al. 2015), the units that track simple features, and LSTMVis-style span matching.")
    part, start, length = _excerpt_widgets(run, "text.hs.")
    tr = None
    with guard("reading the text"):
        tr = _trace(run, part, start, length)
    if tr is None:
        return
    H = tr.h.shape[1]
    kinds = ["h"] + (["c"] if tr.c is not None else []) + list(tr.gates)
    units = at.feature_units(tr, top=5)
    feats = list(dict.fromkeys(units["feature"]))
    c1, c2, c3 = st.columns(3)
    feature = c1.selectbox("Feature", feats, key="text.hs.feature", help="Pick a feature to see its best unit")
    best = int(units[units["feature"] == feature]["unit"].iloc[0]) if feats else 0
    unit = c2.number_input("Unit", 0, H - 1, best, key=f"text.hs.unit.{feature}")
    kind = c3.selectbox("Signal", kinds, key="text.hs.kind",
                        format_func=lambda k: {"h": "hidden state h", "c": "cell state c"}.get(k, f"{k} gate"))
    frame = at.unit_frame(tr, int(unit), kind)
    lo, hi = (0.0, 1.0) if kind in ("input", "forget", "output", "reset", "update") else (-1.0, 1.0)
    if kind == "c":
        m = float(max(1e-6, abs(frame["activation"]).max()))
        lo, hi = -m, m
    st.altair_chart(charts_text.text_grid(frame, "activation", f"unit {unit} ({kind})", domain=(lo, hi),
                                          tooltip_extra=("top5",)), width="content")
    st.markdown("**Units most correlated with simple text features** (Pearson correlation over the excerpt)")
    st.altair_chart(charts_text.feature_bars(units[units["rank"] <= 3]), width="stretch")
    st.dataframe(units, hide_index=True)
    with st.expander("LSTMVis: units on throughout a span, and where else they switch on together"):
        s1, s2, s3 = st.columns(3)
        a = s1.number_input("Span start (token)", 0, len(tr) - 2, min(10, len(tr) - 2), key="text.hs.a")
        b = s2.number_input("Span end (exclusive)", 1, len(tr), min(20, len(tr)), key="text.hs.b")
        thr = s3.slider("On above", -1.0, 1.0, 0.3, 0.05, key="text.hs.thr")
        with guard("matching the span"):
            on = at.span_units(tr, int(a), int(b), thr, kind)
            st.caption(f"Span: `{''.join(tr.tokens[int(a):int(b)])!r}` · {len(on)} unit(s) on throughout: "
                       f"{', '.join(map(str, on[:30])) or 'none'}")
            if on:
                st.dataframe(at.matching_spans(tr, on[:8], thr, 2, kind).head(50), hide_index=True)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Hidden-state trajectory** (PCA of h over the excerpt)")
        pcs, ratio = at.state_pca(tr)
        st.altair_chart(charts_text.pca_path(pcs, ratio), width="stretch")
    with c2:
        st.markdown("**Gate saturation** (share of gate values below 0.05 / above 0.95)")
        sat = at.gate_saturation(tr)
        if len(sat):
            st.altair_chart(charts_text.saturation_bars(sat), width="stretch")
        else:
            st.caption("A vanilla RNN has no gates.")


# ----------------------------------------------------------------------------- Errors: surprise
def errors_page(run: Any) -> None:
    from rnnlab.analysis import text as at

    st.caption("Where the model is surprised: each character coloured by -log2 p, the bits it cost.")
    final_summary(run)
    part, start, length = _excerpt_widgets(run, "text.err.")
    tr = None
    with guard("reading the text"):
        tr = _trace(run, part, start, length)
    if tr is None:
        return
    frame = at.token_frame(tr)
    body = frame.iloc[:-1]
    st.metric("Mean surprisal over the excerpt", f"{body['surprisal'].mean():.3f} bits/token")
    cap = float(max(1.0, body["surprisal"].quantile(0.99)))
    st.altair_chart(charts_text.text_grid(body.assign(surprisal=body["surprisal"].clip(upper=cap)), "surprisal",
                                          "surprisal of the next token (bits)", scheme="orangered", domain=(0, cap),
                                          reverse=False, tooltip_extra=("next", "top5")), width="content")
    st.markdown("**Most surprising tokens**")
    st.dataframe(at.surprising_tokens(tr, 25), hide_index=True)
    by_class = body.assign(cls=[at.char_class(t) for t in body["next"]]).groupby("cls")["surprisal"].agg(
        ["mean", "count"]).reset_index().rename(columns={"cls": "next token class", "mean": "mean bits"})
    st.markdown("**Surprise by the class of the next token**")
    st.dataframe(by_class, hide_index=True)
