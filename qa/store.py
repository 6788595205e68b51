"""The index folder: FAISS indexes, an SQLite file of documents and passages, and manifest.json.

Sentences are the unit that is embedded; a passage's vector is the normalised mean of its
sentences' vectors, so each sentence passes through the model once and quotes can be scored
without embedding anything at question time.

Each build writes new, uniquely named data files; ``manifest.json``, which names them, is
replaced atomically last. A build killed at any moment therefore leaves the previous manifest
pointing at the previous, untouched files. Nothing in the folder is ever executed on load, and
a damaged folder is reported as ``IndexCorrupt`` (what is wrong, and the command that fixes it),
also when the damage only shows while answering.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from qa import copies
from qa import vectors as vector_index
from qa.checksums import FileCheck, checksum
from qa.config import DEFAULT_INDEX_TYPE, VERSION
from qa.dates import iso_date
from qa.errors import IndexCorrupt
from qa.filters import DocumentFilter, allowed_sources
from qa.index_folder import make_private, record_pending, remove_leftovers
from qa.manifest import (
    DocumentRecord,
    Manifest,
    SkippedFile,
    damaged,
    fsync_path,
    new_build_id,
)
from qa.results import Document, DocumentInfo, Passage, Span

Checkpoint = Callable[[str], None]
"""Called with a point's name as a build passes it (see ``qa.indexer.build_index``)."""

_SCHEMA = """
CREATE TABLE documents (
    source TEXT PRIMARY KEY, title TEXT NOT NULL, path TEXT NOT NULL, text TEXT NOT NULL,
    pages TEXT NOT NULL, metadata TEXT NOT NULL
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    page INTEGER, sentences TEXT NOT NULL
);
CREATE INDEX passages_source ON passages(source);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    passage INTEGER NOT NULL
);
CREATE INDEX sentences_source ON sentences(source);
"""
SQLITE_MMAP_BYTES = 1 << 34
"""Up to this much of a store's SQLite file is memory-mapped for reading (SQLite caps it lower)."""
VECTOR_FILES = ("passages", "sentences")
"""Each build has a FAISS index of passage vectors and one of sentence vectors."""


@dataclass(frozen=True)
class DocumentDetails:
    """What a hit carries about its document: its ``date`` (ISO 8601, ``qa.dates``), ``author``
    and ``url`` fields, and its PDF page labels."""

    fields: dict[str, str | None]
    page_labels: dict[int, str]

    @classmethod
    def of(cls, metadata: dict, page_labels: dict[int, str]) -> DocumentDetails:
        """The details of a document with this metadata (as read from the file) and page labels."""
        fields = {key: str(metadata[key]) if metadata.get(key) else None for key in ("author", "url")}
        return cls({"date": iso_date(metadata.get("date")), **fields}, page_labels)

    def about(self, page: int | None) -> dict[str, str | None]:
        """The ``date``, ``author``, ``url`` and ``page_label`` fields of a Hit on ``page``."""
        return {**self.fields, "page_label": self.page_labels.get(page) if page is not None else None}


@dataclass(frozen=True)
class StoredPassage:
    """A passage as stored: its vector id, where it lies, its sentences' vector ids and spans, and
    its document's title."""

    id: int
    source: str
    start: int
    end: int
    page: int | None
    sentence_ids: tuple[int, ...]
    sentence_spans: tuple[tuple[int, int], ...]
    title: str


@dataclass(frozen=True)
class Scope:
    """What a filter lets through of a build: its documents, and which vector ids (and BM25 rows)
    belong to them, as boolean masks indexed by id."""

    sources: frozenset[str]
    passages: np.ndarray
    sentences: np.ndarray
    lexical: np.ndarray


