"""build_index: bring an index folder up to date with folders and files of documents.

Unchanged files (same content hash) are neither read nor embedded again, and neither are files
that were skipped before and have not changed since: when nothing changed, the embedding model
is not even loaded and no new build is written. Files that vanished from a folder that is being
indexed lose their passages; documents indexed from other folders stay.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from qa.config import (
    DEFAULT_DOCS_DIR,
    DEFAULT_INDEX_TYPE,
    default_index_dir,
    default_index_type,
    default_model,
    max_text_bytes,
    read_timeout,
)
from qa.embed.model import Embedder, canonical_model_name, check_runtime
from qa.errors import EmptyCorpus, PathNotFound, UnsupportedDocument
from qa.format_history import REREAD, RESPLIT, version
from qa.index import copies
from qa.index.feed import FileSource, embed_in_process
from qa.index.folder import check_folder, remove_leftovers, write_lock
from qa.index.manifest import DocumentRecord, Manifest, SkippedFile, model_mismatch, runtime_mismatch
from qa.index.store import Store
from qa.index.vectors import check_index_type
from qa.index.writer import Checkpoint, StoreWriter
from qa.progress import progress_bar
from qa.read.dates import iso_date
from qa.read.files import SourceFile, file_hash, find_files, shown_path
from qa.results import Document, IndexReport, Skipped

logger = logging.getLogger(__name__)

CHECKPOINTS = ("before-embedding", "embedding", "after-embedding", "swap", "after-swap")
"""The points a build passes, in order, each announced to ``build_index``'s ``checkpoint``:

- ``before-embedding``: the plan is made and the lock is held; nothing is written yet.
- ``embedding``: a batch of sentences has been embedded and not yet added.
- ``after-embedding``: all new vectors are in memory; no data file is written yet.
- ``swap``: the new data files and the new manifest's temporary file are on disk; the manifest
  is not yet replaced.
- ``after-swap``: the new manifest is in place; the previous build's files are not yet deleted.
"""


def build_index(
    paths: Sequence[str | os.PathLike] | str | os.PathLike = (DEFAULT_DOCS_DIR,),
    index_dir: str | os.PathLike | None = None,
    *,
    model: str | None = None,
    rebuild: bool = False,
    progress: bool = True,
    embedder: Embedder | None = None,
    index_type: str | None = None,
    follow_links: bool = False,
    checkpoint: Checkpoint | None = None,
    runtime: str | None = None,
    cluster: str | None = None,
    workers: int | None = None,
) -> IndexReport:
    """Index the documents under ``paths`` into ``index_dir`` and report what was done.

    ``index_type`` is ``auto`` (exact search below 20k vectors, IVF above), ``flat`` or ``ivf``;
    an index keeps its setting until another is given. Links that lead out of a folder given are
    skipped unless ``follow_links``. ``checkpoint`` is called with each of :data:`CHECKPOINTS` as
    the build passes it. ``runtime`` (``qa.embed.RUNTIMES``) is recorded in a new index; an existing
    one keeps its own.

    ``cluster`` (``auto``, ``local`` or a Ray address) reads, splits and embeds the files on a Ray
    cluster, and ``workers`` sets how many embedding workers it runs (given alone: that many on a
    local cluster); this process still plans and writes the index (:mod:`qa.index.cluster`).

    Example:
        >>> report = build_index(["docs/"], "index/")
        >>> report.documents, report.passages, report.skipped
    """
    started = time.perf_counter()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    index_dir = Path(index_dir or default_index_dir())
    for path in paths:  # before the index folder is made: a mistyped path leaves nothing behind
        if not Path(path).exists():
            raise PathNotFound(f"No such file or folder: {path}")
    limits = f"{max_text_bytes()} bytes, {read_timeout():g} s"  # a bad $QA_* setting fails here
    check_folder(index_dir, paths)
    checkpoint = checkpoint or _no_checkpoint
    source = _file_source(cluster, workers)  # a missing Ray or a bad value fails before the lock
    with write_lock(index_dir):
        remove_leftovers(index_dir)  # of a build that was killed
        base = None if rebuild else _current(index_dir)
        model_name = _choose_model(index_dir, base, model, embedder)
        runtime = _choose_runtime(index_dir, base, runtime, embedder)
        files, skipped = find_files(paths, follow_links=follow_links)
        roots = {str(Path(p).resolve()) for p in paths}
        plan = _Plan(base, files, roots, skipped, limits)
        report = IndexReport(skipped=skipped, unchanged=len(plan.unchanged), removed=len(plan.removed))
        index_type = _choose_index_type(base, index_type)
        retype = base is not None and base.manifest.index_type != index_type
        build = _Build(index_dir, base, model_name, embedder or Embedder(model_name, runtime=runtime), index_type,
                       checkpoint, progress)
        try:
            # An index from before copy groups and dates were kept is brought up to date too.
            if plan.removed or plan.reloaded or retype or (base and copies.outdated(base.manifest)):
                build.writer.remove_documents(plan.removed + plan.reloaded)
            if plan.to_load:
                checkpoint("before-embedding")
                _add_files(build, plan, report, progress, source)
            manifest = build.finish(plan.skip_records)
        except BaseException:
            build.abort()
            raise
        if manifest is None:
            raise EmptyCorpus(_nothing_indexed(paths, report.skipped), skipped=report.skipped)
        report.documents, report.passages = len(manifest.documents), manifest.passages
    report.seconds = time.perf_counter() - started
    report.passages_per_second = build.passages_added / report.seconds
    return report


def _no_checkpoint(point: str) -> None:
    pass


def _file_source(cluster: str | None, workers: int | None) -> FileSource:
    if cluster is None and workers is None:
        return embed_in_process
    from qa.index.cluster import cluster_source

    return cluster_source(cluster, workers)


def _current(index_dir: Path) -> Store | None:
    if not (index_dir / "manifest.json").exists():
        return None
    store = Store(index_dir)
    store.verify()  # damaged files are not built on (nor reported "unchanged")
    return store


def _choose_model(index_dir: Path, base: Store | None, model: str | None, embedder: Embedder | None) -> str:
    asked = embedder.name if embedder else canonical_model_name(model) if model else None
    if base is None:
        return asked or canonical_model_name(default_model())
    existing = base.manifest.model
    if asked and asked != existing:
        raise model_mismatch(index_dir, existing, asked)
    return existing


def _choose_runtime(index_dir: Path, base: Store | None, asked: str | None, embedder: Embedder | None) -> str | None:
    """The asked runtime, else the index's own (None for a new index: the default, ``auto``)."""
    asked = embedder.runtime if embedder else None if asked in (None, "auto") else check_runtime(asked)
    if base is None:
        return asked
    if asked and asked != base.manifest.runtime:
        raise runtime_mismatch(index_dir, base.manifest.runtime, asked)
    return base.manifest.runtime


