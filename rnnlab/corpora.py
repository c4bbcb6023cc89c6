"""Text corpora and sequence-classification datasets: offline snapshots and user files.

Two containers, both torch-free:

- :class:`TextCorpus`: one string for character/word language models. ``kind`` is
  ``"continuous"`` (running text: plays, docs) or ``"lines"`` (one item per line: names).
- :class:`SequenceDataset`: variable-length sequences with one class label each, either
  numeric frames (``(T_i, F)`` float32 arrays) or strings.

Built-ins are gzip snapshots under ``data/text/`` and ``data/sequences/`` built by
``scripts/build_snapshots.py`` (sources, licences and sha256 in ``data/SOURCES.md``); reading
them needs only the standard library, numpy and pandas. User files go through
:func:`load_text_file` and :func:`load_sequence_csv` (rules in :mod:`rnnlab.sequence_csv`).
Anything a user can get wrong raises :class:`~rnnlab.errors.DataError` whose message names
the problem and the rule; nothing else escapes.

Text file rules: at most ``MAX_TEXT_BYTES`` (50 MiB, also after gunzip); UTF-8 (BOM or not),
UTF-16/UTF-32 with a BOM, UTF-16 without a BOM (recognised by its zero bytes); other bytes
are accepted as Windows-1252 only when they look like Western text (at most 5% non-ASCII
characters), with a warning; NUL bytes or over 1% control characters mean binary. ``\\r\\n``
and ``\\r`` become ``\\n`` (with a warning). A continuous corpus needs ``MIN_TEXT_CHARS``
(1,000) characters, a line corpus ``MIN_LINE_ITEMS`` (50) non-blank lines. ``kind="auto"``
picks "lines" when there are at least 50 non-blank lines, at least 90% of them are under
40 characters and at most 1% of all lines are blank (a word list); else "continuous".
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from rnnlab._textio import MAX_TEXT_BYTES, decode_text, maybe_gunzip, read_source
from rnnlab.data.builtin import DATA_DIR
from rnnlab.errors import DataError
from rnnlab.sequence_csv import load_sequence_csv as _load_sequence_csv
from rnnlab.sequence_csv import parse_sequence_table
from rnnlab.sequences import SequenceDataset

__all__ = [
    "DATA_DIR",
    "DEFAULT_CORPUS",
    "DEFAULT_SEQUENCE_DATASET",
    "MAX_TEXT_BYTES",
    "MIN_LINE_ITEMS",
    "MIN_TEXT_CHARS",
    "CorpusInfo",
    "SequenceDataset",
    "TextCorpus",
    "list_corpora",
    "list_sequence_datasets",
    "load_corpus",
    "load_sequence_csv",
    "load_sequence_dataset",
    "load_text_file",
]


MIN_TEXT_CHARS = 1_000  # a continuous corpus shorter than this cannot feed even a few training windows
MIN_LINE_ITEMS = 50  # a line corpus (names, words) needs at least this many non-blank lines
_LINE_ITEM_CHARS, _LINE_SHORT_SHARE, _LINE_BLANK_SHARE = 40, 0.90, 0.01  # kind="auto" rule
DEFAULT_CORPUS = "shakespeare-small"
DEFAULT_SEQUENCE_DATASET = "japanese-vowels"


# -----------------------------------------------------------------------------
# containers


@dataclass
class TextCorpus:
    """A text for language modelling; ``text`` uses ``\\n`` newlines only."""

    name: str
    text: str
    kind: Literal["continuous", "lines"] = "continuous"
    description: str = ""
    source: str = ""
    licence: str = ""
    warnings: list[str] = field(default_factory=list)  # every change the loader made

    @property
    def lines(self) -> list[str]:
        """The items of a line corpus (non-blank lines); for a continuous corpus its non-blank lines too."""
        return [ln for ln in self.text.split("\n") if ln.strip()]

    @property
    def n_chars(self) -> int:
        return len(self.text)

    def fingerprint(self) -> str:
        """Short sha256 hex (16 digits) of the text; stable across runs."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]




@dataclass(frozen=True)
class CorpusInfo:
    """One row of a built-in catalogue (what list_corpora / list_sequence_datasets return)."""

    name: str
    kind: str  # continuous | lines | frames | texts
    size: int  # characters for text corpora, sequences for sequence datasets
    unit: str  # "characters" or "sequences"
    classes: tuple[str, ...]  # empty for text corpora
    description: str
    source: str
    licence: str
    default: bool = False


# -----------------------------------------------------------------------------
# built-in registry (scripts/build_snapshots.py reads these specs to write data/SOURCES.md)


@dataclass(frozen=True)
class _CorpusSpec:
    name: str
    file: str  # path under data/
    kind: str  # continuous | lines | frames | texts
    description: str
    package: str  # pip package the snapshot was built from (build-time only), or "python"
    version: str  # the version the snapshot was built from; the build script refuses another
    member: str  # what was taken from the package
    origin: str
    licence: str

    @property
    def source(self) -> str:
        return f"{self.package} {self.version}: {self.member}; originally {self.origin}"


