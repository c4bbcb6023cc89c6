"""The run store: every run of the dashboard, the CLI and the sweeps, kept as run folders in one place.

Root: ``$RNNLAB_HOME`` when set, else ``./runs`` (relative to where the app or the CLI is
started). Each run is one sub-folder written by :func:`rnnlab.runs.save_run` and named by the
run's id; the sweeps' default Optuna database (``sweeps.db``) lives beside them.

* Listing (:meth:`RunStore.list`) reads ``config.json`` only, never weights or data: the
  task, dataset, target, model, scores summary, creation time, name, tags and note are all in
  it. Parsed entries are cached per folder and re-read only when the folder or its config.json
  changes, so listing a thousand runs stays fast (``bench/store.py``).
* A folder that is not a complete run (no config.json, an unreadable one, a required file
  missing: a half-written or foreign folder) is skipped with a warning in
  :attr:`RunStore.warnings`; the hidden folders of saves in progress are skipped silently
  (with a warning once they are old: an interrupted save left them).
* Ids: a run is addressed by its folder name (normally the run's id), by the id recorded in
  its config.json, or by a unique prefix of either (``python -m rnnlab predict --run 3f2a``).
* Edits of the name, tags and note rewrite config.json atomically (:func:`rnnlab.runs.edit_meta`);
  a deletion first renames the folder away (it leaves the listing at once), then removes it.

Mode: ``RNNLAB_STORE_MODE=session`` keeps the dashboard's runs in the browser session only (a
public deployment where visitors must not see each other's runs); the default ``store`` writes
them here. The CLI always uses the store.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnlab.errors import ConfigError, RunError
from rnnlab.jsonfiles import read_json
from rnnlab.runmeta import COMMON_FILES, FORMATS_READ, WITHHELD, edit_meta

if TYPE_CHECKING:
    from rnnlab.run import Run

ENV_HOME = "RNNLAB_HOME"  # the store's folder
ENV_MODE = "RNNLAB_STORE_MODE"  # "store" (default) | "session" (dashboard runs stay in the browser session)
MODES = ("store", "session")
DEFAULT_ROOT = "runs"
SWEEPS_DB = "sweeps.db"  # the sweeps' default SQLite storage, in the store's folder
LEFTOVER_PREFIXES = (".tmp-run-", ".tmp-unzip-", ".old-run-", ".deleted-")
LEFTOVER_AGE = 600.0  # s after which a hidden save folder counts as left over by an interrupted save
MAX_NAME, MAX_TAG, MAX_TAGS, MAX_NOTE = 200, 40, 20, 10_000


def store_root() -> Path:
    """The store's folder: ``$RNNLAB_HOME``, else ``./runs`` (absolute, resolved now)."""
    return Path(os.environ.get(ENV_HOME) or DEFAULT_ROOT).expanduser().resolve()


def store_mode() -> str:
    """``store`` (runs are written to the store) or ``session`` (``RNNLAB_STORE_MODE=session``)."""
    mode = (os.environ.get(ENV_MODE) or "store").strip().lower()
    if mode not in MODES:
        raise ConfigError(f"{ENV_MODE}={mode!r} is not a mode; choose one of {', '.join(MODES)}")
    return mode


def default_store() -> RunStore:
    return RunStore(store_root())


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]