def _choose_index_type(base: Store | None, asked: str | None) -> str:
    """The asked index type, else the index's own setting, else ``$QA_INDEX_TYPE`` or ``auto``."""
    if asked:
        return check_index_type(asked)
    if base is not None and base.manifest.vector_indexes:  # older indexes recorded no setting
        return base.manifest.index_type or DEFAULT_INDEX_TYPE
    return check_index_type(default_index_type())


SHOWN_REASONS = 20
"""An error that no file could be indexed lists at most this many files with their reasons."""


def _nothing_indexed(paths: Sequence[str | os.PathLike], skipped: list[Skipped]) -> str:
    where = ", ".join(map(str, paths))
    if not skipped:
        return f"No documents (.txt, .md, .html, .pdf, .docx, .epub, .odt) found in {where}."
    reasons = "".join(f"\n  {s.path}: {s.reason}" for s in skipped[:SHOWN_REASONS])
    more = f"\n  and {len(skipped) - SHOWN_REASONS} more" if len(skipped) > SHOWN_REASONS else ""
    return f"None of the files in {where} could be indexed:{reasons}{more}"


class _Plan:
    """Which files to (re)load, which documents are unchanged or removed, which files stay skipped."""

    def __init__(self, base: Store | None, files: list[SourceFile], roots: set[str], skipped: list[Skipped],
                 limits: str) -> None:
        manifest = base.manifest if base else None
        self.known: dict[str, DocumentRecord] = manifest.documents if manifest else {}
        remembered: dict[str, SkippedFile] = manifest.skipped if manifest else {}
        self.limits = limits
        self.to_load: list[tuple[SourceFile, str]] = []
        self.unchanged: list[str] = []
        self.skip_records: dict[str, SkippedFile] = {}
        seen: dict[str, SourceFile] = {}
        for file in files:
            if file.source in seen:
                skipped.append(Skipped(shown_path(file.path),
                                       f"same id '{file.source}' as {shown_path(seen[file.source].path)}"))
                continue
            record = self.known.get(file.source)
            # The same file given another way (itself, or its folder) is the same document.
            same_file = bool(record) and record.path == shown_path(file.path.resolve())
            if record and record.root not in roots and record.root is not None and not same_file:
                skipped.append(Skipped(shown_path(file.path), f"id '{file.source}' is already taken by {record.path}"))
                continue
            seen[file.source] = file
            try:
                digest = file_hash(file.path)
            except OSError as err:
                skipped.append(Skipped(shown_path(file.path), f"can't read file: {err.strerror}"))
                continue
            before = remembered.get(file.source)
            if before and before.hash == digest and before.limits == limits:
                skipped.append(Skipped(shown_path(file.path), before.reason))
                self.skip_records[file.source] = before
            # A document read or split under older rules is read again, even when unchanged.
            elif (record and record.hash == digest and record.passage_rules == version(RESPLIT)
                  and record.reading_rules == version(REREAD)):
                self.unchanged.append(file.source)
            else:
                self.to_load.append((file, digest))
        # Skip records of files under folders not indexed in this run stay as they are.
        self.skip_records.update({s: r for s, r in remembered.items() if r.root not in roots})
        self.removed = [s for s, r in self.known.items() if r.root in roots and s not in seen]
        self.reloaded = [f.source for f, _ in self.to_load if f.source in self.known]


