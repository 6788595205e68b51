"""Writing the next build of an index folder: documents, passages, sentences, vectors and BM25.

Each build writes new, uniquely named data files; ``manifest.json``, which names them, is
replaced atomically last (see ``qa.index.store``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.config import DEFAULT_INDEX_TYPE, VERSION
from qa.format_history import RECOPY, version
from qa.index import copies
from qa.index import vectors as vector_index
from qa.index.checksums import checksum
from qa.index.folder import make_private, record_pending, remove_leftovers
from qa.index.manifest import DocumentRecord, Manifest, SkippedFile, fsync_path, new_build_id
from qa.index.store import VECTOR_FILES, Store, json_dict
from qa.read.dates import iso_date
from qa.results import Document, Passage, Span

Checkpoint = Callable[[str], None]
"""Called with a point's name as a build passes it (see ``qa.index.build.build_index``)."""

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
                self.documents[source] = replace(self.documents[source], date=iso_date(json_dict(metadata).get("date")))

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
            copy_rules=version(RECOPY),
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
    from qa.index.bm25 import LexicalIndex

    texts: dict[str, str] = {}
    ids, passages = [], []
    for pid, source, start, end in db.execute("SELECT id, source, start, end FROM passages ORDER BY id"):
        if source not in texts:
            texts[source] = db.execute("SELECT text FROM documents WHERE source = ?", (source,)).fetchone()[0]
        ids.append(pid)
        passages.append(texts[source][start:end])
    LexicalIndex.build(passages, ids).save(path)
