"""A text run's own files in its run folder (the common ones are :mod:`rnnlab.runs`')::

    vocab.json    the fitted tokenizer (level, cap, special tokens, vocabulary and counts)
    text.txt.gz   the corpus the run was trained on, so a run reloads and samples anywhere
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any

from rnnlab.corpora import TextCorpus
from rnnlab.errors import RunError
from rnnlab.jsonfiles import read_json
from rnnlab.tasks.text.run import TextRun
from rnnlab.tokenizer import Tokenizer

REQUIRED_FILES = ("vocab.json", "text.txt.gz")
OPTIONAL_FILES: tuple[str, ...] = ()


def describe_data(run: TextRun) -> dict[str, Any]:
    c = run.dataset
    return {"kind": "text", "corpus_kind": c.kind, "name": c.name, "description": c.description, "source": c.source,
            "licence": c.licence, "characters": c.n_chars, "level": run.tokenizer.level,
            "vocab_size": run.tokenizer.vocab_size}


def write_files(run: TextRun, folder: Path) -> None:
    run.tokenizer.save(folder / "vocab.json")
    with open(folder / "text.txt.gz", "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
        gz.write(run.dataset.text.encode("utf-8"))


def read_run(folder: Path, doc: dict[str, Any], **common: Any) -> TextRun:
    model = common["model"]
    ds_doc = doc.get("dataset")
    if not isinstance(ds_doc, dict):
        raise RunError(f"config.json in '{folder}' has no dataset description (a mapping is expected)")
    tok = Tokenizer.from_dict(read_json(folder, "vocab.json"))
    if tok.vocab_size != model.shape.vocab_size or tok.level != common["config"].level:
        raise RunError(f"vocab.json in '{folder}' ({tok.level} level, {tok.vocab_size} tokens) does not match the "
                       f"model ({common['config'].level} level, vocabulary of {model.shape.vocab_size})")
    try:
        text = gzip.decompress((folder / "text.txt.gz").read_bytes()).decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise RunError(f"text.txt.gz in '{folder}' cannot be read ({exc})") from exc
    kind = ds_doc.get("corpus_kind", "continuous")
    if kind not in ("continuous", "lines") or (kind == "lines") != tok.lines:
        raise RunError(f"config.json in '{folder}': corpus kind {kind!r} does not match vocab.json")
    corpus = TextCorpus(name=str(ds_doc.get("name", "run text")), text=text, kind=kind,
                        description=str(ds_doc.get("description", "")), source=str(ds_doc.get("source", "")),
                        licence=str(ds_doc.get("licence", "")))
    return TextRun(**common, dataset=corpus, tokenizer=tok)