class _Build:
    """The next build, started only once there is something to write: until a document is added or
    removed, no model is loaded and no copy of the store is made."""

    def __init__(self, index_dir: Path, base: Store | None, model: str, embedder: Embedder, index_type: str,
                 checkpoint: Checkpoint, progress: bool = False) -> None:
        self.index_dir, self.base, self.model, self.index_type = index_dir, base, model, index_type
        self.checkpoint = checkpoint
        self.progress = progress  # a bar per batch of sentences too: one big file moves the bar as it is embedded
        self.embedder = embedder  # loads its model only when first used
        self.passages_added = 0
        # Known from the current index, or set by a source that embeds elsewhere: no model loads here for it.
        self.dimension: int | None = base.manifest.dimension if base else None
        self._writer: StoreWriter | None = None

    @property
    def writer(self) -> StoreWriter:
        if self._writer is None:
            dimension = self.dimension or self.embedder.dimension
            self._writer = StoreWriter(self.index_dir, model=self.model, dimension=dimension,
                                       base=self.base, index_type=self.index_type, checkpoint=self.checkpoint,
                                       runtime=self.embedder.runtime)
        return self._writer

    def finish(self, skipped: dict[str, SkippedFile]) -> Manifest | None:
        """Commit the build (or, when no document changed, record only what was skipped); None when
        the index would hold no document."""
        if self._writer is None:
            if self.base is None:
                return None
            manifest = self.base.manifest
            if manifest.skipped != skipped:
                manifest = replace(manifest, skipped=skipped)
                manifest.save(self.index_dir)
            return manifest
        if not self._writer.documents:
            self._writer.abort()
            return None
        self.checkpoint("after-embedding")
        return self._writer.commit(skipped)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()


def _add_files(build: _Build, plan: _Plan, report: IndexReport, progress: bool, source: FileSource) -> None:
    begun = time.perf_counter()

    def rate() -> str:
        per_second = build.passages_added / max(time.perf_counter() - begun, 1e-9)
        return f"{per_second:.{0 if per_second >= 10 else 1}f} passages/s"  # a short first build: "0.5", not "0"

    embedded = source(plan.to_load, build)
    with contextlib.closing(embedded):
        for file, digest, document, passages, sentences, vectors in progress_bar(
                embedded, progress, desc="Indexing", unit="file", total=len(plan.to_load), status=rate):
            if isinstance(document, UnsupportedDocument):
                _skip(plan, report, file, str(document))
                if not document.transient:
                    plan.skip_records[file.source] = SkippedFile(digest, shown_path(file.path), str(document),
                                                                 file.root, plan.limits)
                continue
            try:
                record = _record(plan, file, digest, document)
            except OSError as err:
                _skip(plan, report, file, f"it went away while being indexed ({err.strerror}); run again to index it")
                continue
            build.writer.add_document(document, record, passages, sentences, vectors)
            build.passages_added += len(passages)
            report.respaced_pages += document.respaced_pages
            if file.source in plan.known:
                report.updated += 1
            else:
                report.added += 1


def _skip(plan: _Plan, report: IndexReport, file: SourceFile, reason: str) -> None:
    """Report a file as skipped; one whose earlier version was indexed has lost it, and counts as removed."""
    if file.source in plan.known:
        report.removed += 1
        reason += "; its earlier version was taken out of the index"
    report.skipped.append(Skipped(shown_path(file.path), reason))


def _record(plan: _Plan, file: SourceFile, digest: str, document: Document) -> DocumentRecord:
    info = file.path.stat()
    known = plan.known.get(file.source)
    # A document keeps the root it was first indexed under, so that folder's runs can remove it.
    root = (known.root if known else None) or file.root
    return DocumentRecord(hash=digest, path=document.path, title=document.title, root=root,
                          passage_rules=version(RESPLIT), size=info.st_size, mtime_ns=info.st_mtime_ns,
                          reading_rules=version(REREAD), date=iso_date(document.metadata.get("date")))
