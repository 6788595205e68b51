"""The index folder: FAISS indexes, an SQLite file of documents and passages, and manifest.json.

Sentences are the unit that is embedded; a passage's vector is the normalised mean of its
sentences' vectors, so each sentence passes through the model once and quotes can be scored
without embedding anything at question time.

Each build writes new, uniquely named data files; ``manifest.json``, which names them, is
replaced atomically last. A build killed at any moment therefore leaves the previous manifest
pointing at the previous, untouched files. Nothing in the folder is ever executed on load.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa import vectors as vector_index
from qa.errors import IndexCorrupt, IndexLocked, IndexMismatch, IndexNotFound
from qa.results import Document, DocumentInfo, Passage, Span
from qa.testhook import pause_point

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LOCK = ".lock"
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
    """What a hit carries about its document: metadata (author, date, url...) and PDF page labels."""

    metadata: dict[str, str]
    page_labels: dict[int, str]

    def about(self, page: int | None) -> dict[str, str | None]:
        """The ``date``, ``author``, ``url`` and ``page_label`` fields of a Hit on ``page``."""
        fields = {key: str(self.metadata[key]) if self.metadata.get(key) else None for key in ("date", "author", "url")}
        return {**fields, "page_label": self.page_labels.get(page) if page is not None else None}


@dataclass(frozen=True)
class StoredPassage:
    """A passage as stored: its vector id, the passage, its sentences' vector ids, its document's title."""

    id: int
    passage: Passage
    sentence_ids: tuple[int, ...]
    title: str


def shown(index_dir: str | os.PathLike) -> str:
    """A folder as messages show it: ``index/``."""
    return str(Path(index_dir)) + "/"


def rebuild_hint(index_dir: str | os.PathLike) -> str:
    return f"Rebuild it with `qa index --rebuild --index-dir {shown(index_dir)}`."


def read_manifest(index_dir: str | os.PathLike) -> dict:
    """The folder's manifest, checked for format; raises IndexNotFound / IndexCorrupt / IndexMismatch."""
    path = Path(index_dir, MANIFEST)
    if not path.is_file():
        raise IndexNotFound(f"No index at {shown(index_dir)}. Run `qa index` first.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        version = manifest["format"]
        for key in ("model", "dimension", "documents", "files", "passages"):
            manifest[key]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise IndexCorrupt(f"The index at {shown(index_dir)} has a damaged {MANIFEST}. {rebuild_hint(index_dir)}") from err
    if version != FORMAT_VERSION:
        raise IndexMismatch(
            f"The index at {shown(index_dir)} has format {version}; this qa reads format {FORMAT_VERSION}. "
            f"{rebuild_hint(index_dir)}"
        )
    return manifest


class Store:
    """Read access to one build of an index folder."""

    def __init__(self, index_dir: str | os.PathLike) -> None:
        self.index_dir = Path(index_dir)
        self.manifest = read_manifest(index_dir)
        files = self.manifest["files"]
        store_path = self.index_dir / files["store"]
        paths = {name: self.index_dir / files[name] for name in VECTOR_FILES}
        for path in (store_path, *paths.values()):
            if not path.is_file():
                raise IndexCorrupt(f"The index at {shown(index_dir)} is missing {path.name}. {rebuild_hint(index_dir)}")
        self.vectors = {}
        for name, path in paths.items():
            try:
                self.vectors[name] = vector_index.read(path)
            except RuntimeError as err:
                raise IndexCorrupt(
                    f"The index at {shown(index_dir)} has a damaged {path.name}. {rebuild_hint(index_dir)}"
                ) from err
        try:
            self._db = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, check_same_thread=False)
            # Mapped pages spare a read() call per page: fetching ~100 passages at 100k took p50 3.1
            # -> 2.3 ms, p95 9 -> 3 ms. The mapping is address space; the OS pages it in as needed.
            self._db.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
            counts = [self._db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in VECTOR_FILES]
        except sqlite3.DatabaseError as err:
            raise IndexCorrupt(
                f"The index at {shown(index_dir)} has a damaged {store_path.name}. {rebuild_hint(index_dir)}"
            ) from err
        expected = [self.manifest["passages"], self.manifest.get("sentences")]
        found = [self.vectors[name].ntotal for name in VECTOR_FILES]
        if counts != found or found != expected or any(
            v.d != self.manifest["dimension"] for v in self.vectors.values()
        ):
            raise IndexCorrupt(
                f"The index at {shown(index_dir)} is inconsistent (vectors {found}, rows {counts}, "
                f"manifest {expected}). {rebuild_hint(index_dir)}"
            )
        self.document_text = lru_cache(maxsize=256)(self._document_text)
        self.document_details = lru_cache(maxsize=256)(self._document_details)
        from qa.lexical import LexicalIndex

        try:
            self.lexical = LexicalIndex.load(self.index_dir / files["lexical"])
        except (OSError, ValueError, KeyError) as err:
            raise IndexCorrupt(
                f"The index at {shown(index_dir)} has a damaged or missing BM25 file. {rebuild_hint(index_dir)}"
            ) from err

    def search(self, name: str, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(id, cosine) of the ``k`` nearest ``name`` vectors ("passages" or "sentences") to a unit query."""
        index = self.vectors[name]
        if index.ntotal == 0:
            return []
        scores, ids = vector_index.search(index, query.reshape(1, -1), min(k, index.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def similarities(self, name: str, ids: list[int], query: np.ndarray) -> np.ndarray:
        """Cosine of the query with each of the stored ``name`` vectors ``ids``."""
        if not ids:
            return np.zeros(0, dtype=np.float32)
        vectors = self.vectors[name].reconstruct_batch(np.asarray(ids, dtype=np.int64))
        return vectors @ query.astype(np.float32)

    def passages_of_sentences(self, sentence_ids: Iterable[int]) -> set[int]:
        """Ids of the passages that hold these sentences."""
        ids = list(sentence_ids)
        if not ids:
            return set()
        rows = self._db.execute(f"SELECT passage FROM sentences WHERE id IN ({','.join('?' * len(ids))})", ids)
        return {row[0] for row in rows}

    def passages(self, ids: Iterable[int]) -> dict[int, StoredPassage]:
        """The stored passages with these ids, keyed by id."""
        ids = list(ids)
        if not ids:
            return {}
        rows = self._db.execute(
            f"SELECT id, source, start, end, page, sentences FROM passages WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        )
        documents = self.manifest["documents"]  # titles from here: a join with the documents table costs more
        return {row[0]: _stored_passage((*row, documents[row[1]]["title"])) for row in rows}

    def _document_text(self, source: str) -> str:
        row = self._db.execute("SELECT text FROM documents WHERE source = ?", (source,)).fetchone()
        if row is None:
            raise KeyError(f"No document {source!r} in the index at {self.index_dir}")
        return row[0]

    def _document_details(self, source: str) -> DocumentDetails:
        row = self._db.execute("SELECT pages, metadata FROM documents WHERE source = ?", (source,)).fetchone()
        try:
            pages, metadata = json.loads(row[0]), json.loads(row[1])
            labels = {int(span[0]): str(span[3]) for span in pages if len(span) > 3 and span[3] is not None}
            return DocumentDetails(metadata if isinstance(metadata, dict) else {}, labels)
        except (TypeError, ValueError, IndexError, KeyError):  # no such document, or details it can't read
            return DocumentDetails({}, {})

    def documents(self) -> list[DocumentInfo]:
        """Every indexed document, by id."""
        rows = self._db.execute(
            "SELECT d.source, d.title, d.path, d.pages, d.metadata, COUNT(p.id) FROM documents d "
            "LEFT JOIN passages p ON p.source = d.source GROUP BY d.source ORDER BY d.source"
        )
        return [
            DocumentInfo(source, title, path, count, len(json.loads(pages)) or None, json.loads(metadata))
            for source, title, path, pages, metadata, count in rows
        ]

    def close(self) -> None:
        self._db.close()


def _stored_passage(row: tuple) -> StoredPassage:
    pid, source, start, end, page, sentences, title = row
    triples = json.loads(sentences)
    spans = tuple(Span(a, b) for _, a, b in triples)
    return StoredPassage(pid, Passage(source, start, end, page, spans), tuple(i for i, _, _ in triples), title)


class StoreWriter:
    """Writes the next build of an index folder, starting from a copy of the current one."""

    def __init__(self, index_dir: str | os.PathLike, *, model: str, dimension: int, base: Store | None,
                 index_type: str = vector_index.DEFAULT_INDEX_TYPE) -> None:
        self.index_dir = Path(index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.build = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        self.files = {"store": f"store-{self.build}.sqlite"}
        self.files.update({name: f"{name}-{self.build}.faiss" for name in VECTOR_FILES})
        self.model, self.dimension = model, dimension
        self.index_type = vector_index.check_index_type(index_type)
        self.documents: dict[str, dict] = dict(base.manifest["documents"]) if base else {}
        self.extra: dict = {k: v for k, v in base.manifest.items() if k not in _MANAGED_KEYS} if base else {}
        store_path = self.index_dir / self.files["store"]
        if base:
            shutil.copyfile(base.index_dir / base.manifest["files"]["store"], store_path)
            # Read afresh rather than clone: the reader's copies are memory-mapped and read-only.
            self.vectors = {name: vector_index.read(base.index_dir / base.manifest["files"][name], mmap=False)
                            for name in VECTOR_FILES}
        else:
            self.vectors = {name: vector_index.new_flat(dimension) for name in VECTOR_FILES}
        self._db = sqlite3.connect(store_path)
        if not base:
            self._db.executescript(_SCHEMA)
        self._next_id = {name: self._max_id(name) + 1 for name in VECTOR_FILES}

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
            self.documents.pop(source, None)

    def add_document(self, document: Document, record: dict, passages: list[Passage],
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
        if passages:
            self.vectors["passages"].add_with_ids(passage_vectors, passage_ids)
            self.vectors["sentences"].add_with_ids(np.ascontiguousarray(sentence_vectors, dtype=np.float32),
                                                   sentence_ids)
        self.documents[document.source] = {**record, "title": document.title}  # Store.passages reads titles here

    def commit(self) -> dict:
        """Write the data files, then swap the manifest in atomically; returns the new manifest."""
        from qa import __version__

        self._db.commit()
        self.files["lexical"] = f"lexical-{self.build}.npz"
        write_lexical(self._db, self.index_dir / self.files["lexical"])
        self._db.close()
        for name in VECTOR_FILES:
            # Exact below a size, IVF above (or as --index-type says); converted here, once per build.
            self.vectors[name] = vector_index.fit(self.vectors[name], self.index_type)
            vector_index.write(self.vectors[name], self.index_dir / self.files[name])
        for file in self.files.values():
            _fsync(self.index_dir / file)
        manifest = {
            **self.extra,
            "format": FORMAT_VERSION,
            "qa_version": __version__,
            "model": self.model,
            "dimension": self.dimension,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build": self.build,
            "files": self.files,
            "index_type": self.index_type,
            "vector_indexes": {name: vector_index.describe(self.vectors[name]) for name in VECTOR_FILES},
            "passages": int(self.vectors["passages"].ntotal),
            "sentences": int(self.vectors["sentences"].ntotal),
            "documents": self.documents,
        }
        write_json_atomically(self.index_dir / MANIFEST, manifest)
        pause_point("after-swap")
        remove_stale_files(self.index_dir, keep=set(self.files.values()))
        return manifest

    def abort(self) -> None:
        """Throw this build away; the current manifest and its files stay as they were."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        for file in self.files.values():
            (self.index_dir / file).unlink(missing_ok=True)


_MANAGED_KEYS = {"format", "qa_version", "model", "dimension", "built_at", "build", "files", "index_type",
                 "vector_indexes",
                 "passages", "sentences", "documents"}


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


def write_json_atomically(path: Path, data: dict) -> None:
    """Write JSON to a temporary file, flush it to disk, then rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    _fsync(tmp)
    pause_point("swap")
    os.replace(tmp, path)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_files(index_dir: Path, keep: set[str]) -> None:
    """Delete data files of earlier or interrupted builds (a reader that has them open keeps its copy)."""
    for path in index_dir.iterdir():
        stale_data = path.name.startswith(("store-", "lexical-", *(f"{n}-" for n in VECTOR_FILES))) and path.name not in keep
        stale_tmp = path.name.startswith(f".{MANIFEST}.") and path.name.endswith(".tmp")
        if stale_data or stale_tmp:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def write_lock(index_dir: str | os.PathLike) -> Iterator[None]:
    """Hold the index folder's write lock; raises IndexLocked if another process holds it."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(index_dir, LOCK), "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise IndexLocked(
                f"Another `qa index` (pid {holder}) is writing {shown(index_dir)}. Wait for it to finish, then try again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
