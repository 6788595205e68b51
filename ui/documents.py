"""The Documents panel's handlers: the list of indexed documents, uploads, and removal.

Uploads and removals are indexed beside the questions, not in their queue: a question asked
meanwhile is answered from the index as it was, and the retriever switches to the new build
at its next question. When a `qa index` run holds the index folder, the page waits for it
(saying so) for up to :data:`LOCK_WAIT_S`, then gives up and says what it did.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import TypeVar

import gradio as gr

from qa import DocumentInfo, Embedder, IndexLocked, QAError, Retriever, build_index, remove_documents
from ui.render import escape_text, render_documents, render_status, render_upload_report
from ui.upload import SavedUpload, delete_upload, is_upload, save_uploads

T = TypeVar("T")

LOCK_WAIT_S = 600.0
"""How long an upload or removal waits for another `qa index` run to finish writing the index."""
LOCK_POLL_S = 1.0


def refresh(retriever: Retriever, chosen: str | None = None) -> tuple[str, dict, list[DocumentInfo]]:
    """The documents panel, the removal choices (still ``chosen``, while it is indexed) and the list
    behind them, from the newest build."""
    documents = retriever.documents()  # of the newest build: it reloads
    kept = chosen if any(d.source == chosen for d in documents) else None
    return render_documents(documents), gr.update(choices=document_choices(documents), value=kept), documents


def document_choices(documents: Sequence[DocumentInfo]) -> list[tuple[str, str]]:
    """(label, id) of each document, for a dropdown."""
    return [(f"{d.title} ({d.source})" if d.title != d.source else d.source, d.source) for d in documents]


def filter_choices(documents: Sequence[DocumentInfo], chosen: list[str] | None) -> dict:
    """The page's document filter: the indexed documents to choose from; chosen ones that are no
    longer indexed are let go."""
    sources = {d.source for d in documents}
    return gr.update(choices=document_choices(documents), value=[c for c in chosen or [] if c in sources])


def while_locked(work: Callable[[], T], waiting: Callable[[float], tuple],
                 progress: gr.Progress | None = None) -> Generator[tuple, None, T]:
    """Run ``work``, retrying while another process holds the index's write lock.

    Yields ``waiting(seconds waited)`` as the page's update while it waits, with ``progress``
    at 0 (after the update: Gradio hides a bar set before one); raises IndexLocked once
    :data:`LOCK_WAIT_S` have passed.
    """
    started = time.monotonic()
    while True:
        try:
            return work()
        except IndexLocked:
            waited = time.monotonic() - started
            if waited >= LOCK_WAIT_S:
                raise
            yield waiting(waited)
            if progress is not None:
                progress(0, desc=f"Waiting for the index ({waited:.0f} s)")
            time.sleep(LOCK_POLL_S)


def add_documents(
    docs_dir: str | os.PathLike,
    index_dir: str | os.PathLike,
    embedder: Embedder,
    files: list[str] | None,
    known: Sequence[DocumentInfo] = (),
    progress: gr.Progress = gr.Progress(track_tqdm=True),
) -> Generator[tuple[str, None], None, None]:
    """Save uploaded files in ``docs_dir`` and index them, saying what happens as it happens.

    Yields the report and an emptied upload box. ``known`` (the documents indexed when the
    page last looked) keeps an upload from taking the name of an indexed document. Files that
    can't be indexed are taken out of ``docs_dir`` again.
    """
    saved, refused = save_uploads(files or [], docs_dir, index_dir, taken=frozenset(d.source for d in known))
    if not saved:
        yield render_upload_report([], refused), None
        return
    names = ", ".join(upload.path.name for upload in saved)
    yield render_status(f"Indexing {names}. Until it is done, questions are answered from the documents "
                        "indexed before."), None
    progress(0, desc=f"Indexing {names}")  # the bar shows at once, also while the model loads

    def waiting(seconds: float) -> tuple[str, None]:
        return render_status(f"Another `qa index` run is writing the index; {names} will be indexed as soon as "
                             f"it has finished (waiting {seconds:.0f} s, at most {LOCK_WAIT_S / 60:.0f} min)."), None

    try:
        report = yield from while_locked(
            lambda: build_index([u.path for u in saved], index_dir, progress=True, embedder=embedder), waiting, progress)
    except QAError as err:
        left_out = [(u.name, _not_indexed(index_dir, u, str(err))) for u in saved]
        yield render_upload_report([], [*refused, *left_out]), None
        return
    skipped = {Path(s.path).resolve(): s.reason for s in report.skipped}
    indexed, left_out = [], []
    for upload in saved:
        reason = skipped.get(upload.path.resolve())
        if reason is not None:
            left_out.append((upload.name, _not_indexed(index_dir, upload, reason)))
        else:
            indexed.append((upload.name, upload.note or ("" if upload.written else "this file was already there")))
    yield render_upload_report(indexed, [*refused, *left_out]), None


def _not_indexed(index_dir: str | os.PathLike, upload: SavedUpload, reason: str) -> str:
    """``reason``, after taking the upload back out of the documents folder if this page put it there."""
    if delete_upload(index_dir, upload.path):
        return f"{reason} (not kept in the documents folder)"
    return reason


def remove_document(
    index_dir: str | os.PathLike,
    source: str | None,
    known: Sequence[DocumentInfo] = (),
    confirmed: str | None = None,
    progress: gr.Progress = gr.Progress(),
) -> Generator[tuple[str, str | None], None, None]:
    """Take document ``source`` out of the index; delete its file only if this page uploaded it.

    Yields the report and the document a second press of Remove confirms: deleting a file can't
    be undone, so that asks once (``confirmed`` is the document the previous press asked about).
    """
    info = next((d for d in known if d.source == source), None)
    if not source or info is None:
        yield render_status("Choose a document to remove."), None
        return
    if is_upload(index_dir, info.path) and confirmed != source:
        yield render_status(f"Remove {source} and delete its file? This page uploaded it, so the file is deleted "
                            "too and can't be brought back. Press Remove again to confirm."), source
        return
    yield render_status(f"Removing {source} from the index…"), None

    def waiting(seconds: float) -> tuple[str, None]:
        return render_status(f"Another `qa index` run is writing the index; {source} will be removed as soon as "
                             f"it has finished (waiting {seconds:.0f} s)."), None

    try:
        yield from while_locked(lambda: remove_documents([source], index_dir), waiting, progress)
    except QAError as err:
        yield render_status(f"{source} was not removed: {err}"), None
        return
    if delete_upload(index_dir, info.path):
        yield render_status(f"Removed {source} from the index, and deleted its file: this page had uploaded it."), None
    else:
        yield (render_status(f"Removed {source} from the index.")
               + f'<p class="qa-status">Its file stays where it is ({escape_text(info.path)}): this page did not '
                 "upload it, so indexing its folder again with `qa index` brings it back.</p>"), None
