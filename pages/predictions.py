"""Predictions: the selected run on the untouched test span, in original units, against
the naive / seasonal-naive / linear baselines; errors by horizon step; the forecast
beyond the end of the data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnnlab.data.builtin import value_title
from ui import charts
from ui.charts_bands import band_columns, with_bands
from ui.common import ensure_entry_script, fmt_time, guard, need_run, transform_words
from ui.views import view
from ui.widgets import run_selector

ensure_entry_script()

BASELINES = {"naive": "naive (last value)", "seasonal_naive": "seasonal naive", "linear": "linear AR",
             "ets": "ETS (damped trend)", "theta": "Theta"}
METRIC_NAMES = {"mae": "MAE", "rmse": "RMSE", "mape": "MAPE %", "smape": "sMAPE %", "mase": "MASE",
                "directional_accuracy": "direction hit rate", "r2": "R²", "skill_vs_naive": "skill vs naive",
                "coverage_80": "80 % interval coverage", "coverage_95": "95 % interval coverage", "msis": "MSIS (95 %)"}
ROW_NAMES = {"model": "model", **BASELINES}

st.title("Predictions")
run = run_selector()
if run is None:
    need_run()
    st.stop()
if (task_view := view(run.task)) is not None:  # another task draws its own page
    task_view.predictions_page(run)
    st.stop()

from rnnlab.tasks.forecast import is_close_to_naive, metrics_table  # noqa: E402  (torch: only once a run exists)

cfg, metrics = run.config, run.metrics
target = cfg.target or run.dataset.target
h = int(cfg.horizon or 1)
st.caption(f"**{run.dataset.name}** · target **{target}** · {cfg.cell.upper()} {cfg.hidden_size}×{cfg.num_layers}"
           f" · {cfg.seq_len} → {h} steps · {metrics.get('n_test_windows', 0):,} test windows · "
           f"trained {len(run.history)} epochs (best {run.train_info.get('best_epoch', '–')})")
if metrics.get("transform"):
    st.info(f"**Target transform: {transform_words(metrics['transform'])}**"
            f"{' (automatic choice)' if cfg.transform == 'auto' else ''}.  \n{metrics.get('transform_reason', '')}")

close = False
with guard("comparing with the naive forecast"):
    close = is_close_to_naive(run)
if close:
    skill = metrics.get("skill_vs_naive", float("nan"))
    st.warning(
        f"**The model is close to a lagged copy of its input** (skill vs naive {skill:+.1%}). Its forecasts are "
        "about as good as repeating the last observed value, so on the chart the model line looks like the actual "
        "series shifted one step to the right. The network has learned persistence, not the dynamics: a low error "
        "here says little. Try the diff or log-return transform, a longer input window or more epochs, and judge "
        "the model by its skill over the baselines rather than by how closely the lines overlap."
    )

# ----------------------------------------------------------------------------- metric table
st.subheader("Test metrics: model vs baselines")
table = None
with guard("building the metric table"):
    table = metrics_table(run)
if table is not None:
    shown = table.rename(index=ROW_NAMES, columns=METRIC_NAMES)
    pct_cols = [c for c in ("skill vs naive", "direction hit rate", *(c for c in shown.columns if "coverage" in str(c)))
                if c in shown.columns]
    styler = shown.style.format("{:,.4g}", na_rep="–").format("{:+.1%}", subset=[c for c in pct_cols if c.startswith("skill")],
                                                               na_rep="–")
    styler = styler.format("{:.1%}", subset=[c for c in pct_cols if not c.startswith("skill")], na_rep="–")
    lower_better = [c for c in ("MAE", "RMSE", "MAPE %", "sMAPE %", "MASE", "MSIS (95 %)") if c in shown.columns]
    styler = styler.highlight_min(subset=lower_better, color="#d1fae5", axis=0)
    st.dataframe(styler, width="stretch")
    st.caption("All errors on the test span in original units, averaged over every window and horizon step. "
               "Skill = 1 − RMSE / RMSE(naive): above 0 beats repeating the last value. Best value per column in green. "
               "Coverage: share of test targets inside each forecaster's split-conformal interval (calibrated on the "
               "validation span; the nominal level is the target); MSIS: the M4 interval score, lower is better.")
    for note in metrics.get("peer_notes") or []:
        st.caption(f"Note: {note}")

# ----------------------------------------------------------------------------- prediction vs actual
st.subheader("Prediction vs actual (test span)")
preds = run.predictions
if preds is None or len(preds) == 0:
    st.info("This run has no stored test predictions (the run folder had no predictions.csv).")
else:
    c1, c2 = st.columns([1, 2])
    if not 1 <= st.session_state.get("pred.step", 1) <= h:
        st.session_state["pred.step"] = 1
    step = c1.slider("Horizon step", 1, h, 1, key="pred.step",
                     help="k: each point is the forecast made k steps before that date") if h > 1 else 1
    chosen = c2.pills("Baselines on the chart", list(BASELINES), format_func=BASELINES.get, selection_mode="multi",
                      default=["naive"], key="pred.baselines", persist_state="session")
    frame = preds[preds["step"] == step]
    chart = charts.predictions_chart(frame, ["model", *(chosen or [])], y_title=value_title(run.dataset.name, target))
    bands = band_columns(frame)
    iv = metrics.get("intervals") or {}
    covered = {lab: iv.get(f"{float(lab) / 100:g}", {}).get("model", {}).get("coverage_by_step", [None] * h)[step - 1]
               for lab in bands}
    if bands:
        chart = with_bands(chart, frame.rename(columns={"target_time": "time"}), labels=bands, coverage=covered)
    st.altair_chart(chart, width="stretch")
    st.caption(f"Step {step}: the value forecast {step} step{'s' if step != 1 else ''} ahead for each date. "
               "Drag to pan, scroll to zoom, double-click to reset.")
    if bands:
        words = " · ".join(f"{lab} % band: covers **{c:.1%}** of the test targets at this step" if c is not None
                           and c == c else f"{lab} % band: coverage n/a (too few validation windows)"
                           for lab, c in covered.items())
        st.markdown(f"Shaded: split-conformal intervals of the model ({iv.get('method', '')} residuals from "
                    f"{iv.get('n_calibration', '?')} validation windows). {words}.")

# ----------------------------------------------------------------------------- errors by horizon step
per_step = metrics.get("per_step") or {}
if per_step and h > 1:
    st.subheader("Error by horizon step")
    metric = st.segmented_control("Metric", ["rmse", "mae"], format_func=str.upper, default="rmse",
                                  key="pred.metric", required=True)
    rows = [
        {"step": i + 1, "series": name, "value": v}
        for name, errs in per_step.items() for i, v in enumerate(errs.get(metric, []))
    ]
    st.altair_chart(charts.per_step_chart(pd.DataFrame(rows), metric=metric), width="stretch")
    st.caption("Errors usually grow with the step: the further ahead, the harder. A model line under the baselines "
               "at every step means it adds value across the whole horizon.")

# ----------------------------------------------------------------------------- forecast beyond the data
st.subheader("Forecast beyond the data")
fc = None
with guard("forecasting beyond the data"):
    fc = run.forecast()
if fc is not None:
    series = run.dataset.frame[target]
    n_hist = int(min(len(series), max(8 * h, 3 * int(cfg.seq_len or 30), 30)))
    history = series.iloc[-n_hist:].rename("value").reset_index()
    fchart = charts.forecast_chart(history, fc, y_title=value_title(run.dataset.name, target))
    if band_columns(fc):
        iv = metrics.get("intervals") or {}
        cov = {lab: iv.get(f"{float(lab) / 100:g}", {}).get("model", {}).get("coverage") for lab in band_columns(fc)}
        fchart = with_bands(fchart, fc, coverage=cov)
        st.caption("Bands: " + " · ".join(f"{lab} % interval (measured test coverage "
                                          f"{'n/a' if c is None or c != c else f'{c:.1%}'})" for lab, c in cov.items()))
    st.altair_chart(fchart, width="stretch")
    last = series.index[-1]
    when = fmt_time(last, run.dataset.steps or None)
    st.caption(f"The next {h} step{'s' if h != 1 else ''} after {when}, from the last "
               f"{cfg.seq_len} observed steps. No actual values exist here to check against.")
    with st.expander("Forecast values"):
        st.dataframe(fc.assign(forecast=fc["forecast"].map(lambda v: float(f"{v:.6g}"))), hide_index=True)