class Store:
    """Read access to one build of an index folder.

    It stays usable as long as anyone holds it: a newer build does not close it (its files are
    released when the last reference goes), so a reader in another thread never finds it closed.
    """

    def __init__(self, index_dir: str | os.PathLike) -> None:
        self.index_dir = Path(index_dir)
        self.manifest = Manifest.load(index_dir)
        paths = {}
        for name in ("store", *VECTOR_FILES, "lexical"):
            if name not in self.manifest.files:
                raise damaged(index_dir, f"manifest.json names no {name} file")
            paths[name] = self.index_dir / self.manifest.files[name]
            if not paths[name].is_file():
                raise damaged(index_dir, f"{paths[name].name} is missing")
        self.vectors = {}
        for name in VECTOR_FILES:
            try:
                self.vectors[name] = vector_index.read(paths[name])
            except RuntimeError as err:
                raise damaged(index_dir, f"{paths[name].name} is not a readable vector index") from err
            problem = vector_index.problem(self.vectors[name], self.manifest.dimension)
            if problem:
                raise damaged(index_dir, f"{paths[name].name} {problem}")
        with self._reading(paths["store"].name):
            self._db = sqlite3.connect(f"file:{paths['store']}?mode=ro", uri=True, check_same_thread=False)
            # Mapped pages spare a read() call per page: fetching ~100 passages at 100k took p50 3.1
            # -> 2.3 ms, p95 9 -> 3 ms. The mapping is address space; the OS pages it in as needed.
            self._db.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
            _check_schema(self._db)
            counts = [self._db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in VECTOR_FILES]
        expected = [self.manifest.passages, self.manifest.sentences]
        found = [self.vectors[name].ntotal for name in VECTOR_FILES]
        if counts != found or found != expected:
            raise damaged(index_dir, f"it is inconsistent (vectors {found}, rows {counts}, manifest {expected})")
        self.document_text = lru_cache(maxsize=256)(self._document_text)
        self.document_details = lru_cache(maxsize=256)(self._document_details)
        self.scope = lru_cache(maxsize=16)(self._scope)
        from qa.lexical import LexicalIndex

        try:
            self.lexical = LexicalIndex.load(paths["lexical"], passages=self.manifest.passages)
        except IndexCorrupt:
            raise
        except Exception as err:  # numpy and zipfile raise many kinds for a damaged file
            raise damaged(index_dir, f"{paths['lexical'].name} is not a readable BM25 file") from err
        try:
            self._file_check = FileCheck(self.index_dir, {file: value for file, value in self.manifest.checksums.items()
                                                           if file in self.manifest.files.values()})
        except OSError as err:
            raise damaged(index_dir, f"a data file can't be opened ({err.strerror})") from err

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Report data that can't be read as a damaged index, not as a traceback."""
        try:
            yield
        except (sqlite3.Error, KeyError, IndexError, ValueError, TypeError, RuntimeError) as err:
            raise damaged(self.index_dir, f"{what} can't be read ({type(err).__name__}: {err})") from err

    def begin_check(self) -> None:
        """Start checking the data files against their checksums in a thread (once; :meth:`search`
        waits for the verdict)."""
        self._file_check.start()

    def verify(self) -> None:
        """IndexCorrupt if a data file does not match its recorded checksum (checks, or waits for
        the check :meth:`begin_check` started)."""
        problem = self._file_check.problem()
        if problem:
            raise damaged(self.index_dir, problem)

    def search(self, name: str, query: np.ndarray, k: int, within: Scope | None = None) -> list[tuple[int, float]]:
        """(id, cosine) of the ``k`` nearest ``name`` vectors ("passages" or "sentences") to a unit
        query; with ``within``, the nearest of the vectors it lets through."""
        self.verify()  # no answer from damaged files
        index = self.vectors[name]
        if index.ntotal == 0:
            return []
        with self._reading(f"the {name} vectors"):
            if within is None:
                scores, ids = vector_index.search(index, query.reshape(1, -1), min(k, index.ntotal))
            else:
                scores, ids = vector_index.search_within(index, query.reshape(1, -1), k, getattr(within, name))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _scope(self, wanted: DocumentFilter) -> Scope:
        sources = allowed_sources(wanted, {source: record.date for source, record in self.manifest.documents.items()})
        numbers, passage_owner, sentence_owner = self._owners
        # One more entry than documents: owner -1 (an id no passage has) lands on it, and it stays False.
        chosen = np.zeros(len(numbers) + 1, dtype=bool)
        chosen[[numbers[source] for source in sources]] = True
        passages = chosen[passage_owner]
        return Scope(sources, passages, chosen[sentence_owner], passages[self.lexical.ids])

    @cached_property
    def _owners(self) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """Document numbers, and the number of the document that owns each passage and sentence id
        (-1 for ids not in use); read once, when a filter first needs them."""
        numbers = {source: i for i, source in enumerate(sorted(self.manifest.documents))}
        with self._reading("the passages and sentences tables"):
            passages = self._db.execute("SELECT id, source FROM passages").fetchall()
            sentences = np.array(self._db.execute("SELECT id, passage FROM sentences").fetchall(),
                                 dtype=np.int64).reshape(-1, 2)
            passage_owner = np.full(max((pid for pid, _ in passages), default=-1) + 1, -1, dtype=np.int64)
            for pid, source in passages:
                passage_owner[pid] = numbers[source]
            sentence_owner = np.full(int(sentences[:, 0].max(initial=-1)) + 1, -1, dtype=np.int64)
            sentence_owner[sentences[:, 0]] = passage_owner[sentences[:, 1]]
        return numbers, passage_owner, sentence_owner

    @cached_property
    def copy_finder(self) -> copies.CopyFinder:
        """The build's copy groups (``qa.copies``), for marking what else holds a passage or quote."""
        return copies.CopyFinder({source: r.copy_group for source, r in self.manifest.documents.items()},
                                 self.document_text)

    def similarities(self, name: str, ids: list[int], query: np.ndarray) -> np.ndarray:
        """Cosine of the query with each of the stored ``name`` vectors ``ids``."""
        if not ids:
            return np.zeros(0, dtype=np.float32)
        with self._reading(f"the {name} vectors"):
            vectors = self.vectors[name].reconstruct_batch(np.asarray(ids, dtype=np.int64))
        return vectors @ query.astype(np.float32)

    def passages_of_sentences(self, sentence_ids: Iterable[int]) -> set[int]:
        """Ids of the passages that hold these sentences."""
        ids = list(sentence_ids)
        if not ids:
            return set()
        with self._reading("the sentences table"):
            rows = self._db.execute(f"SELECT passage FROM sentences WHERE id IN ({','.join('?' * len(ids))})", ids)
            return {int(row[0]) for row in rows}

    def passages(self, ids: Iterable[int]) -> dict[int, StoredPassage]:
        """The stored passages with these ids, keyed by id."""
        ids = list(set(ids))
        if not ids:
            return {}
        documents = self.manifest.documents  # titles from here: a join with the documents table costs more
        with self._reading("the passages table"):
            rows = self._db.execute(
                "SELECT id, source, start, end, page, sentences FROM passages "
                f"WHERE id IN ({','.join('?' * len(ids))})", ids,
            )
            found = {row[0]: _stored_passage((*row, documents[row[1]].title)) for row in rows}
        if len(found) != len(ids):
            raise damaged(self.index_dir, "vector ids point to passages that are not stored")
        return found

    def _document_text(self, source: str) -> str:
        with self._reading("the documents table"):
            row = self._db.execute("SELECT text FROM documents WHERE source = ?", (source,)).fetchone()
        if row is None:
            raise KeyError(f"No document {source!r} in the index at {self.index_dir}")
        if not isinstance(row[0], str):
            raise damaged(self.index_dir, f"the text of {source!r} is not text")
        return row[0]

    def passage_text(self, passage: StoredPassage) -> str:
        """The text of a stored passage (its span of its document's text)."""
        text = self.document_text(passage.source)
        if not 0 <= passage.start <= passage.end <= len(text):
            raise damaged(self.index_dir, f"a passage lies outside the text of {passage.source!r}")
        return text[passage.start : passage.end]

    def _document_details(self, source: str) -> DocumentDetails:
        with self._reading("the documents table"):
            row = self._db.execute("SELECT pages, metadata FROM documents WHERE source = ?", (source,)).fetchone()
            if row is None:
                return DocumentDetails.of({}, {})
            labels = {int(span[0]): str(span[3]) for span in _json_list(row[0]) if len(span) > 3 and span[3] is not None}
            return DocumentDetails.of(_json_dict(row[1]), labels)

    def documents(self) -> list[DocumentInfo]:
        """Every indexed document, by id."""
        with self._reading("the documents table"):
            rows = self._db.execute(
                "SELECT d.source, d.title, d.path, d.pages, d.metadata, COUNT(p.id) FROM documents d "
                "LEFT JOIN passages p ON p.source = d.source GROUP BY d.source ORDER BY d.source"
            )
            return [
                DocumentInfo(source, title, path, count, len(_json_list(pages)) or None, _json_dict(metadata))
                for source, title, path, pages, metadata, count in rows
            ]

    def close(self) -> None:
        """Release the SQLite file now (it is released anyway when the store is no longer used)."""
        self._db.close()


