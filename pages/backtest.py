"""Backtest: a rolling-origin backtest of the current settings on the session's dataset, in the
background (progress, Stop), with the origins drawn on the series and the error by origin of the
model and every baseline. The work is :mod:`rnnlab.backtest`."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui import state
from ui.charts_bands import error_by_origin_chart, origins_chart
from ui.common import current_dataset, ensure_entry_script, guard
from ui.settings_widgets import setting_input

ensure_entry_script()

K = "backtest."
LIVE_REFRESH = 1.5  # s between redraws while it runs

st.title("Backtest")
st.caption("Rolling origin: the last part of the series is cut at several origins; at each one the model is trained "
           "on everything before it (early stopping on a validation slice before the origin) and scored on the "
           "next span, beside the naive, seasonal-naive, linear, ETS and Theta baselines on the same windows.")
if state.get_task() != "forecast":
    st.info("The backtest is for forecasting runs; switch the task to forecast on the Data page.")
    st.stop()
ds = current_dataset()
if ds is None:
    st.stop()
cfg = state.get_config()
st.markdown(f"**{ds.name}** · target **{cfg.target or ds.target}** · {cfg.cell.upper()} {cfg.hidden_size}×"
            f"{cfg.num_layers} · at most {cfg.epochs} epochs (settings from the Train page)")

c1, c2, c3 = st.columns(3)
origins = c1.number_input("Origins", 1, 20, 5, key=K + "origins")
if K + "refit" not in st.session_state:
    st.session_state[K + "refit"] = cfg.backtest_refit
refit = setting_input("backtest_refit", K + "refit", c2)
job = state.get_backtest_job()


def _start() -> None:
    from rnnlab.backtest import BacktestJob
    from ui import reattach

    with guard("starting the backtest"):
        job = BacktestJob(ds, cfg.replace(backtest_refit=refit), int(origins), refit).start()
        state.set_backtest_job(job)
        reattach.remember_backtest(job)  # a reload of this tab finds it again


running = job is not None and job.running
c3.button("Start backtest", type="primary", on_click=_start, disabled=running, key=K + "start")


def _table(done: list[Any]) -> pd.DataFrame:
    return pd.DataFrame([{"origin": o.index + 1, "series": who, "value": s["rmse"]}
                         for o in done for who, s in o.scores.items()])


@st.fragment(run_every=LIVE_REFRESH)
def _live() -> None:
    job = state.get_backtest_job()
    if job is None:
        st.info("Press **Start backtest**. Each origin trains a model, so it takes the time of that many runs.")
        return
    done = list(job.done_origins)
    if job.running:
        st.progress(len(done) / job.origins, text=f"origin {len(done) + 1} of {job.origins} training…")
        if st.button("Stop", key=K + "stop"):
            job.stop()
    if job.error:
        st.error(f"The backtest failed: {job.error}")
    if job.result is not None and job.result.stopped:
        st.warning(f"Stopped after {len(done)} origin(s).")
    if not done:
        return
    target = job.config.target or job.dataset.target
    frame = job.dataset.frame[target]
    series = frame.iloc[:: max(1, len(frame) // 2000)].rename("value").reset_index()
    series.columns = ["time", "value"]
    marks = pd.DataFrame({"time": pd.to_datetime([o.time for o in done]), "origin": [o.index + 1 for o in done]})
    st.altair_chart(origins_chart(series, marks, y_title=target), width="stretch")
    st.subheader("Test RMSE by origin")
    st.altair_chart(error_by_origin_chart(_table(done)), width="stretch")
    rows = pd.DataFrame([{"origin": o.index + 1, "time": o.time, "train rows": o.train_rows, "test rows": o.test_rows,
                          **{who: s["rmse"] for who, s in o.scores.items()}, "model rank": o.rank,
                          **{f"coverage {float(k):.0%}": v for k, v in o.coverage.items()}} for o in done])
    st.dataframe(rows, hide_index=True)
    if len(done) > 1:
        from rnnlab.backtest import BacktestResult

        summ = BacktestResult(job.dataset.name, job.refit, done).summary()
        st.markdown("Mean ± spread (std over origins) of the test RMSE: " + " · ".join(
            f"**{who}** {v['rmse_mean']:.4g} ± {v['rmse_std']:.2g}" for who, v in summ.items())
            + f"; the model's mean rank {summ['model']['rank_mean']:.2g} of {len(summ)}.")


_live()
