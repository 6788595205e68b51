"""build_index: bring an index folder up to date with folders and files of documents.

Unchanged files (same content hash) are neither read nor embedded again, and when nothing
changed the embedding model is not even loaded. Files that vanished from a folder that is being
indexed lose their passages; documents indexed from other folders stay.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from qa.chunk import PASSAGE_RULES, distinct_sentences, split_passages
from qa.embed import Embedder, canonical_model_name, default_model
from qa.formats import READING_RULES
from qa.errors import EmptyCorpus, IndexMismatch, UnsupportedDocument
from qa.ingest import SourceFile, file_hash, find_files, load_document, shown_path
from qa.progress import progress_bar
from qa.results import Document, IndexReport, Passage, Skipped, Span
from qa.store import Store, StoreWriter, shown, write_lock
from qa.testhook import pause_point
from qa.vectors import DEFAULT_INDEX_TYPE, check_index_type, default_index_type

logger = logging.getLogger(__name__)

RULES = {"passage_rules": PASSAGE_RULES, "reading_rules": READING_RULES}
"""The versions of the rules each document was read and split under, kept in its manifest record
(a record without one was made under version 1)."""
DEFAULT_DOCS_DIR = "docs"
DEFAULT_INDEX_DIR = "index"


def default_index_dir() -> str:
    """``$QA_INDEX_DIR`` or ``index``."""
    return os.environ.get("QA_INDEX_DIR") or DEFAULT_INDEX_DIR


def build_index(
    paths: Sequence[str | os.PathLike] | str | os.PathLike = (DEFAULT_DOCS_DIR,),
    index_dir: str | os.PathLike | None = None,
    *,
    model: str | None = None,
    rebuild: bool = False,
    progress: bool = True,
    embedder: Embedder | None = None,
    index_type: str | None = None,
) -> IndexReport:
    """Index the documents under ``paths`` into ``index_dir`` and report what was done.

    ``index_type`` is ``auto`` (exact search below 20k vectors, IVF above), ``flat`` or ``ivf``;
    an index keeps its setting until another is given.

    Example:
        >>> report = build_index(["docs/"], "index/")
        >>> report.documents, report.passages, report.skipped
    """
    started = time.perf_counter()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    index_dir = Path(index_dir or default_index_dir())
    with write_lock(index_dir):
        base = None if rebuild else _current(index_dir)
        model_name = _choose_model(index_dir, base, model, embedder)
        files, skipped = find_files(paths)
        roots = {str(Path(p).resolve()) for p in paths}
        plan = _Plan(base, files, roots, skipped)
        report = IndexReport(skipped=skipped, unchanged=len(plan.unchanged), removed=len(plan.removed))
        index_type = _choose_index_type(base, index_type)
        retype = base is not None and base.manifest.get("index_type") != index_type
        if not (plan.changes or retype) and base is not None:
            report.documents, report.passages = len(base.manifest["documents"]), base.manifest["passages"]
        else:
            if not plan.to_load and not (base and base.manifest["documents"]):
                raise EmptyCorpus(
                    f"No documents (.txt, .md, .html, .pdf) found in {', '.join(map(str, paths))}."
                    + _skipped_hint(skipped)
                )
            pause_point("before-embedding")
            embedder = embedder or Embedder(model_name)
            writer = StoreWriter(index_dir, model=model_name, dimension=embedder.dimension, base=base,
                                 index_type=index_type)
            try:
                writer.remove_documents(plan.removed + [f.source for f, _ in plan.to_load if f.source in plan.known])
                _add_files(writer, embedder, plan, report, progress)
                if not writer.documents:
                    raise EmptyCorpus(f"None of the files in {', '.join(map(str, paths))} could be indexed."
                                      + _skipped_hint(skipped))
                pause_point("after-embedding")
                manifest = writer.commit()
            except BaseException:
                writer.abort()
                raise
            report.documents, report.passages = len(manifest["documents"]), manifest["passages"]
        if base is not None:
            base.close()
    report.seconds = time.perf_counter() - started
    return report


def _current(index_dir: Path) -> Store | None:
    if not (index_dir / "manifest.json").exists():
        return None
    return Store(index_dir)


def _choose_model(index_dir: Path, base: Store | None, model: str | None, embedder: Embedder | None) -> str:
    asked = embedder.name if embedder else canonical_model_name(model) if model else None
    if base is None:
        return asked or canonical_model_name(default_model())
    existing = base.manifest["model"]
    if asked and asked != existing:
        raise IndexMismatch(
            f"The index at {shown(index_dir)} was built with model '{existing}', not '{asked}'. "
            f"Use `qa index --rebuild --model {asked}` to rebuild it with the new model."
        )
    return existing


def _choose_index_type(base: Store | None, asked: str | None) -> str:
    """The asked index type, else the index's own setting, else ``$QA_INDEX_TYPE`` or ``auto``."""
    if asked:
        return check_index_type(asked)
    if base is not None and "vector_indexes" in base.manifest:  # older indexes recorded no setting
        return base.manifest.get("index_type", DEFAULT_INDEX_TYPE)
    return check_index_type(default_index_type())