@dataclass(frozen=True)
class RunEntry:
    """One run as the store lists it (everything from its config.json)."""

    id: str  # the store's id: the folder name
    path: Path  # the run folder
    run_id: str  # the id recorded in config.json (equals ``id`` unless the folder was renamed by hand)
    task: str
    dataset: str
    target: str
    created: str  # ISO time of training ("" when unknown)
    model: str  # "lstm h64x2"
    status: str  # the stop reason: completed | early_stopping | stopped | diverged | pruned | interrupted
    epochs: int
    name: str = ""
    tags: tuple[str, ...] = ()
    note: str = ""
    summary: dict[str, Any] = field(default_factory=dict)  # rnnlab.runs.run_summary
    sweep: dict[str, Any] = field(default_factory=dict)  # {"study", "trial", "state", "value", ...} for sweep trials

    @property
    def withheld(self) -> tuple[str, ...]:
        """Spans not scored yet (``("test",)`` for sweep trials and checkpoints)."""
        return tuple(self.summary.get(WITHHELD, ()))

    @property
    def label(self) -> str:
        """``lstm h64x2 · seattle-weather/temp_max · 2026-12-01 21:04`` (a name replaces the time)."""
        data = f"{self.dataset}/{self.target}" if self.target else self.dataset
        when = self.created.replace("T", " ")[:16] if self.created else self.id[:6]
        return f"{self.model} · {data} · {self.name or when}"

    def metric(self, name: str, span: str = "test", who: str = "model") -> float:
        """A score from the summary (NaN when the run has none)."""
        value = self.summary.get(span, {}).get(who, {}).get(name)
        return float(value) if isinstance(value, (int, float)) else float("nan")

    @classmethod
    def from_run(cls, run: Run) -> RunEntry:
        """The entry of a run held in memory (not in a store: ``path`` is empty)."""
        from rnnlab.runs import run_summary

        c = run.config
        sweep = run.meta.get("sweep")
        return cls(id=run.id, path=Path(), run_id=run.id, task=run.task, dataset=str(getattr(run.dataset, "name", "data")),
                   target=c.target or "", created=str(run.meta.get("created", "")), model=run.model_words,
                   status=str(run.train_info.get("stop_reason", "unknown")), epochs=len(run.history),
                   name=str(run.meta.get("name") or ""), tags=tuple(run.meta.get("tags") or ()),
                   note=str(run.meta.get("note") or ""), summary=run_summary(run),
                   sweep=sweep if isinstance(sweep, dict) else {})

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "run_id": self.run_id, "path": str(self.path), "task": self.task,
                "dataset": self.dataset, "target": self.target, "created": self.created, "model": self.model,
                "status": self.status, "epochs": self.epochs, "name": self.name, "tags": list(self.tags),
                "note": self.note, "summary": self.summary, "sweep": self.sweep}


def _summary_from_metrics(folder: Path) -> dict[str, Any]:
    """For runs saved before config.json carried a summary: the test/val tables of metrics.json."""
    try:
        metrics = read_json(folder, "metrics.json")
    except RunError:
        return {}
    if not isinstance(metrics, dict):
        return {}
    out: dict[str, Any] = {}
    for span in ("test", "val"):
        table = metrics.get(span)
        if isinstance(table, dict):
            out[span] = {str(w): {str(k): v for k, v in row.items() if isinstance(v, (int, float))}
                         for w, row in table.items() if isinstance(row, dict)}
    out.update({k: v for k, v in metrics.items() if str(k).startswith("skill_vs_") and isinstance(v, (int, float))})
    return out


