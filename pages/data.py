"""Data: choose the series (built-in, CSV upload or Yahoo Finance), the target and the
input features; see the series, its train/validation/test spans, the windows they give
and the transform the model will use."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from rnnlab.data.builtin import value_title
from rnnlab.errors import DataError, RnnlabError
from ui import charts, state
from ui.common import (
    csv_column_names,
    current_dataset,
    dataset_catalogue,
    ensure_entry_script,
    fetch_yahoo,
    fmt_duration,
    fmt_time,
    guard,
    load_builtin,
    load_csv_bytes,
    transform_words,
    warm_up_training,
    window_summary,
)
from ui.views import TASK_LABELS, available_tasks, view

SOURCES = ["Built-in", "Upload CSV", "Yahoo Finance"]
AUTO_TIME = "(auto-detect)"
K_TASK = "data.task"
K_SOURCE, K_BUILTIN, K_TARGET, K_FEATURES = "data.source", "data.builtin", "data.target", "data.features"
K_CSV, K_CSV_TIME, K_CSV_DAYFIRST = "data.csv", "data.csv_time", "data.csv_dayfirst"
DATE_ORDERS = {"auto (decided from all rows)": None, "day first (31/12/2020)": True, "month first (12/31/2020)": False}
K_TICKER, K_START, K_END = "data.ticker", "data.start", "data.end"


def _same_source(spec: dict[str, Any], current: dict[str, Any]) -> bool:
    keys = ("kind", "name", "sha", "time_col", "dayfirst", "ticker", "start", "end")
    return all(spec.get(k) == current.get(k) for k in keys)


def _use(ds: Any, spec: dict[str, Any]) -> None:
    """Make ``ds`` the session's dataset; reset the column choices to its defaults."""
    state.set_dataset(ds, {**spec, "fingerprint": ds.fingerprint()})
    st.session_state[K_TARGET] = ds.target
    st.session_state[K_FEATURES] = []
    saved = state.peek_config()  # none yet on a first visit
    if saved is not None:
        state.set_config(saved.replace(dataset=ds.name, target=ds.target, features=[], time_col=spec.get("time_col"),
                                       dayfirst=spec.get("dayfirst")))


# ----------------------------------------------------------------------------- choose the source
ensure_entry_script()

st.title("Data")
tasks = available_tasks()
if len(tasks) > 1:
    if st.session_state.get(K_TASK) not in tasks:
        st.session_state[K_TASK] = state.get_task()
    chosen = st.segmented_control("What to model", tasks, format_func=TASK_LABELS.get, key=K_TASK, required=True,
                                  help="Each task keeps its own data and settings in this session")
    if chosen != state.get_task():
        state.set_task(chosen)
if (task_view := view(state.get_task())) is not None:
    task_view.data_page()
    st.stop()
st.caption("Pick a series to forecast. Built-in datasets work offline; a CSV needs a time column and numeric columns.")

source = st.segmented_control("Source", SOURCES, default="Built-in", key=K_SOURCE, required=True,
                              persist_state="session")
previous = state.get_dataset()
prev_name = previous.name if previous is not None else "none"

if source == "Built-in":
    catalogue = []
    with guard("reading the built-in catalogue"):
        catalogue = dataset_catalogue()
    if catalogue:
        infos = {i.name: i for i in catalogue}
        spec_now = state.get_data_spec()
        if K_BUILTIN not in st.session_state:
            st.session_state[K_BUILTIN] = spec_now.get("name") if spec_now.get("name") in infos else (
                "seattle-weather" if "seattle-weather" in infos else next(iter(infos)))
        name = st.selectbox("Built-in dataset", list(infos), key=K_BUILTIN, persist_state="session",
                            format_func=lambda n: f"{n}  ·  {infos[n].frequency}, {infos[n].rows:,} rows")
        info = infos[name]
        with st.container(border=True):
            st.markdown(info.description)
            st.caption(f"**Frequency** {info.frequency} · **rows** {info.rows:,} · **columns** "
                       f"{', '.join(info.columns)} · **default target** `{info.target}`")
            st.caption(f"**Source** {info.source}")
            st.caption(f"**Licence** {info.licence}")
        spec = {"kind": "builtin", "name": name}
        if previous is None or not _same_source(spec, state.get_data_spec()):
            with guard(f"loading {name}"):
                _use(load_builtin(name), spec)