_PLAYS_SMALL = ("Hamlet", "Macbeth", "Romeo and Juliet", "A Midsummer Night's Dream", "Julius Caesar", "Othello",
                "King Lear", "The Tempest")
_SHAKESPEARE_ORIGIN = "Project Gutenberg etexts (1998-2000) via Open Shakespeare (Open Knowledge Foundation)"
_SHAKESPEARE_LICENCE = ("texts public domain; shakespeare package content CC BY 2.5 (Open Knowledge Foundation, "
                        "Open Shakespeare), code MIT")
_JV_LICENCE = ("CC BY 4.0 (UCI Machine Learning Repository; Kudo, Toyama, Shimbo 1999); sktime package: "
               "BSD-3-Clause")

_TEXT_SPECS: dict[str, _CorpusSpec] = {s.name: s for s in (
    _CorpusSpec("shakespeare-small", "text/shakespeare-small.txt.gz", "continuous",
                f"{len(_PLAYS_SMALL)} well-known Shakespeare plays, about 1 MB: {', '.join(_PLAYS_SMALL)} "
                "(modern-spelling Gutenberg texts; each play preceded by a title line).",
                "shakespeare", "0.6", "shksprdata/texts/<play>_gut.txt (8 plays)", _SHAKESPEARE_ORIGIN,
                _SHAKESPEARE_LICENCE),
    _CorpusSpec("shakespeare", "text/shakespeare.txt.gz", "continuous",
                "All 37 Shakespeare plays in the package, about 4.8 MB (modern-spelling Gutenberg texts; each "
                "play preceded by a title line, plays separated by a blank line; poems and Folio "
                "spellings left out).",
                "shakespeare", "0.6", "shksprdata/texts/*_gut.txt (37 plays)", _SHAKESPEARE_ORIGIN,
                _SHAKESPEARE_LICENCE),
    _CorpusSpec("python-docs", "text/python-docs.txt.gz", "continuous",
                "The Python 3.11 language reference topics shown by help() (pydoc_data.topics), joined in "
                "sorted key order, about 465 K characters.",
                "python", "3.11", "pydoc_data.topics.topics", "Python documentation",
                "Python Software Foundation License"),
    _CorpusSpec("names", "text/names.txt.gz", "lines",
                "US first names, one per line (title case), male and female lists merged, most frequent first "
                "(about 5,200 names; a line corpus for name generation).",
                "names", "0.3.0", "names/dist.male.first + names/dist.female.first",
                "US Census Bureau, 1990 census name frequency lists",
                "census data public domain; names package: MIT"),
)}
_SEQ_SPECS: dict[str, _CorpusSpec] = {s.name: s for s in (
    _CorpusSpec("japanese-vowels", "sequences/japanese-vowels.csv.gz", "frames",
                "Japanese Vowels: 640 utterances of /ae/ by 9 male speakers, 12 LPC cepstrum coefficients per "
                "frame, 7-29 frames; classify the speaker. Published split: 270 train / 370 test.",
                "sktime", "1.2.0", "sktime/datasets/data/JapaneseVowels/JapaneseVowels_{TRAIN,TEST}.ts",
                "UCI Machine Learning Repository, Japanese Vowels (Kudo, Toyama, Shimbo 1999)", _JV_LICENCE),
    _CorpusSpec("names-sex", "sequences/names-sex.csv.gz", "texts",
                "US first names labelled female/male (1990 census); a name on both lists goes to the list where "
                "its percentage is larger. Classify a name from its characters.",
                "names", "0.3.0", "names/dist.male.first + names/dist.female.first",
                "US Census Bureau, 1990 census name frequency lists",
                "census data public domain; names package: MIT"),
)}


def _info(spec: _CorpusSpec, size: int, unit: str, classes: tuple[str, ...], default: str) -> CorpusInfo:
    return CorpusInfo(spec.name, spec.kind, size, unit, classes, spec.description, spec.source, spec.licence,
                      default=spec.name == default)


def list_corpora() -> list[CorpusInfo]:
    """The built-in text corpora whose snapshot is present, default first."""
    return [_info(s, _corpus_cached(n).n_chars, "characters", (), DEFAULT_CORPUS)
            for n, s in _TEXT_SPECS.items() if (DATA_DIR / s.file).is_file()]


def list_sequence_datasets() -> list[CorpusInfo]:
    """The built-in sequence datasets whose snapshot is present, default first."""
    out = []
    for n, s in _SEQ_SPECS.items():
        if (DATA_DIR / s.file).is_file():
            ds = _sequences_cached(n)
            out.append(_info(s, len(ds), "sequences", tuple(ds.classes), DEFAULT_SEQUENCE_DATASET))
    return out


def load_corpus(name: str = DEFAULT_CORPUS) -> TextCorpus:
    """A built-in text corpus by name (a copy; the cache stays intact)."""
    if name not in _TEXT_SPECS:
        raise DataError(f"unknown text corpus {name!r}; built-in corpora: {', '.join(_TEXT_SPECS)}")
    c = _corpus_cached(name)
    return replace(c, warnings=list(c.warnings))


