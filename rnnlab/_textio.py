"""Shared readers of rnnlab.corpora and rnnlab.sequence_csv: any source -> bytes -> str.

Rules (stated in the messages): sizes up to ``max_bytes`` raw and after gunzip; UTF-8 with or
without BOM, UTF-16/UTF-32 with a BOM, UTF-16 without a BOM (recognised by zero bytes in at
least 30% of the odd, or even, positions of the first 4 KiB and at most 5% of the others);
otherwise Windows-1252, only when at most 5% of the characters come out non-ASCII (with a
warning); NUL bytes or more than 1% control characters mean binary.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path
from typing import Any

from rnnlab.errors import DataError

_MAX_NON_ASCII_CP1252 = 0.05  # above this share of non-ASCII characters cp1252 is not plausible
MAX_TEXT_BYTES = 50 * 1024 * 1024  # stated limit for text and sequence CSV files (raw and after gunzip)
_MAX_CONTROL_SHARE = 0.01


def read_source(source: Any, max_bytes: int, what: str) -> tuple[bytes | str, str, str]:
    """Read at most max_bytes (+1 to detect overflow); returns (data, default name, origin)."""
    limit = f"the size limit is {max_bytes:,} bytes ({max_bytes / 2**20:.0f} MiB)"
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_bytes:
            raise DataError(f"{what} data is {len(data):,} bytes; {limit}")
        return data, f"uploaded-{what.lower()}", "uploaded data"
    if isinstance(source, (str, os.PathLike)):
        hint = "; a str is a file path: pass text in memory as io.StringIO" if "\n" in str(source) else ""
        try:
            path = Path(os.fspath(source)).expanduser()
            st = path.stat()
            if not path.is_file():
                raise DataError(f"{str(path)!r} is not a regular file")
            if st.st_size > max_bytes:
                raise DataError(f"{what} file {path.name!r} is {st.st_size:,} bytes; {limit}")
            with open(path, "rb") as fh:
                data = fh.read(max_bytes + 1)
        except (OSError, ValueError, TypeError) as e:
            raise DataError(f"{what} file {str(source)[:200]!r} not found or not readable "
                            f"({e.__class__.__name__}){hint}") from e
        if len(data) > max_bytes:
            raise DataError(f"{what} file {path.name!r} exceeds the limit; {limit}")
        return data, path.name, str(path.resolve())
    if hasattr(source, "getvalue") or hasattr(source, "read"):
        fname = Path(str(getattr(source, "name", "") or f"uploaded-{what.lower()}")).name
        try:
            data = source.getvalue() if hasattr(source, "getvalue") else source.read(max_bytes + 1)
        except (OSError, ValueError, TypeError, AttributeError) as e:
            raise DataError(f"cannot read {what} upload {fname!r}: {e}") from e
        if data is None:
            data = b""
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if not isinstance(data, (bytes, str)):
            raise DataError(f"{what} upload {fname!r} returned {type(data).__name__}, expected bytes or text")
        if len(data) > max_bytes:
            raise DataError(f"{what} upload {fname!r} is larger than the limit; {limit}")
        return data, fname, f"uploaded file {fname!r}"
    raise DataError(f"cannot load {what} from a {type(source).__name__}; pass a path, bytes or a file object")


def maybe_gunzip(raw: bytes | str, max_bytes: int, name: str) -> bytes | str:
    """Decompress gzip content (by magic bytes), refusing more than max_bytes of output."""
    if not isinstance(raw, bytes) or not raw.startswith(b"\x1f\x8b"):
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
            out = gz.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error, ValueError) as e:
        raise DataError(f"{name!r} looks gzip-compressed but cannot be decompressed ({e})") from e
    if len(out) > max_bytes:
        raise DataError(f"{name!r} decompresses to more than {max_bytes:,} bytes, the size limit")
    return out


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xef\xbb\xbf", "utf-8-sig"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_MAGIC = ((b"PK\x03\x04", "a ZIP archive (.zip/.docx/.xlsx?)"), (b"%PDF", "a PDF document"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"))


def decode_text(raw: bytes | str, name: str, notes: list[str]) -> str:
    """bytes -> str by the rules in the module docstring; refuses binary and undecodable data."""
    if isinstance(raw, str):
        text = raw.removeprefix("\ufeff")
    else:
        for magic, what in _MAGIC:
            if raw.startswith(magic):
                raise DataError(f"{name!r} is {what}, not plain text; export it as a UTF-8 text file")
        enc = next((e for bom, e in _BOMS if raw.startswith(bom)), None) or _utf16_without_bom(raw)
        if enc is not None:
            try:
                text = raw.decode(enc).removeprefix("\ufeff")
            except UnicodeDecodeError as e:
                raise DataError(f"{name!r} looks like {enc.upper()} (byte-order mark or zero-byte pattern) but "
                                f"is not valid {enc.upper()}: {e.reason} at byte {e.start:,}") from e
            if enc.startswith("utf-16") and raw[:2] not in (b"\xff\xfe", b"\xfe\xff"):
                notes.append(f"decoded as {enc.upper()} (no byte-order mark; recognised by its zero bytes)")
        else:
            nul = raw.find(b"\x00")
            if nul >= 0:
                raise DataError(f"{name!r} contains a NUL byte at byte {nul:,}: it is binary, not a text file")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                text = _cp1252_or_fail(raw, e, name, notes)
    nul = text.find("\x00")
    if nul >= 0:
        raise DataError(f"{name!r} contains a NUL character at character {nul:,}: it is binary, not text")
    sample = text[:65536]
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f") or 0x7F <= ord(ch) < 0xA0)
    if sample and bad / len(sample) > _MAX_CONTROL_SHARE:
        raise DataError(f"{name!r} looks binary: {bad:,} control characters in its first {len(sample):,} "
                        f"(more than {_MAX_CONTROL_SHARE:.0%}); a text file must be plain text")
    return text


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 text without a BOM: mostly-ASCII text has a zero in every other byte."""
    sample = raw[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    z_even, z_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if z_odd >= 0.3 and z_even <= 0.05:
        return "utf-16-le"
    if z_even >= 0.3 and z_odd <= 0.05:
        return "utf-16-be"
    return None


def _cp1252_or_fail(raw: bytes, err: UnicodeDecodeError, name: str, notes: list[str]) -> str:
    where = f"byte 0x{raw[err.start]:02X} at byte {err.start:,} ({err.reason})"
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        text = ""
    if text and sum(ord(ch) > 127 for ch in text) / len(text) <= _MAX_NON_ASCII_CP1252:
        notes.append(f"not valid UTF-8 ({where}); decoded as Windows-1252 (latin-1 superset): check accented "
                     "characters, or save the file as UTF-8")
        return text
    raise DataError(f"{name!r} is not valid UTF-8 ({where}), has no UTF-16 byte-order mark and does not look like "
                    f"UTF-16 or Windows-1252 text (at most {_MAX_NON_ASCII_CP1252:.0%} non-ASCII characters); "
                    "save it as UTF-8")