elif source == "Upload CSV":
    up = st.file_uploader("CSV file (.csv, .tsv, .txt or gzip-compressed)", type=["csv", "tsv", "txt", "gz"],
                          key=K_CSV, help="Up to 50 MB. Separators , ; tab | and decimal commas are detected.")
    raw = up.getvalue() if up is not None else b""
    options = [AUTO_TIME, *csv_column_names(raw, up.name)] if up is not None and raw else [AUTO_TIME]
    if st.session_state.get(K_CSV_TIME) not in options:
        st.session_state[K_CSV_TIME] = AUTO_TIME
    time_choice = st.selectbox("Time column", options, key=K_CSV_TIME,
                               help="Auto-detect looks for a column named date/time/timestamp/…, then for "
                                    "the first column that parses as dates.")
    order = st.selectbox("Date order", list(DATE_ORDERS), key=K_CSV_DAYFIRST,
                         help="For dates such as 01/02/2020. Auto reads them day first when a day above 12 "
                              "appears, month first when a month would be above 12, else the reading that is in "
                              "time order on a regular calendar; the loader's notes say which it took.")
    if up is None:
        st.info(f"Upload a file to use it. The current dataset (**{prev_name}**) stays selected until then.")
    else:
        time_col = None if time_choice == AUTO_TIME else time_choice
        dayfirst = DATE_ORDERS[order]
        spec = {"kind": "csv", "name": up.name, "sha": hashlib.sha1(raw).hexdigest(), "time_col": time_col,
                "dayfirst": dayfirst}
        if not _same_source(spec, state.get_data_spec()):
            with guard(f"reading {up.name}"):
                try:
                    _use(load_csv_bytes(raw, up.name, time_col, dayfirst), spec)
                    st.success(f"Loaded **{up.name}**.")
                except RnnlabError as exc:
                    st.error(f"Could not use {up.name!r}: {exc}. Keeping the previous dataset (**{prev_name}**).")

else:  # Yahoo Finance
    c1, c2, c3, c4 = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
    ticker = c1.text_input("Ticker", value="AAPL", key=K_TICKER, persist_state="session",
                           help="Yahoo Finance symbol, e.g. AAPL, MSFT, ^GSPC, EURUSD=X")
    start = c2.date_input("Start", value=dt.date(2015, 1, 1), key=K_START, persist_state="session",
                          min_value=dt.date(1970, 1, 1))
    end = c3.date_input("End", value=dt.date.today(), key=K_END, persist_state="session",
                        min_value=dt.date(1970, 1, 1))
    fetch = c4.button("Fetch", type="primary", width="stretch")
    st.caption("Needs internet access. Downloads are cached on disk; when offline a cached copy is used if there "
               "is one, otherwise pick a built-in dataset (sp500, nasdaq and stocks-daily are offline price series).")
    if fetch:
        spec = {"kind": "yfinance", "name": f"yf:{ticker.strip().upper()}", "ticker": ticker.strip().upper(),
                "start": str(start), "end": str(end)}
        with guard(f"downloading {ticker}"):
            try:
                _use(fetch_yahoo(spec["ticker"], spec["start"], spec["end"]), spec)
                st.success(f"Downloaded **{spec['ticker']}**.")
            except DataError as exc:
                st.warning(f"Yahoo Finance is not available: {exc}. Keeping the previous dataset (**{prev_name}**).")

# ----------------------------------------------------------------------------- current dataset
ds = current_dataset()
if ds is None:
    st.stop()

st.divider()
st.subheader(f"{ds.name}")
idx = ds.frame.index
daily = bool(len(idx)) and bool((idx.normalize() == idx).all())
stamp = "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M"
m = st.columns(3)
m[0].metric("Rows", f"{len(ds.frame):,}")
m[1].metric("Columns", len(ds.columns))
m[2].metric("Frequency", "steps" if ds.steps else ds.freq or "irregular",
            help="No time column: the rows are numbered steps in file order" if ds.steps else
                 "pandas offset alias inferred from the timestamps (D daily, h hourly, MS month start, …); "
                 "trading-day series have no fixed frequency")
if len(idx) and ds.steps:
    st.caption(f"Steps **0** to **{len(idx) - 1:,}** in file order (no time column: no calendar, no season)")
elif len(idx):  # dates in a caption: metric-sized timestamps do not fit narrow columns
    st.caption(f"From **{idx[0]:{stamp}}** to **{idx[-1]:{stamp}}** ({fmt_duration(idx[-1] - idx[0])})")
if ds.changes:
    st.warning("**What the loader changed**\n\n" + "\n".join(f"- {w}" for w in ds.changes))
