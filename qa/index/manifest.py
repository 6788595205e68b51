"""``manifest.json``: what an index folder holds, as typed records, read and written in one place.

The manifest names the data files of the current build, the model and vector dimension, one
record per indexed document (content hash, where it came from, the rules it was split by), the
files that were skipped and why (so an unchanged broken file is not read again), and an optional
calibrated not-found threshold. It is replaced atomically, last, by every build: whatever it
names is the index.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from qa.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from qa.format_history import REBUILD, RECALIBRATE, RECOPY, REREAD, RESPLIT, Change, changes_since, version

MANIFEST = "manifest.json"
MANIFEST_TMP = f".{MANIFEST}.tmp"
"""The manifest is written here first, then renamed over ``manifest.json``."""


def shown(index_dir: str | os.PathLike) -> str:
    """A folder as messages show it: ``index/``."""
    return str(Path(index_dir)) + "/"


def rebuild_hint(index_dir: str | os.PathLike) -> str:
    return f"Rebuild it with `qa index --rebuild --index-dir {shown(index_dir)}`."


def damaged(index_dir: str | os.PathLike, what: str) -> IndexCorrupt:
    """The error for a damaged index folder: what is wrong, and the command that fixes it."""
    return IndexCorrupt(f"Damaged index at {shown(index_dir)}: {what}. {rebuild_hint(index_dir)}")


@dataclass(frozen=True)
class DocumentRecord:
    """An indexed document: its file's content hash, where it came from, how it was split."""

    hash: str
    path: str
    title: str
    root: str | None = None
    """The folder it was indexed from (its runs may remove it); None for a file given directly."""
    passage_rules: int = 1
    size: int | None = None
    mtime_ns: int | None = None
    """The file's size and modification time when it was indexed: the page serves the original
    file only while both still match."""
    reading_rules: int = 1
    """The reading and splitting rules it was read and split under (``qa.format_history``: the
    versions of ``re-read`` and ``re-split``)."""
    date: str | None = None
    """Its publication date (ISO 8601) from its own metadata, where it gives one (``qa.read.dates``)."""
    copy_group: str | None = None
    """Where it is a near-identical copy of other documents, the first id of their group (``qa.index.copies``)."""


@dataclass(frozen=True)
class SkippedFile:
    """A file that could not be indexed, remembered by content so it is not read again unchanged."""

    hash: str
    path: str
    reason: str
    root: str | None = None
    limits: str = ""
    """The size and time limits it was read under: raising them retries the file."""


@dataclass(frozen=True)
class Calibration:
    """A not-found threshold calibrated for one model and one confidence formula (``scale``)."""

    model: str
    threshold: float
    scale: int = 1
    calibration: str = ""
    runtime: str = "torch"
    """The runtime whose vectors it was set on (thresholds set before runtimes: torch's)."""


