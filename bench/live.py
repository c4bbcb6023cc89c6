"""Training through the dashboard's live path vs headless, interleaved in one process.

* ``headless``: ``pipeline.train(prep, callbacks=[events.append], stop_event=Event())`` in a
  plain background thread (the job trains in one too; torch's thread pool behaves
  differently in the main thread, which would confound the comparison).
* ``live``: ``rnnlab.jobs.TrainingJob`` (the dashboard's path: background thread, per-batch
  callback, live validation preview) with a poller thread that, like the Train page's
  fragment, calls ``job.touch()`` and ``job.snapshot()`` every 0.5 s and builds the page's
  two charts (``ui.charts.live_training``: loss curves and validation forecast as Vega-Lite
  dicts) and what Streamlit makes of them before sending (Arrow datasets, JSON); no browser.

Both arms train the same reference model (sp500, seq_len 60, 1-step target, LSTM 64 x 2,
batch 64) for the same number of epochs and include the run's evaluation. The job's data
preparation is done before the clock starts (as for headless). Reported: median seconds
and the median per-round ratio live / headless (goal: <= 1.25).

Modes: ``page`` (poll every ``--poll`` s, default 0.5 s, as the issue asks), ``page-1s``
(every 1.0 s: the Train page's own refresh interval), ``snapshot`` (touch + snapshot only,
no charts: the core's own share of the live path).

    python -m bench.live [--reps 3] [--epochs 2] [--poll 0.5] [--modes page,page-1s,snapshot]
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from bench import common
from bench.speed import reference_prepared

GOAL = 1.25


def _as_streamlit_sends(spec: dict) -> int:
    """What ``st.vega_lite_chart(spec, width="stretch")`` does with the dict before sending it
    (datasets to Arrow, JSON, name stabilisation); returns the message size. Falls back to
    ``json.dumps`` if Streamlit's internals moved."""
    try:
        from streamlit.elements.vega_charts import (
            _marshall_chart_data,
            _prepare_vega_lite_spec,
            _stabilize_vega_json_spec,
        )
        from streamlit.proto.VegaLiteChart_pb2 import VegaLiteChart
    except ImportError:  # pragma: no cover - internal module moved
        return len(json.dumps(spec, default=str))
    proto = VegaLiteChart()
    spec = _prepare_vega_lite_spec(spec, True)
    _marshall_chart_data(proto, spec)
    proto.spec = _stabilize_vega_json_spec(json.dumps(spec))
    return proto.ByteSize()


def draw_like_page(snap: Any, target: str) -> int:
    """What ``pages/train.py::_draw_charts`` computes for one redraw (``ui.charts.live_training``)
    and what Streamlit makes of the two dicts; returns the message size."""
    from ui import charts

    specs = charts.live_training(snap.history, snap.batch_losses, snap.preview, best_epoch=snap.best_epoch or None,
                                 y_title=target, height=280)
    return sum(_as_streamlit_sends(s) for s in specs)


def run_live(job: Any, poll: float, stats: dict[str, Any], draw: bool = True) -> float:
    """Start ``job``, poll it like a page until it finishes (``draw``: also build the charts);
    returns wall seconds."""
    target = job.config.target or ""
    redraws, draw_s = 0, 0.0
    done = threading.Event()

    def poller() -> None:
        nonlocal redraws, draw_s
        while not done.is_set():
            t = time.perf_counter()
            job.touch()
            snap = job.snapshot()
            if draw:
                draw_like_page(snap, target)
            draw_s += time.perf_counter() - t
            redraws += 1
            if snap.finished:
                break
            done.wait(poll)

    c0 = time.process_time()
    t0 = time.perf_counter()
    job.start()
    th = threading.Thread(target=poller, name="bench-poller", daemon=True)
    th.start()
    job.join()
    elapsed = time.perf_counter() - t0
    done.set()
    th.join()
    stats.setdefault("cpu", []).append(time.process_time() - c0)
    if job.status not in ("done", "stopped"):
        raise RuntimeError(f"live job ended {job.status}: {job.snapshot().message}")
    stats.setdefault("polls", []).append(redraws)
    stats.setdefault("poll_seconds", []).append(round(draw_s, 3))
    return elapsed


