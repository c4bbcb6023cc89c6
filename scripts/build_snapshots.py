"""Rebuild the offline dataset snapshots in data/ and data/SOURCES.md.

    python scripts/build_snapshots.py [--out DIR] [--only NAME ...]

Reads the sample data shipped inside three pip packages (arch, vega_datasets,
bokeh_sampledata; build-time only, never needed at run time; nothing is downloaded) and
writes one gzip CSV per dataset: header ``time,<columns>``, ISO timestamps, floats in
shortest round-trip form. gzip is written with mtime=0 and no file name, so the bytes and
the sha256 recorded in SOURCES.md are identical on every rebuild with the same package
versions. Registry metadata (target, description, origin, licence) lives in
``rnnlab.data.builtin.BUILTINS``; this script only adds what it measures (rows, range, sha256).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata as md
import io
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rnnlab.calendar import regular_freq  # noqa: E402  (after the path tweak)
from rnnlab.data.builtin import BUILTINS  # noqa: E402

# -----------------------------------------------------------------------------
# one builder per dataset: returns a frame indexed by time with lower_snake columns


def _arch(module: str) -> pd.DataFrame:
    import importlib

    df = importlib.import_module(f"arch.data.{module}").load()
    df.columns = [c.strip().lower().replace(" ", "_") for c in df.columns]
    return df[["open", "high", "low", "close", "adj_close", "volume"]]


def _seattle_weather() -> pd.DataFrame:
    from vega_datasets import data

    df = data.seattle_weather().set_index("date")
    return df[["precipitation", "temp_max", "temp_min", "wind"]]  # 'weather' is categorical


def _hourly_temps(loader: str) -> pd.DataFrame:
    """Hourly 2010 series in local time: the DST spring-forward hour is absent; fill it."""
    from vega_datasets import data

    df = getattr(data, loader)().set_index("date")[["temp"]].sort_index()
    full = pd.date_range(df.index.min(), df.index.max(), freq="h", unit=df.index.unit)
    missing = full.difference(df.index)
    assert len(missing) <= 2, f"{loader}: {len(missing)} missing hours, expected only the DST hour"
    return df.reindex(full).interpolate(method="time").rename_axis("date")


def _stocks_monthly() -> pd.DataFrame:
    from vega_datasets import data

    df = data.stocks().pivot(index="date", columns="symbol", values="price")
    df.columns = [str(c).lower() for c in df.columns]
    return df[["aapl", "amzn", "goog", "ibm", "msft"]]  # goog: NaN before its 2004 IPO


def _stocks_daily() -> pd.DataFrame:
    import bokeh_sampledata.stocks as bs

    df = bs.data
    df = df[df["ticker"].isin(["AAPL", "GOOG", "IBM", "MSFT"])]
    wide = df.pivot(index="date", columns="ticker", values="adj_close")
    wide.columns = [str(c).lower() for c in wide.columns]
    return wide[["aapl", "goog", "ibm", "msft"]]  # goog: NaN before 2004-08-19


BUILDERS: dict[str, Callable[[], pd.DataFrame]] = {
    "sp500": lambda: _arch("sp500"),
    "nasdaq": lambda: _arch("nasdaq"),
    "seattle-weather": _seattle_weather,
    "seattle-temps": lambda: _hourly_temps("seattle_temps"),
    "sf-temps": lambda: _hourly_temps("sf_temps"),
    "stocks-monthly": _stocks_monthly,
    "stocks-daily": _stocks_daily,
}


# -----------------------------------------------------------------------------
# writing


def to_gzip_csv(frame: pd.DataFrame) -> bytes:
    """Deterministic gzip CSV bytes: fixed header/format, gzip mtime=0 and empty name."""
    frame = frame.astype("float64")
    frame.index = pd.DatetimeIndex(frame.index)
    has_time = bool((frame.index != frame.index.normalize()).any())
    text = frame.to_csv(
        index_label="time",
        date_format="%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d",
        lineterminator="\n",
    )
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return buf.getvalue()


def package_version(pkg: str) -> str:
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return "?"


def package_licence(pkg: str) -> str:
    """The licence declared in the installed package metadata."""
    try:
        meta = md.metadata(pkg)
    except md.PackageNotFoundError:
        return "?"
    return meta.get("License-Expression") or meta.get("License") or "?"


def build(out: Path, only: list[str] | None = None) -> list[dict[str, str]]:
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    for name, spec in BUILTINS.items():
        path = out / spec.file
        if only and name not in only:
            if path.is_file():  # keep the existing snapshot in the table
                frame = pd.read_csv(path, index_col="time", parse_dates=["time"])
                rows.append(describe(name, frame, path.read_bytes()))
            continue
        try:
            frame = BUILDERS[name]()
        except ImportError as e:
            print(f"skip {name}: {e} (pip install {spec.package})", file=sys.stderr)
            rows.append({"name": name, "skipped": f"not built: {spec.package} not installed"})
            continue
        frame = frame.sort_index()
        assert frame.index.is_unique, name
        assert frame[spec.target].notna().all(), f"{name}: default target {spec.target} has NaN"
        blob = to_gzip_csv(frame)
        path.write_bytes(blob)
        rows.append(describe(name, pd.read_csv(io.BytesIO(gzip.decompress(blob)), index_col="time", parse_dates=["time"]), blob))
        print(f"{name:16s} {len(frame):6d} rows  {len(blob) / 1024:7.1f} KiB  -> {path}")
    write_sources(out / "SOURCES.md", rows)
    return rows


def describe(name: str, frame: pd.DataFrame, blob: bytes) -> dict[str, str]:
    spec = BUILTINS[name]
    idx = pd.DatetimeIndex(frame.index)
    fmt = "%Y-%m-%d %H:%M" if (idx != idx.normalize()).any() else "%Y-%m-%d"
    return {
        "name": name,
        "file": spec.file,
        "loader": f"`{spec.package}` {package_version(spec.package)}: `{spec.loader}`",
        "origin": spec.origin,
        "licence": f"{spec.licence} (package metadata: {package_licence(spec.package)})",
        "rows": str(len(frame)),
        "columns": ", ".join(frame.columns),
        "target": spec.target,
        "freq": str(regular_freq(idx)),
        "range": f"{idx.min().strftime(fmt)} .. {idx.max().strftime(fmt)}",
        "sha256": hashlib.sha256(blob).hexdigest(),
    }


def write_sources(path: Path, rows: list[dict[str, str]]) -> None:
    lines = [
        "# Dataset snapshots",
        "",
        "Built by `python scripts/build_snapshots.py` from sample data bundled in pip packages",
        "(build-time only; the app reads these files with pandas alone). gzip is written with",
        "mtime=0, so a rebuild with the same package versions reproduces the sha256 below;",
        "`tests/test_data.py` checks that the committed files still match this table.",
        "",
        "| name | file | package + loader | original source | licence | rows | columns | target | freq | date range | sha256 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for r in rows:
        if "skipped" in r:
            notes.append(f"- `{r['name']}`: {r['skipped']}")
            continue
        cells = [r["name"], f"`{r['file']}`", r["loader"], r["origin"], r["licence"], r["rows"],
                 r["columns"], f"`{r['target']}`", f"`{r['freq']}`", r["range"], f"`{r['sha256']}`"]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    lines += [
        "",
        "Notes",
        "",
        "- Columns are lower_snake_case floats; the index column is `time` (ISO dates, local time where hourly).",
        "- `seattle-temps`, `sf-temps`: local wall-clock time; the hour skipped by the 2010-03-14 DST change is",
        "  filled by linear interpolation so the series is regular hourly (`h`).",
        "- `stocks-monthly`, `stocks-daily`: `goog` is empty (NaN) before Google's IPO; the loader keeps it and",
        "  trims those rows when `goog` is selected.",
        "- `sp500`, `nasdaq`, `stocks-daily` are trading-day series: weekends and holidays are absent, so pandas",
        "  infers no frequency (`None`).",
        "- `stocks-daily` leaves out FB (only 2012-2013 in bokeh_sampledata).",
        *notes,
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data", help="output folder (default: data/)")
    ap.add_argument("--only", nargs="*", choices=list(BUILTINS), help="rebuild only these datasets")
    args = ap.parse_args(argv)
    build(args.out, args.only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