if ds.reading_notes:  # how values were read (decimal commas, time zones): nothing was changed
    st.info("**How the file was read**\n\n" + "\n".join(f"- {w}" for w in ds.reading_notes))

# ----------------------------------------------------------------------------- target and features
saved = state.peek_config()
columns = ds.columns
if st.session_state.get(K_TARGET) not in columns:
    st.session_state[K_TARGET] = saved.target if saved is not None and saved.target in columns else ds.target
c1, c2 = st.columns([1, 2])
target = c1.selectbox("Target (column to forecast)", columns, key=K_TARGET, persist_state="session")
feature_options = [c for c in columns if c != target]
previous_features = st.session_state.get(K_FEATURES, saved.features if saved is not None else [])
st.session_state[K_FEATURES] = [f for f in previous_features if f in feature_options]
features = c2.multiselect("Extra input features", feature_options, key=K_FEATURES, persist_state="session",
                          help="The target's own past is always an input; add other columns the model may use.")

selected = None
with guard("selecting the columns"):
    selected = ds.select(target, features)
if selected is None:
    st.stop()

# ----------------------------------------------------------------------------- chart + windows
st.markdown(f"#### `{target}` {'step by step' if ds.steps else 'over time'}")
chart_slot = st.empty()
series = selected.frame[target].rename("value").reset_index()
chart_slot.altair_chart(charts.series_with_spans(series, None, y_title=value_title(ds.name, target)), width="stretch")

cfg = state.get_config().replace(dataset=ds.name, target=target, features=list(features),
                                 time_col=state.get_data_spec().get("time_col"),
                                 dayfirst=state.get_data_spec().get("dayfirst"))
state.set_config(cfg)
summary = None
with guard("splitting the series"):
    summary = window_summary(ds, cfg)
if summary is not None:
    spans = pd.DataFrame(summary["spans"])
    chart_slot.altair_chart(charts.series_with_spans(series, spans, y_title=value_title(ds.name, target)), width="stretch")
    st.caption("Drag to pan, scroll to zoom, double-click to reset. Shaded: the chronological "
               "train / validation / test spans (the test span is never seen during training).")

    st.markdown("#### Windows")
    auto_seq = " (auto)" if cfg.seq_len is None else ""
    auto_h = " (auto)" if cfg.horizon is None else ""
    st.markdown(
        f"Each window feeds **{summary['seq_len']}** steps{auto_seq} of {summary['n_features']} input "
        f"column{'s' if summary['n_features'] != 1 else ''} and predicts the next **{summary['horizon']}** "
        f"steps{auto_h}. A window belongs to the span its targets fall in. Change seq_len and horizon on the "
        f"**Train** page."
    )
    cols = st.columns(3)
    for col, span in zip(cols, summary["spans"]):
        col.metric(f"{span['span'].capitalize()} windows", f"{span['windows']:,}")
        col.caption(f"{span['rows']:,} rows · {fmt_time(span['start'], ds.steps, stamp='%Y-%m-%d')} → "
                    f"{fmt_time(span['end'], ds.steps, stamp='%Y-%m-%d')}")
    requested = summary["requested_transform"]
    how = "automatic choice" if requested == "auto" else "set on the Train page"
    st.info(f"**Target transform: {transform_words(summary['transform'])}** ({how}).  \n{summary['reason']}")
    extra = [w for w in summary["warnings"] if w not in ds.warnings]
    if extra:
        st.warning("\n".join(f"- {w}" for w in extra))

# ----------------------------------------------------------------------------- table + statistics
tab_preview, tab_stats = st.tabs(["Preview", "Summary statistics"])
with tab_preview:
    frame = ds.frame
    limit = 10_000
    shown = frame if len(frame) <= limit else pd.concat([frame.head(limit // 2), frame.tail(limit // 2)])
    st.dataframe(shown.reset_index(), height=320, hide_index=True, column_config={
        "time": st.column_config.DatetimeColumn("time", format="YYYY-MM-DD" if daily else "YYYY-MM-DD HH:mm")})
    if len(frame) > limit:
        st.caption(f"Showing the first and last {limit // 2:,} of {len(frame):,} rows.")
with tab_stats:
    stats = ds.frame.describe().T
    stats.insert(1, "missing", ds.frame.isna().sum())
    st.dataframe(stats.style.format("{:,.4g}"), width="stretch")

# torch loads in the background while the user reads this page: the first Train starts at once
warm_up_training()