def _text(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def parse_entry(folder: Path) -> RunEntry:
    """The listing entry of one run folder, from its config.json; :class:`RunError` saying why the
    folder is not a complete run (only file existence is checked beyond config.json)."""
    doc = read_json(folder, "config.json")
    if not isinstance(doc, dict) or doc.get("format") not in FORMATS_READ:
        raise RunError("config.json has no rnnlab format marker")
    task = _text(doc.get("task"), "forecast")
    required = doc.get("required_files")
    if not isinstance(required, list) or not all(isinstance(f, str) and "/" not in f for f in required):
        from rnnlab.tasks import REGISTRY  # a run saved before config.json listed them (imports torch)

        required = COMMON_FILES + (REGISTRY[task].required_files if task in REGISTRY else ())
    missing = [f for f in required if not (folder / f).is_file()]
    if missing:
        raise RunError(f"{', '.join(missing)} missing")
    cfg = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    info = doc.get("train_info") if isinstance(doc.get("train_info"), dict) else {}
    ds = doc.get("dataset") if isinstance(doc.get("dataset"), dict) else {}
    summary = doc.get("summary") if isinstance(doc.get("summary"), dict) else _summary_from_metrics(folder)
    tags = meta.get("tags") if isinstance(meta.get("tags"), list) else []
    epochs = summary.get("epochs")
    return RunEntry(
        id=folder.name, path=folder, run_id=_text(meta.get("id"), folder.name), task=task,
        dataset=_text(ds.get("name"), _text(cfg.get("dataset"), "data")), target=_text(cfg.get("target")),
        created=_text(meta.get("created")),
        model=f"{cfg.get('cell', '?')} h{cfg.get('hidden_size', '?')}x{cfg.get('num_layers', '?')}",
        status=_text(info.get("stop_reason"), "unknown"), epochs=int(epochs) if isinstance(epochs, (int, float)) else 0,
        name=_text(meta.get("name")), tags=tuple(str(t) for t in tags), note=_text(meta.get("note")),
        summary=summary, sweep=meta.get("sweep") if isinstance(meta.get("sweep"), dict) else {},
    )


# process-wide: folder -> ((folder mtime, config mtime, config size), entry or the reason it is skipped)
_CACHE: dict[str, tuple[tuple[int, int, int], RunEntry | str]] = {}
_CACHE_LOCK = threading.Lock()


def clean_tags(tags: Any) -> tuple[str, ...]:
    """Tags from a list or a comma-separated text: stripped, unique, each at most MAX_TAG characters."""
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        raise ConfigError(f"tags={tags!r} must be a list of words or a comma-separated text")
    out = tuple(dict.fromkeys(t.strip() for t in tags if t.strip()))
    long = [t for t in out if len(t) > MAX_TAG]
    if long:
        raise ConfigError(f"tag {long[0][:50]!r} is longer than {MAX_TAG} characters")
    if len(out) > MAX_TAGS:
        raise ConfigError(f"{len(out)} tags given; a run has at most {MAX_TAGS}")
    return out


class RunStore:
    """The runs below one folder (see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.warnings: list[str] = []  # why folders were skipped by the last list()

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    # ------------------------------------------------------------------ listing
    def list(self) -> list[RunEntry]:
        """Every complete run, newest first; folders that are not runs are skipped (see ``warnings``)."""
        entries: list[RunEntry] = []
        warnings: list[str] = []
        try:
            items = list(os.scandir(self.root))
        except FileNotFoundError:
            items = []
        except OSError as exc:
            raise RunError(f"cannot list the run store '{self.root}': {exc.strerror or exc}") from exc
        now = time.time()
        for item in items:
            try:
                if not item.is_dir(follow_symlinks=False):
                    continue
                if item.name.startswith("."):
                    if item.name.startswith(LEFTOVER_PREFIXES) and now - item.stat().st_mtime > LEFTOVER_AGE:
                        warnings.append(f"skipped '{item.name}': left over from an interrupted save or delete "
                                        f"(not a run; it can be removed)")
                    continue
                result = self._entry(Path(item.path), item.stat().st_mtime_ns)
            except OSError as exc:
                result = f"cannot be read ({exc.strerror or exc})"
            if isinstance(result, RunEntry):
                entries.append(result)
            else:
                warnings.append(f"skipped '{item.name}': {result} (a half-written or foreign folder; not a run)")
        self.warnings = sorted(warnings)
        entries.sort(key=lambda e: (e.created, e.id), reverse=True)
        return entries

    def _entry(self, folder: Path, folder_mtime: int) -> RunEntry | str:
        try:
            st = os.stat(folder / "config.json")
        except FileNotFoundError:
            return "no config.json"
        key = (folder_mtime, st.st_mtime_ns, st.st_size)
        with _CACHE_LOCK:
            hit = _CACHE.get(str(folder))
        if hit is not None and hit[0] == key:
            return hit[1]
        try:
            result: RunEntry | str = parse_entry(folder)
        except RunError as exc:
            result = str(exc)
        with _CACHE_LOCK:
            _CACHE[str(folder)] = (key, result)
        return result

    # ------------------------------------------------------------------ finding
    def get(self, ref: str) -> RunEntry:
        """The run ``ref`` names: a folder name, a recorded run id, or a unique prefix of either."""
        ref = str(ref).strip()
        if not ref or "/" in ref or "\\" in ref or ref.startswith("."):
            raise RunError(f"{ref!r} is not a run id of the store")
        direct = self.root / ref
        if (direct / "config.json").is_file():
            result = self._entry(direct, direct.stat().st_mtime_ns)
            if isinstance(result, RunEntry):
                return result
            raise RunError(f"'{direct}' is not a complete run: {result}")
        entries = self.list()
        for match in ([e for e in entries if e.run_id == ref],
                      [e for e in entries if e.id.startswith(ref) or e.run_id.startswith(ref)]):
            if len(match) == 1:
                return match[0]
            if len(match) > 1:
                raise RunError(f"{ref!r} matches {len(match)} runs ({', '.join(e.id for e in match[:5])}); "
                               f"give more characters of the id")
        raise RunError(f"no run {ref!r} in the store '{self.root}' (`python -m rnnlab runs` lists them)")

    def open(self, ref: str) -> Run:
        """Load the run ``ref`` names (checked by :func:`rnnlab.runs.load_run`); its id is the store's."""
        from rnnlab.runs import load_run

        entry = self.get(ref)
        run = load_run(entry.path)
        run.meta["id"] = entry.id
        return run

    # ------------------------------------------------------------------ writing
    def folder_for(self, run_id: str) -> Path:
        return self.root / run_id

    def save(self, run: Run) -> RunEntry:
        """Write ``run`` into the store and return its entry. A folder of the same run (same id and
        creation time) is replaced, keeping its name, tags and note where the run has none; a
        different run that has the same id is kept, and this one gets a new id (both stay)."""
        from rnnlab.runs import save_run

        folder = self.folder_for(run.id or new_run_id())
        if (folder / "config.json").is_file():
            try:
                old = read_json(folder, "config.json").get("meta", {})
            except (RunError, AttributeError):
                old = {}
            if old.get("id") != run.id or old.get("created") != run.meta.get("created"):
                run.meta = {**run.meta, "id": new_run_id(), "copied_from": run.id}
                folder = self.folder_for(run.id)
        elif not run.id:
            run.meta = {**run.meta, "id": folder.name}
        path = save_run(run, folder, keep_user_meta=True)  # a name, tags, note given meanwhile stay
        result = self._entry(path, path.stat().st_mtime_ns)
        if not isinstance(result, RunEntry):  # pragma: no cover - save_run wrote a complete run
            raise RunError(f"the run saved to '{path}' cannot be listed: {result}")
        return result

    def edit(self, ref: str, *, name: str | None = None, tags: Any = None, note: str | None = None) -> RunEntry:
        """Rename, retag or annotate a run (only the fields given change; "" clears one)."""
        changes: dict[str, Any] = {}
        if name is not None:
            if not isinstance(name, str) or len(name.strip()) > MAX_NAME:
                raise ConfigError(f"a run name is text of at most {MAX_NAME} characters")
            changes["name"] = name.strip() or None
        if tags is not None:
            changes["tags"] = list(clean_tags(tags)) or None
        if note is not None:
            if not isinstance(note, str) or len(note) > MAX_NOTE:
                raise ConfigError(f"a note is text of at most {MAX_NOTE:,} characters")
            changes["note"] = note.strip() or None
        entry = self.get(ref)
        edit_meta(entry.path, **changes)
        return self.get(entry.id)

    def delete(self, ref: str) -> None:
        """Remove a run: renamed away first (it leaves the listing at once), then deleted."""
        entry = self.get(ref)
        trash = self.root / f".deleted-{entry.id}-{uuid.uuid4().hex[:6]}"
        try:
            os.rename(entry.path, trash)
        except OSError as exc:
            raise RunError(f"cannot delete the run '{entry.id}': {exc.strerror or exc}") from exc
        shutil.rmtree(trash, ignore_errors=True)

    def sweeps_url(self) -> str:
        """The default Optuna storage of sweeps: an SQLite file in the store's folder."""
        return f"sqlite:///{(self.root / SWEEPS_DB).resolve()}"


def resolve_run_folder(ref: str) -> Path:
    """A run given as a folder path, else as a run id (or unique prefix) of the store."""
    path = Path(ref)
    if path.is_dir():
        return path
    try:
        return default_store().get(ref).path
    except RunError as exc:
        if any(sep in ref for sep in ("/", "\\")) or ref.startswith("."):
            raise RunError(f"run folder '{ref}' does not exist") from None
        raise RunError(f"'{ref}' is neither a run folder nor a run of the store: {exc}") from None
