"""Reading one build of an index folder: FAISS indexes, an SQLite file of documents and passages, BM25.

A passage's vector is the normalised mean of its sentences', so each sentence is embedded once and
quotes are scored without embedding at question time. A damaged folder is reported as
``IndexCorrupt`` (what is wrong, and the command that fixes it), also when the damage only shows
while answering.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.errors import IndexCorrupt
from qa.index import copies
from qa.index import vectors as vector_index
from qa.index.checksums import FileCheck
from qa.index.manifest import Manifest, damaged
from qa.read.dates import iso_date
from qa.results import DocumentInfo

SQLITE_MMAP_BYTES = 1 << 34
"""Up to this much of a store's SQLite file is memory-mapped for reading (SQLite caps it lower)."""
VECTOR_FILES = ("passages", "sentences")
"""Each build has a FAISS index of passage vectors and one of sentence vectors."""


@dataclass(frozen=True)
class DocumentDetails:
    """What a hit carries about its document: its ``date`` (ISO 8601, ``qa.read.dates``), ``author``
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


class Filter(Hashable, Protocol):
    """What :meth:`Store.scope` needs of a filter (``qa.search.filters.DocumentFilter`` is one)."""

    def allowed_sources(self, dates: Mapping[str, str | None]) -> frozenset[str]: ...


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
        from qa.index.bm25 import LexicalIndex

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

    def _scope(self, wanted: Filter) -> Scope:
        sources = wanted.allowed_sources({source: record.date for source, record in self.manifest.documents.items()})
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
        """The build's copy groups (``qa.index.copies``), for marking what else holds a passage or quote."""
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
            return DocumentDetails.of(json_dict(row[1]), labels)

    def documents(self) -> list[DocumentInfo]:
        """Every indexed document, by id."""
        with self._reading("the documents table"):
            rows = self._db.execute(
                "SELECT d.source, d.title, d.path, d.pages, d.metadata, COUNT(p.id) FROM documents d "
                "LEFT JOIN passages p ON p.source = d.source GROUP BY d.source ORDER BY d.source"
            )
            return [
                DocumentInfo(source, title, path, count, len(_json_list(pages)) or None, json_dict(metadata))
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


def json_dict(text: str) -> dict:
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