MODES = {
    "page": "TrainingJob + poller: touch() + snapshot() + both Train-page charts as Streamlit sends them",
    "page-1s": "as page, but polling every 1.0 s: the Train page's own refresh (pages/train.py LIVE_REFRESH)",
    "snapshot": "TrainingJob + poller: touch() + snapshot() only (the core's share of the live path)",
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--poll", type=float, default=0.5, help="seconds between polls (snapshot + chart builds)")
    p.add_argument("--modes", default="page,page-1s,snapshot", help="comma list of live variants: " + ", ".join(MODES))
    p.add_argument("--rows", type=int, default=0, help="use only the first ROWS rows of the series (tests)")
    p.add_argument("--hidden", type=int, default=64)
    args = p.parse_args(argv)
    started = time.perf_counter()
    threads = common.setup_threads(args.threads)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in MODES:
            p.error(f"unknown mode {m!r}; choose from {', '.join(MODES)}")

    from rnnlab import pipeline
    from rnnlab.jobs import TrainingJob

    prep = reference_prepared(args.rows or None, cell="lstm", hidden_size=args.hidden, batch_size=64,
                              epochs=args.epochs, patience=0)
    stats: dict[str, dict[str, Any]] = {m: {"previews": []} for m in modes}

    def headless() -> float:
        # in a plain background thread, like the job: torch's intra-op pool behaves differently in
        # the main thread and in other threads (see bench/README.md), so both arms train in one
        events: list = []
        th = threading.Thread(target=lambda: pipeline.train(prep, callbacks=[events.append],
                                                            stop_event=threading.Event()), name="bench-headless")
        t = time.perf_counter()
        th.start()
        th.join()
        return time.perf_counter() - t

    def live_arm(mode: str):
        def arm() -> float:
            job = TrainingJob(prep.dataset, prep.config, heartbeat_timeout=60.0)  # prepares: not timed
            count = [0]
            orig = job._update_preview

            def counted(*a: Any, **k: Any) -> None:
                count[0] += 1
                orig(*a, **k)

            job._update_preview = counted  # type: ignore[method-assign]
            try:
                poll = 1.0 if mode == "page-1s" else args.poll
                return run_live(job, poll, stats[mode], draw=mode.startswith("page"))
            finally:
                stats[mode]["previews"].append(count[0])

        return arm

    print(f"-- live vs headless: LSTM {args.hidden} x 2, batch 64, {len(prep.train)} windows, {args.epochs} epochs, "
          f"poll every {args.poll} s", flush=True)
    arms = {"headless": headless, **{m: live_arm(m) for m in modes}}
    cpu: dict[str, list[float]] = {}
    t = common.interleave(arms, reps=args.reps, warmup=args.warmup, cpu=cpu)
    results, display = {}, []
    for m in modes:
        ratios = common.paired_ratios(t[m], t["headless"])
        st = stats[m]
        cpu[m] = stats[m]["cpu"]  # measured inside run_live: the job's data preparation excluded
        cpu_ratio = common.median(common.paired_ratios(cpu[m], cpu["headless"]))
        results[m] = {"description": MODES[m], "live_s": common.summary(t[m]), "ratio": common.median(ratios),
                      "cpu_s": common.summary(cpu[m]), "cpu_ratio": cpu_ratio,
                      "ratios": [round(r, 4) for r in ratios], "goal": GOAL, "goal_met": common.median(ratios) <= GOAL,
                      "polls_per_run": st.get("polls", []), "poll_busy_seconds_per_run": st.get("poll_seconds", []),
                      "previews_per_run": st["previews"]}
        display.append({"live path": m, "headless s": common.median(t["headless"]), "live s": common.median(t[m]),
                        "ratio": common.median(ratios), "CPU ratio": cpu_ratio, "polls/run": common.median(st.get("polls", [])),
                        "poll busy s/run": common.median(st.get("poll_seconds", [])),
                        "previews/run": common.median(st["previews"]),
                        "goal <=1.25": "met" if common.median(ratios) <= GOAL else "MISSED"})
    print()
    print(common.table(display, title=f"Live (TrainingJob + poller) vs headless (medians of {args.reps} interleaved "
                                      f"rounds, {threads} torch threads)"))
    payload = {"threads": threads, "reps": args.reps, "epochs": args.epochs, "poll_interval_s": args.poll,
               "train_windows": len(prep.train), "val_windows": len(prep.val),
               "headless_s": common.summary(t["headless"]), "headless_cpu_s": common.summary(cpu["headless"]),
               "modes": results,
               "notes": "headless = pipeline.train (training + evaluation); live = TrainingJob started and joined "
                        "while a poller thread polls every poll_interval_s. 'poll busy' = seconds the poller spent "
                        "in touch/snapshot/chart building; cpu_ratio compares process CPU seconds (training thread + "
                        "poller). Data preparation is outside both timings."}
    common.write_result("live", payload, args.out, started)
    return payload


if __name__ == "__main__":
    main()
