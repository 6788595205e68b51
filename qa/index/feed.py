"""A build's files, read, split and embedded in order: in this process, or on a cluster (``qa.index.cluster``)."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, Protocol

from qa.embed.model import Embedder
from qa.errors import UnsupportedDocument
from qa.index.writer import Checkpoint
from qa.read.files import SourceFile
from qa.read.parse_process import load_document
from qa.read.passages import distinct_sentences, split_passages
from qa.results import Document, Passage, Span


class Build(Protocol):
    """What a :data:`FileSource` needs of the build it feeds."""

    model: str
    embedder: Embedder
    checkpoint: Checkpoint
    progress: bool
    """Show a bar per batch of sentences too: one big file moves the bar as it is embedded."""
    dimension: int | None
    """The vectors' size: known from the current index, or set by a source that embeds elsewhere."""


EmbeddedFile = tuple
"""(file, digest, document, passages, sentences, vectors); ``document`` is the UnsupportedDocument
(and the rest None) for a file that could not be read."""
FileSource = Callable[[list[tuple[SourceFile, str]], Build], Iterator[EmbeddedFile]]
"""Reads, splits and embeds the files to load for a build, yielding them in their order."""

EMBED_BATCH_SENTENCES = 2048
"""Sentences of several documents are embedded together, in batches of about this many."""


def embed_in_process(files: list[tuple[SourceFile, str]], build: Build) -> Iterator[EmbeddedFile]:
    """Files read and split by a thread, embedded in this process."""

    def encode(texts: list[str]) -> Future:
        done: Future = Future()
        done.set_result(build.embedder.encode(texts, progress=build.progress))
        return done

    return embed_in_order(_read_ahead(files), encode, build.checkpoint)


def embed_in_order(loaded: Iterable[tuple], submit: Callable[[list[str]], Any], checkpoint: Checkpoint, *,
                   ahead: int = 0) -> Iterator[EmbeddedFile]:
    """Each (file, digest, document, passages, sentences) of ``loaded`` with its sentences' vectors, in order.

    The sentences of several documents go to ``submit`` together, about
    :data:`EMBED_BATCH_SENTENCES` at a time; it returns something whose ``result()`` is their
    vectors, and up to ``ahead`` batches are left to it while more files are read. A file that
    could not be read comes through at once, with None for the rest.
    """
    sent: deque = deque()
    batch: list[tuple] = []
    count = 0

    def receive() -> Iterator[EmbeddedFile]:
        files, pending = sent.popleft()
        vectors = pending.result()
        checkpoint("embedding")
        offset = 0
        for file, digest, document, passages, sentences in files:
            yield file, digest, document, passages, sentences, vectors[offset : offset + len(sentences)]
            offset += len(sentences)

    for item in loaded:
        if isinstance(item[2], UnsupportedDocument):
            yield (*item, None)
            continue
        batch.append(item)
        count += len(item[4])
        if count >= EMBED_BATCH_SENTENCES:
            sent.append((batch, submit(_sentence_texts(batch))))
            batch, count = [], 0
            while len(sent) > ahead:
                yield from receive()
    if batch:
        sent.append((batch, submit(_sentence_texts(batch))))
    while sent:
        yield from receive()


def _sentence_texts(batch: list[tuple]) -> list[str]:
    return [document.text[s.start : s.end] for _, _, document, _, sentences in batch for s in sentences]


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
                ready.put((file, digest, *read_and_split(file)))
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


def read_and_split(file: SourceFile) -> tuple[Document | UnsupportedDocument, list[Passage] | None, list[Span] | None]:
    """(document, passages, distinct sentences) of one file, or (its UnsupportedDocument, None, None)."""
    try:
        document = load_document(file)
    except UnsupportedDocument as err:
        return err, None, None
    passages = split_passages(document)
    return document, passages, distinct_sentences(passages)