class _Plan:
    """Which files to (re)load, which documents are unchanged and which were removed."""

    def __init__(self, base: Store | None, files: list[SourceFile], roots: set[str], skipped: list[Skipped]) -> None:
        self.known: dict[str, dict] = base.manifest["documents"] if base else {}
        self.to_load: list[tuple[SourceFile, str]] = []
        self.unchanged: list[str] = []
        seen: dict[str, SourceFile] = {}
        for file in files:
            if file.source in seen:
                skipped.append(Skipped(shown_path(file.path),
                                       f"same id '{file.source}' as {shown_path(seen[file.source].path)}"))
                continue
            record = self.known.get(file.source)
            # The same file given another way (itself, or its folder) is the same document.
            same_file = bool(record) and record.get("path") == shown_path(file.path.resolve())
            if record and record.get("root") not in roots and record.get("root") is not None and not same_file:
                skipped.append(Skipped(shown_path(file.path), f"id '{file.source}' is already taken by {record.get('path')}"))
                continue
            seen[file.source] = file
            try:
                digest = file_hash(file.path)
            except OSError as err:
                skipped.append(Skipped(shown_path(file.path), f"can't read file: {err.strerror}"))
                continue
            # A document read or split under older rules is read again, even when unchanged.
            if record and record.get("hash") == digest and all(record.get(k, 1) == v for k, v in RULES.items()):
                self.unchanged.append(file.source)
            else:
                self.to_load.append((file, digest))
        self.removed = [s for s, r in self.known.items() if r.get("root") in roots and s not in seen]
        self.changes = bool(self.to_load or self.removed)


EMBED_BATCH_SENTENCES = 2048
"""Sentences of several documents are embedded together, in batches of about this many."""


def _add_files(writer: StoreWriter, embedder: Embedder, plan: _Plan, report: IndexReport, progress: bool) -> None:
    pending: list[tuple[Document, dict, list[Passage], list[Span]]] = []
    pending_sentences = 0

    def flush() -> None:
        nonlocal pending_sentences
        texts = [doc.text[s.start : s.end] for doc, _, _, sentences in pending for s in sentences]
        vectors = embedder.encode(texts)
        pause_point("embedding")
        offset = 0
        for document, record, passages, sentences in pending:
            writer.add_document(document, record, passages, sentences, vectors[offset : offset + len(sentences)])
            offset += len(sentences)
        pending.clear()
        pending_sentences = 0

    loaded = _read_ahead(plan.to_load)
    for file, digest, document, passages, sentences in progress_bar(loaded, progress, desc="Indexing", unit="file",
                                                                     total=len(plan.to_load)):
        if isinstance(document, UnsupportedDocument):
            report.skipped.append(Skipped(shown_path(file.path), str(document)))
            continue
        # A document keeps the root it was first indexed under, so that folder's runs can remove it.
        root = plan.known.get(file.source, {}).get("root") or file.root
        record = {"hash": digest, "root": root, "path": document.path, "title": document.title, **RULES}
        pending.append((document, record, passages, sentences))
        pending_sentences += len(sentences)
        if file.source in plan.known:
            report.updated += 1
        else:
            report.added += 1
        if pending_sentences >= EMBED_BATCH_SENTENCES:
            flush()
    flush()


READ_AHEAD_FILES = 64
"""At most this many files wait, read and split, for the embedder."""
_DONE = object()


def _read_ahead(files: list[tuple[SourceFile, str]]) -> Iterator[tuple]:
    """(file, digest, document, passages, sentences) per file, in order, read and split by a thread.

    Reading and splitting the next files overlaps with embedding (which releases the GIL); a
    file that can't be read comes through with its UnsupportedDocument as ``document``.
    """
    ready: queue.Queue = queue.Queue(maxsize=READ_AHEAD_FILES)
    stop = threading.Event()

    def work() -> None:
        try:
            for file, digest in files:
                if stop.is_set():
                    return
                try:
                    document = load_document(file)
                except UnsupportedDocument as err:
                    ready.put((file, digest, err, None, None))
                    continue
                passages = split_passages(document)
                ready.put((file, digest, document, passages, distinct_sentences(passages)))
        except BaseException as err:  # handed to the consumer, which raises it
            ready.put(err)
        finally:
            ready.put(_DONE)

    reader = threading.Thread(target=work, name="qa-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting on a full queue
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.05)


def _skipped_hint(skipped: Iterable[Skipped]) -> str:
    skipped = list(skipped)
    return f" {len(skipped)} file(s) skipped." if skipped else ""

