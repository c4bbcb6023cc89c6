"""Run archives: a run folder as a zip, and its safe extraction.

An uploaded archive is checked before anything is written: a real zip that Python can read
(no encryption, a known compression), no absolute or ``..`` paths, no links or special files,
only run files, the required files of its task, and at most ``MAX_ARCHIVE_BYTES`` once
expanded. It is extracted into a new hidden folder that is renamed into place only when every
member was read completely, so a corrupt archive never leaves a half-written run.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

from rnnlab.errors import RunError
from rnnlab.jsonfiles import dumps
from rnnlab.run import Run
from rnnlab.runs import ALL_RUN_FILES, COMMON_FILES, load_run, required_files
from rnnlab.tasks import REGISTRY

MAX_ARCHIVE_BYTES = 200 * 1024 * 1024  # uncompressed total an archive may expand to
# what Python's zip reader raises on archives it cannot read (encrypted, unknown compression, corrupt)
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error,
               OSError, ValueError, UnicodeDecodeError)


def zip_run(directory: str | os.PathLike[str]) -> bytes:
    """The run folder as a zip archive (bytes), files at the archive root. The archive is meant to be
    shared, so config.json goes in without the local paths it records (the CSV's folder, the run
    folder): file names only (:func:`strip_local_paths`). Links in the folder are not followed."""
    folder = Path(directory)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in ALL_RUN_FILES:
            path = folder / name
            if not path.is_file() or path.is_symlink():
                continue
            if name == "config.json":
                try:
                    doc = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                    raise RunError(f"config.json in '{folder}' cannot be read ({exc})") from exc
                zf.writestr(name, dumps(strip_local_paths(doc)))
            else:
                zf.write(path, arcname=name)
    return buf.getvalue()


def _file_name(value: Any) -> Any:
    """A local path as its file name only ('/home/me/data/prices.csv' -> 'prices.csv'); other text as is."""
    if not isinstance(value, str) or value.lower().startswith("yf:") or not ("/" in value or "\\" in value):
        return value
    return value.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def strip_local_paths(doc: Any) -> Any:
    """config.json of a run with every local path reduced to a file name: the dataset setting, the
    dataset's source, meta's data source and folder, a start-from run. Nothing else changes."""
    if not isinstance(doc, dict):
        return doc
    doc = dict(doc)
    for section, keys in (("config", ("dataset", "init_from")), ("dataset", ("name", "source")),
                          ("meta", ("data_source", "loaded_from", "init_from"))):
        part = doc.get(section)
        if isinstance(part, dict):
            doc[section] = {k: (_file_name(v) if k in keys else v) for k, v in part.items()}
    return doc


def _members(zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    """``(member, file name in the run folder)`` after the path, type and name checks."""
    members = [m for m in zf.infolist() if not m.is_dir()]
    for m in members:
        p = m.filename.replace("\\", "/")
        if p.startswith("/") or ".." in p.split("/") or ":" in p.split("/")[0]:
            raise RunError(f"archive entry '{m.filename}' points outside the run folder; refusing the archive")
        mode = (m.external_attr >> 16) & 0o170000
        if mode and not stat.S_ISREG(mode):
            raise RunError(f"archive entry '{m.filename}' is a link or special file; refusing the archive")
        if m.flag_bits & 0x1:
            raise RunError(f"archive entry '{m.filename}' is encrypted; a run archive must not be")
        if m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            raise RunError(f"archive entry '{m.filename}' uses an unknown compression ({m.compress_type})")
    names = [m.filename.replace("\\", "/") for m in members]
    prefixes = {n.split("/")[0] for n in names if "/" in n}
    strip = prefixes.pop() + "/" if len(prefixes) == 1 and all("/" in n for n in names) else ""
    base = [n[len(strip):] for n in names]
    unknown = [n for n in base if n not in ALL_RUN_FILES]
    if unknown:
        raise RunError(f"the archive is not an rnnlab run: unexpected entries {unknown[:5]}; "
                       f"a run holds {', '.join(ALL_RUN_FILES)}")
    if len(set(base)) != len(base):
        raise RunError("the archive holds the same run file twice; refusing it")
    return list(zip(members, base))


def _task_of(zf: zipfile.ZipFile, config_member: zipfile.ZipInfo) -> str:
    if config_member.file_size > 4 * 1024 * 1024:
        raise RunError("config.json in the archive is larger than 4 MB; not a run's config")
    try:
        doc: Any = json.loads(zf.read(config_member).decode("utf-8"))
    except _ZIP_ERRORS as exc:
        raise RunError(f"config.json in the archive cannot be read ({exc})") from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        raise RunError(f"config.json in the archive is not valid JSON ({exc})") from exc
    task = doc.get("task", "forecast") if isinstance(doc, dict) else None
    if not isinstance(task, str) or task not in REGISTRY:
        raise RunError(f"config.json in the archive names an unknown task {task!r}")
    return str(task)


def unzip_run(archive: bytes | str | os.PathLike[str] | io.IOBase, destination: str | os.PathLike[str]) -> Path:
    """Safely extract a run archive into ``destination`` (new or empty) and return the folder.

    Refused with :class:`RunError` before anything is written when the archive fails a check
    (see the module docstring); a member that turns out corrupt while extracting leaves nothing
    behind. A single top-level folder inside the archive is accepted."""
    source: Any = io.BytesIO(archive) if isinstance(archive, (bytes, bytearray)) else archive
    try:
        zf = zipfile.ZipFile(source)
    except _ZIP_ERRORS as exc:
        raise RunError(f"the upload is not a zip archive of a run ({exc})") from exc
    dest = Path(destination)
    with zf:
        members = _members(zf)
        by_name = {name: m for m, name in members}
        missing = [f for f in COMMON_FILES if f not in by_name]
        if not missing:
            missing = [f for f in required_files(_task_of(zf, by_name["config.json"])) if f not in by_name]
        if missing:
            raise RunError(f"the archive is not a complete rnnlab run: missing {', '.join(missing)}")
        total = sum(m.file_size for m, _ in members)
        if total > MAX_ARCHIVE_BYTES:
            raise RunError(f"the archive expands to {total / 1e6:.0f} MB, above the {MAX_ARCHIVE_BYTES / 1e6:.0f} MB limit")
        if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
            raise RunError(f"'{dest}' already exists and is not an empty folder; extract into a new folder")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-unzip-", dir=dest.parent))
        except OSError as exc:
            raise RunError(f"cannot extract the run archive into '{dest}': {exc.strerror or exc}") from exc
        try:
            written = 0
            for m, name in members:
                # a fresh private folder: nothing there can be a link; "xb" never follows or replaces one
                with zf.open(m) as src, open(tmp / name, "xb") as out:
                    while block := src.read(1 << 20):
                        written += len(block)
                        if written > MAX_ARCHIVE_BYTES:
                            raise RunError(f"the archive expands to more than {MAX_ARCHIVE_BYTES / 1e6:.0f} MB "
                                           f"(its directory claimed less); refusing it")
                        out.write(block)
            if dest.exists():
                dest.rmdir()  # empty (checked above)
            os.rename(tmp, dest)
        except RunError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except _ZIP_ERRORS as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RunError(f"cannot extract the run archive ({type(exc).__name__}: {exc})") from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return dest


def load_run_archive(archive: bytes | str | os.PathLike[str] | io.IOBase, destination: str | os.PathLike[str]) -> Run:
    """:func:`unzip_run` then :func:`load_run`; a folder whose run does not load is removed again."""
    folder = unzip_run(archive, destination)
    try:
        return load_run(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