def load_sequence_dataset(name: str = DEFAULT_SEQUENCE_DATASET) -> SequenceDataset:
    """A built-in sequence dataset by name (a deep copy; the cache stays intact)."""
    if name not in _SEQ_SPECS:
        raise DataError(f"unknown sequence dataset {name!r}; built-in datasets: {', '.join(_SEQ_SPECS)}")
    return _sequences_cached(name).copy()


def _snapshot_bytes(spec: _CorpusSpec) -> bytes:
    path = DATA_DIR / spec.file
    if not path.is_file():
        raise DataError(f"snapshot file {path} is missing; rebuild it with "
                        "`python scripts/build_snapshots.py --download` (see data/SOURCES.md)")
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"snapshot file {path} is unreadable ({e}); rebuild it") from e


@functools.cache
def _corpus_cached(name: str) -> TextCorpus:
    spec = _TEXT_SPECS[name]
    try:
        text = _snapshot_bytes(spec).decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"snapshot file {spec.file} is not UTF-8 ({e}); rebuild it") from e
    return TextCorpus(name, text, spec.kind, spec.description, spec.source, spec.licence)  # type: ignore[arg-type]


@functools.cache
def _sequences_cached(name: str) -> SequenceDataset:

    spec = _SEQ_SPECS[name]
    text = _snapshot_bytes(spec).decode("utf-8", errors="strict")
    time_col = "step" if spec.kind == "frames" else None
    ds = parse_sequence_table(text, name=name, origin=spec.file, id_col="sequence_id", target="label",
                              time_col=time_col, ignore=("count",))
    return replace(ds, description=spec.description, source=spec.source, licence=spec.licence, warnings=[])


# -----------------------------------------------------------------------------
# user text files


def load_text_file(source: Any, name: str | None = None, *, kind: str = "auto",
                   max_bytes: int = MAX_TEXT_BYTES) -> TextCorpus:
    """Load a user text: a path (str or PathLike), bytes, or a file-like (a Streamlit upload).

    ``kind`` is "continuous", "lines" or "auto" (rule in the module docstring). A str is a
    path; pass text already in memory as ``io.StringIO``. Returns a TextCorpus whose
    ``warnings`` list every change made; raises DataError for anything unusable.
    """
    if kind not in ("auto", "continuous", "lines"):
        raise DataError(f"kind={kind!r} is not one of 'auto', 'continuous', 'lines'")
    raw, default_name, origin = read_source(source, max_bytes, "text")
    name = name or default_name
    raw = maybe_gunzip(raw, max_bytes, name)
    notes: list[str] = []
    text = decode_text(raw, name, notes)
    n_cr = text.count("\r")
    if n_cr:
        n_crlf = text.count("\r\n")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        notes.append(f"line endings normalised to \\n ({n_crlf:,} Windows \\r\\n, {n_cr - n_crlf:,} old-Mac \\r)")
    if not text.strip():
        raise DataError(f"{name!r} is empty (only whitespace); a corpus needs at least {MIN_TEXT_CHARS:,} characters")
    all_lines = text.split("\n")
    if all_lines and all_lines[-1] == "":
        all_lines.pop()
    items = [ln.strip() for ln in all_lines if ln.strip()]
    if kind == "auto":
        short = sum(len(it) < _LINE_ITEM_CHARS for it in items) / len(items)
        blank = 1 - len(items) / max(len(all_lines), 1)
        if len(items) >= MIN_LINE_ITEMS and short >= _LINE_SHORT_SHARE and blank <= _LINE_BLANK_SHARE:
            kind = "lines"
            notes.append(f"read as a line corpus (one item per line): {len(items):,} lines, {short:.0%} under "
                         f"{_LINE_ITEM_CHARS} characters; pass kind='continuous' to read it as running text")
        else:
            kind = "continuous"
    if kind == "lines":
        if len(items) < MIN_LINE_ITEMS:
            raise DataError(f"{name!r} has {len(items):,} non-blank lines; a line corpus needs at least "
                            f"{MIN_LINE_ITEMS} items (one per line)")
        n_blank = len(all_lines) - len(items)
        n_padded = sum(1 for ln in all_lines if ln.strip() and ln != ln.strip())
        if n_blank or n_padded:
            notes.append(f"line corpus: dropped {n_blank:,} blank lines and stripped spaces around {n_padded:,} items")
        text = "\n".join(items) + "\n"
    elif len(text) < MIN_TEXT_CHARS:
        raise DataError(f"{name!r} has {len(text):,} characters; a continuous corpus needs at least "
                        f"{MIN_TEXT_CHARS:,} (for one item per line use kind='lines', at least {MIN_LINE_ITEMS} lines)")
    return TextCorpus(name, text, kind, description=f"user text {name}", source=origin,  # type: ignore[arg-type]
                      warnings=notes)


def load_sequence_csv(source: Any, *, id_col: str = "sequence_id", target: str = "label", time_col: str | None = None,
                      name: str | None = None, max_bytes: int = MAX_TEXT_BYTES) -> SequenceDataset:
    """Load a sequence-classification CSV; see :func:`rnnlab.sequence_csv.load_sequence_csv` for the rules."""

    return _load_sequence_csv(source, id_col=id_col, target=target, time_col=time_col, name=name, max_bytes=max_bytes)