@dataclass(frozen=True)
class Manifest:
    """The contents of ``manifest.json``."""

    model: str
    dimension: int
    files: dict[str, str]
    passages: int
    sentences: int
    documents: dict[str, DocumentRecord]
    format: int = version(REBUILD)
    qa_version: str = ""
    built_at: str = ""
    build: str = ""
    index_type: str | None = None
    """``auto``, ``flat`` or ``ivf``; None in indexes from before the setting was recorded."""
    vector_indexes: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, SkippedFile] = field(default_factory=dict)
    not_found: Calibration | None = None
    runtime: str = "torch"
    """What made the vectors (``qa.embed.RUNTIMES``); indexes from before runtimes: torch. An index
    holds one runtime's vectors: int8 and fp32 vectors of a sentence differ (cosine 0.99)."""
    copy_rules: int = 0
    """The version of the copy rules (``qa.format_history``'s ``re-mark copies``) that the records'
    dates and copy groups were made under; 0 in indexes from before they were kept."""
    checksums: dict[str, str] = field(default_factory=dict)
    """Each data file's checksum (``qa.index.checksums``), checked before the index answers; empty in
    indexes from before they were kept."""

    @classmethod
    def load(cls, index_dir: str | os.PathLike) -> Manifest:
        """Read and check the folder's manifest: IndexNotFound, IndexCorrupt or IndexMismatch."""
        path = Path(index_dir, MANIFEST)
        if not path.is_file():
            raise IndexNotFound(f"No index at {shown(index_dir)}. Run `qa index` first.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeError, ValueError, RecursionError) as err:  # RecursionError: nesting too deep
            raise damaged(index_dir, f"{MANIFEST} can't be read ({type(err).__name__})") from err
        if not isinstance(data, dict):
            raise damaged(index_dir, f"{MANIFEST} is not a JSON object")
        if data.get("format", version(REBUILD)) != version(REBUILD):
            raise IndexMismatch(
                f"The index at {shown(index_dir)} has format {data.get('format')!r}; this qa reads format "
                f"{version(REBUILD)}. {rebuild_hint(index_dir)}"
            )
        try:
            return _parse(data)
        except (KeyError, TypeError, ValueError) as err:
            raise damaged(index_dir, f"{MANIFEST} is malformed ({err})") from err

    def save(self, index_dir: str | os.PathLike, *, before_swap: Callable[[], None] | None = None) -> None:
        """Write the manifest atomically: a temporary file, flushed to disk, renamed over the old one."""
        folder = Path(index_dir)
        write_json_atomically(folder / MANIFEST, folder / MANIFEST_TMP, self.to_json(), indent=1,
                              before_swap=before_swap)

    def to_json(self) -> dict:
        # One level at a time: dataclasses.asdict deep-copies, seconds for 100k documents.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["documents"] = {source: dict(vars(record)) for source, record in self.documents.items()}
        data["skipped"] = {source: dict(vars(record)) for source, record in self.skipped.items()}
        if self.not_found is None:
            del data["not_found"]
        else:
            data["not_found"] = dict(vars(self.not_found))
        if self.index_type is None:
            del data["index_type"]
        return data

    @property
    def not_found_threshold(self) -> float | None:
        """The calibrated not-found threshold, if one was set for this index's model and runtime and
        for today's confidence formula."""
        calibration = self.not_found
        if (calibration and (calibration.model, calibration.runtime, calibration.scale)
                == (self.model, self.runtime, version(RECALIBRATE))):
            return calibration.threshold
        return None

    def missed_changes(self) -> list[Change]:
        """The changes to what an index holds (``qa.format_history``) made since this one was built."""
        recorded = {REBUILD: self.format, RECOPY: self.copy_rules}
        if self.documents:
            recorded[REREAD] = min(record.reading_rules for record in self.documents.values())
            recorded[RESPLIT] = min(record.passage_rules for record in self.documents.values())
        if self.not_found:
            recorded[RECALIBRATE] = self.not_found.scale
        return changes_since(recorded)


def runtime_mismatch(index_dir: str | os.PathLike, built_with: str, asked: str) -> IndexMismatch:
    """The error for adding another runtime's vectors to an index."""
    return IndexMismatch(
        f"The index at {shown(index_dir)} was built with the {built_with} runtime, not {asked}: its vectors would "
        f"not mix. Leave the runtime out to use {built_with}, or rebuild the index with "
        f"`qa index --rebuild --runtime {asked}`."
    )


def model_mismatch(index_dir: str | os.PathLike, built_with: str, asked: str) -> IndexMismatch:
    """The error for asking an index for another model than the one its vectors come from."""
    return IndexMismatch(
        f"The index at {shown(index_dir)} was built with model '{built_with}', not '{asked}': one index holds "
        f"one model's vectors. Leave the model out to use '{built_with}', or rebuild the index with "
        f"`qa index --rebuild --model {asked}`."
    )


def write_json_atomically(path: Path, tmp: Path, data: Any, *, indent: int | None = None,
                          before_swap: Callable[[], None] | None = None) -> None:
    """Write ``data`` as JSON to ``path`` atomically: ``tmp`` (0600), flushed to disk, renamed over it."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=indent, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:  # a full disk: no half-written file is left behind
        tmp.unlink(missing_ok=True)
        raise
    if before_swap:
        before_swap()
    os.replace(tmp, path)
    fsync_path(path.parent)


def fsync_path(path: Path) -> None:
    """Flush a file's or folder's entry to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def new_build_id() -> str:
    """A build's name: when it was made, and a random part."""
    return time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _parse(data: dict[str, Any]) -> Manifest:
    documents = data["documents"]
    skipped = data.get("skipped", {})
    files = data["files"]
    for name, value in (("documents", documents), ("skipped", skipped), ("files", files)):
        if not isinstance(value, dict):
            raise TypeError(f"'{name}' is not an object")
    checksums = data.get("checksums", {})
    for name, value in (("files", files), ("checksums", checksums)):
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise TypeError(f"'{name}' holds a name that is not text")
    not_found = data.get("not_found")
    return Manifest(
        model=_typed(data, "model", str),
        dimension=_typed(data, "dimension", int),
        files=files,
        passages=_typed(data, "passages", int),
        sentences=_typed(data, "sentences", int),
        documents={source: _record(DocumentRecord, source, record) for source, record in documents.items()},
        format=version(REBUILD),
        qa_version=str(data.get("qa_version", "")),
        built_at=str(data.get("built_at", "")),
        build=str(data.get("build", "")),
        index_type=data.get("index_type") if "vector_indexes" in data else None,
        vector_indexes=data.get("vector_indexes") or {},
        skipped={source: _record(SkippedFile, source, record) for source, record in skipped.items()},
        not_found=_record(Calibration, "not_found", not_found) if isinstance(not_found, dict) else None,
        runtime=str(data.get("runtime", "torch")),
        copy_rules=_typed(data, "copy_rules", int) if "copy_rules" in data else 0,
        checksums=checksums,
    )


def _typed(data: dict, key: str, kind: type) -> Any:
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"'{key}' is {type(value).__name__}, not {kind.__name__}")
    return value


_KINDS = {"str": str, "int": int, "float": (int, float), "str | None": (str, type(None)),
          "int | None": (int, type(None))}


def _record(cls: type, name: str, data: Any):
    """A record dataclass from its JSON object: unknown keys are ignored, known ones type-checked."""
    if not isinstance(data, dict):
        raise TypeError(f"the record of {name!r} is not an object")
    values = {}
    for f in fields(cls):
        if f.name in data:
            value = data[f.name]
            if not isinstance(value, _KINDS[f.type]) or isinstance(value, bool):
                raise TypeError(f"the record of {name!r} has a bad '{f.name}'")
            values[f.name] = value
    return cls(**values)