_COLUMNS = {
    "documents": {"source", "title", "path", "text", "pages", "metadata"},
    "passages": {"id", "source", "start", "end", "page", "sentences"},
    "sentences": {"id", "source", "start", "end", "passage"},
}


def _check_schema(db: sqlite3.Connection) -> None:
    for table, wanted in _COLUMNS.items():
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if not wanted <= columns:
            missing = ", ".join(sorted(wanted - columns))
            raise ValueError(f"table {table} lacks {missing}" if columns else f"no table {table}")


def _json_list(text: str) -> list:
    value = json.loads(text)
    if not isinstance(value, list):
        raise TypeError("a page list is not a list")
    return value


def _json_dict(text: str) -> dict:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError("metadata is not an object")
    return value


def _stored_passage(row: tuple) -> StoredPassage:
    pid, source, start, end, page, sentences, title = row
    # Plain tuples, not Spans: ~100 candidates are read per question and a frozen dataclass costs
    # ~1 us to make.
    ids, spans = [], []
    for sid, first, last in _json_list(sentences):
        ids.append(int(sid))
        spans.append((int(first), int(last)))
    return StoredPassage(pid, source, start, end, page, tuple(ids), tuple(spans), title)


class StoreWriter:
    """Writes the next build of an index folder, starting from a copy of the current one.

    ``checkpoint`` is called with "swap" just before the new manifest replaces the old one and
    with "after-swap" just after (crash tests stop a build there).
    """

    def __init__(self, index_dir: str | os.PathLike, *, model: str, dimension: int, base: Store | None,
                 index_type: str = DEFAULT_INDEX_TYPE, checkpoint: Checkpoint | None = None,
                 runtime: str = "torch") -> None:
        self.index_dir = Path(index_dir)
        self.build = new_build_id()
        self.files = {"store": f"store-{self.build}.sqlite", "lexical": f"lexical-{self.build}.npz"}
        self.files.update({name: f"{name}-{self.build}.faiss" for name in VECTOR_FILES})
        self.model, self.dimension, self.runtime = model, dimension, runtime
        self.index_type = vector_index.check_index_type(index_type)
        self._checkpoint = checkpoint or (lambda point: None)
        # Recorded before a byte is written: whatever happens next, the next run knows these are qa's.
        record_pending(self.index_dir, self.files.values(), base.manifest.files.values() if base else None)
        self.documents: dict[str, DocumentRecord] = dict(base.manifest.documents) if base else {}
        self._not_found = base.manifest.not_found if base else None
        store_path = self.index_dir / self.files["store"]
        if base:
            shutil.copyfile(base.index_dir / base.manifest.files["store"], store_path)
            make_private(store_path)
            # Read afresh rather than clone: the reader's copies are memory-mapped and read-only.
            self.vectors = {name: vector_index.read(base.index_dir / base.manifest.files[name], mmap=False)
                            for name in VECTOR_FILES}
        else:
            self.vectors = {name: vector_index.new_flat(dimension) for name in VECTOR_FILES}
        self._db = sqlite3.connect(store_path)
        make_private(store_path)
        if not base:
            self._db.executescript(_SCHEMA)
        copies.create_table(self._db)
        if base and copies.outdated(base.manifest):
            self._bring_up_to_date()
        self._next_id = {name: self._max_id(name) + 1 for name in VECTOR_FILES}

    def _bring_up_to_date(self) -> None:
        """Give every document of an index made under older copy rules its sentence keys and its
        record its date, from what the index stores: no file is read again."""
        self._db.execute("DELETE FROM copy_keys")
        for source, text, metadata in self._db.execute("SELECT source, text, metadata FROM documents").fetchall():
            spans = [Span(a, b) for a, b in self._db.execute("SELECT start, end FROM sentences WHERE source = ?",
                                                             (source,))]
            copies.add_keys(self._db, source, copies.sentence_keys(text, spans))
            if source in self.documents:
                self.documents[source] = replace(self.documents[source], date=iso_date(_json_dict(metadata).get("date")))

    def _max_id(self, table: str) -> int:
        value = self._db.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0]
        return -1 if value is None else value

    def _new_ids(self, name: str, count: int) -> np.ndarray:
        ids = np.arange(self._next_id[name], self._next_id[name] + count, dtype=np.int64)
        self._next_id[name] += count
        return ids

    def remove_documents(self, sources: Iterable[str]) -> None:
        """Drop these documents, their passages, sentences and vectors."""
        for source in sources:
            for name in VECTOR_FILES:
                ids = [row[0] for row in self._db.execute(f"SELECT id FROM {name} WHERE source = ?", (source,))]
                if ids:
                    vector_index.remove(self.vectors[name], np.array(ids, dtype=np.int64))
                self._db.execute(f"DELETE FROM {name} WHERE source = ?", (source,))
            self._db.execute("DELETE FROM documents WHERE source = ?", (source,))
            copies.remove_keys(self._db, source)
            self.documents.pop(source, None)

    def add_document(self, document: Document, record: DocumentRecord, passages: list[Passage],
                     sentences: list[Span], sentence_vectors: np.ndarray) -> None:
        """Add a document with its manifest record, passages, and its distinct sentences' vectors.

        Every sentence of every passage must be among ``sentences``.
        """
        pages = [[p.page, p.start, p.end, p.label] for p in document.pages]
        self._db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            (document.source, document.title, document.path, document.text, json.dumps(pages),
             json.dumps(document.metadata)),
        )
        passage_ids = self._new_ids("passages", len(passages))
        sentence_ids = self._new_ids("sentences", len(sentences))
        row_of = {span: row for row, span in enumerate(sentences)}
        owner: dict[Span, int] = {}
        passage_vectors = np.zeros((len(passages), self.dimension), dtype=np.float32)
        passage_rows = []
        for i, (pid, passage) in enumerate(zip(passage_ids, passages)):
            rows = [row_of[span] for span in passage.sentences]
            mean = sentence_vectors[rows].mean(axis=0)
            passage_vectors[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
            for span in passage.sentences:
                owner.setdefault(span, int(pid))
            triples = [[int(sentence_ids[r]), s.start, s.end] for r, s in zip(rows, passage.sentences)]
            passage_rows.append((int(pid), passage.source, passage.start, passage.end, passage.page, json.dumps(triples)))
        self._db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?)", passage_rows)
        self._db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
            [(int(sid), document.source, s.start, s.end, owner[s]) for sid, s in zip(sentence_ids, sentences)],
        )
        copies.add_keys(self._db, document.source, copies.sentence_keys(document.text, sentences))
        if passages:
            self.vectors["passages"].add_with_ids(passage_vectors, passage_ids)
            self.vectors["sentences"].add_with_ids(np.ascontiguousarray(sentence_vectors, dtype=np.float32),
                                                   sentence_ids)
        self.documents[document.source] = record  # Store.passages reads titles here

    def commit(self, skipped: dict[str, SkippedFile]) -> Manifest:
        """Write the data files, then swap the manifest in atomically; returns the new manifest."""
        groups = copies.copy_groups(self._db)
        self.documents = {source: record if record.copy_group == groups.get(source) else
                          replace(record, copy_group=groups.get(source)) for source, record in self.documents.items()}
        self._db.commit()
        write_lexical(self._db, self.index_dir / self.files["lexical"])
        self._db.close()
        for name in VECTOR_FILES:
            # Exact below a size, IVF above (or as --index-type says); converted here, once per build.
            self.vectors[name] = vector_index.fit(self.vectors[name], self.index_type)
            vector_index.write(self.vectors[name], self.index_dir / self.files[name])
        for file in self.files.values():
            make_private(self.index_dir / file)
            fsync_path(self.index_dir / file)
        checksums = {file: checksum(self.index_dir / file) for file in self.files.values()}
        manifest = Manifest(
            model=self.model,
            dimension=self.dimension,
            files=self.files,
            passages=int(self.vectors["passages"].ntotal),
            sentences=int(self.vectors["sentences"].ntotal),
            documents=self.documents,
            qa_version=VERSION,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            build=self.build,
            index_type=self.index_type,
            vector_indexes={name: vector_index.describe(self.vectors[name]) for name in VECTOR_FILES},
            skipped=skipped,
            not_found=self._not_found,
            runtime=self.runtime,
            copy_rules=copies.COPY_RULES,
            checksums=checksums,
        )
        manifest.save(self.index_dir, before_swap=lambda: self._checkpoint("swap"))
        self._checkpoint("after-swap")
        remove_leftovers(self.index_dir, keep=set(manifest.files.values()))
        return manifest

    def abort(self) -> None:
        """Throw this build away; the current manifest and its files stay as they were."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        remove_leftovers(self.index_dir)


def write_lexical(db: sqlite3.Connection, path: Path) -> None:
    """Write the BM25 index of every passage in ``db`` to ``path``."""
    from qa.lexical import LexicalIndex

    texts: dict[str, str] = {}
    ids, passages = [], []
    for pid, source, start, end in db.execute("SELECT id, source, start, end FROM passages ORDER BY id"):
        if source not in texts:
            texts[source] = db.execute("SELECT text FROM documents WHERE source = ?", (source,)).fetchone()[0]
        ids.append(pid)
        passages.append(texts[source][start:end])
    LexicalIndex.build(passages, ids).save(path)
