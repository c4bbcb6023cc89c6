"""A hostile-input harness: a few hundred bad inputs through the CLI (in-process ``cli.main``), the
Python API and (with ``--app``) the dashboard via AppTest, each classified as

* ``clean``: refused with one message naming the problem (CLI: exit 2 and one ``error:`` line;
  API: an :class:`rnnlab.errors.RnnlabError`), or accepted with a correct result (the case's oracle);
* ``traceback``: any other exception (CLI: anything escaping ``main``);
* ``hang``: no answer within the case's time limit;
* ``wrong``: accepted, but the oracle finds the result silently wrong (or data was lost).

``python -m bench.hostile [--app] [--only 1,3] [--out DIR]`` prints one line per failing case, a count
per item and class, and writes ``bench/results/hostile.json``. Cases are numbered by the item of issue
18 they attack. Sizes are small (tiny models, 1-2 epochs) so the whole run takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import bench.hostile_data  # noqa: F401,E402  (registers its cases)
import bench.hostile_runs  # noqa: F401,E402
from bench.hostile_common import (
    CASES,
    Case,
    Hang,
    Wrong,
    check,
    series_csv,
)


# ============================================================================= runner
def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def run_case(c: Case) -> tuple[str, str]:
    from rnnlab.errors import RnnlabError

    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(math.ceil(c.limit)))
    try:
        c.fn(tmp)
        return "clean", ""
    except Wrong as e:
        return "wrong", str(e)[:300]
    except Hang:
        return "hang", f"no answer within {c.limit:.0f} s"
    except RnnlabError as e:
        return "clean", "refused: " + str(e)[:200]
    except Exception as e:  # noqa: BLE001
        tb = traceback.format_exception(e)
        return "traceback", f"{type(e).__name__}: {str(e)[:200]} @ {tb[-2].strip()[:200] if len(tb) > 1 else ''}"
    finally:
        signal.alarm(0)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def app_cases() -> list[Case]:
    """Dashboard cases through AppTest (the Data page's upload): a bad file shows an error and keeps the
    previous dataset, a good one loads with the right calendar; never an exception."""
    out = []

    def upload_case(item: int, label: str, payload: bytes, keep: bool, index: pd.DatetimeIndex | None = None,
                    order: str | None = None) -> Case:
        def run(tmp: Path) -> None:
            from tests.app.apptools import open_app, session_dataset

            at = open_app("data")
            before = session_dataset(at)
            at.button_group(key="data.source").set_value("Upload CSV").run()
            if order is not None:
                at.selectbox(key="data.csv_dayfirst").set_value(order).run()
            at.file_uploader(key="data.csv").set_value(("hostile.csv", payload, "text/csv")).run()
            if at.exception:
                raise RuntimeError(str([e.value for e in at.exception])[:200])
            now = session_dataset(at)
            if keep:
                check(now is before, "the bad dataset replaced the previous one")
                check(any("Keeping the previous dataset" in str(e.value) for e in at.error), "no error shown")
            else:
                check(now is not before and now.name == "hostile.csv", "the upload was not used")
                if index is not None:
                    check(bool((pd.DatetimeIndex(now.frame.index) == index).all()), "dates read wrongly in the app")
        return Case(item, f"app upload: {label}", run, 180)

    n = 200
    v = 50 + np.cumsum(np.random.default_rng(0).normal(0, 1, n))
    sentinel = v.copy()
    sentinel[57] = 1e300
    out.append(upload_case(5, "1e300 sentinel", series_csv(n, values=sentinel).encode(), keep=True))
    holes = v.astype(object)
    holes[5:190] = ""
    out.append(upload_case(19, "93% missing", series_csv(n, values=holes).encode(), keep=True))
    out.append(upload_case(6, "no time column, 100k rows", ("v\n" + "\n".join(str(i % 97) for i in range(100_000))).encode(),
                           keep=False))
    out.append(upload_case(17, "UTF-16 without BOM", series_csv(50).encode("utf-16-le"), keep=False))
    idx = pd.date_range("2015-01-01", periods=120, freq="BMS")
    out.append(upload_case(1, "monthly dd/mm/yyyy", series_csv(120, freq="BMS", start="2015-01-01", fmt="%d/%m/%Y").encode(),
                           keep=False, index=idx))
    days = pd.date_range("2021-01-01", periods=12, freq="D")
    out.append(upload_case(1, "ambiguous dates, day first chosen on the page",
                           series_csv(12, freq="D", start="2021-01-01", fmt="%d/%m/%Y").encode(), keep=False,
                           index=days, order="day first (31/12/2020)"))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", help="comma-separated item numbers")
    p.add_argument("--app", action="store_true", help="also the AppTest cases (slow)")
    p.add_argument("--out", default="bench/results")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    cases = list(CASES) + (app_cases() if args.app else [])
    if args.only:
        keep = {int(x) for x in args.only.split(",")}
        cases = [c for c in cases if c.item in keep]
    results = []
    t0 = time.perf_counter()
    for c in cases:
        t = time.perf_counter()
        outcome, detail = run_case(c)
        results.append({"item": c.item, "case": c.name, "outcome": outcome, "detail": detail,
                        "seconds": round(time.perf_counter() - t, 2)})
        if outcome != "clean" or not args.quiet:
            print(f"[{outcome:9s}] {c.item:2d} {c.name}: {detail}", flush=True)
    counts = Counter(r["outcome"] for r in results)
    by_item: dict[int, Counter[str]] = {}
    for r in results:
        by_item.setdefault(r["item"], Counter())[r["outcome"]] += 1
    print(f"\n{len(results)} cases in {time.perf_counter() - t0:.0f} s: clean {counts['clean']}, traceback "
          f"{counts['traceback']}, hang {counts['hang']}, silent wrong {counts['wrong']}")
    for item in sorted(by_item):
        c = by_item[item]
        print(f"  item {item:2d}: {sum(c.values()):3d} cases, clean {c['clean']}, traceback {c['traceback']}, "
              f"hang {c['hang']}, wrong {c['wrong']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "hostile.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M"), "counts": dict(counts),
                                                  "results": results}, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
