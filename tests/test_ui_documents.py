"""The Documents panel's handlers against a real index: uploads say what they do and keep
nothing they could not index, a `qa index` run is waited for, and documents can be removed."""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_support import visible

import ui.documents
from qa import Retriever
from qa.index.folder import write_lock
from ui.documents import add_documents, refresh, remove_document
from ui.upload import LEDGER

pytest_plugins = ["ui_fixtures"]

OTTERS = "Otter notes\n\nSea otters hold hands while they sleep so that they do not drift apart.\n"


def shown(markup: str) -> str:
    return "".join(visible(markup).text)


@pytest.fixture
def page_folders(tmp_path, ui_index, embedder):
    """A copy of the UI index, an empty documents folder for uploads, and files to upload."""
    shutil.copytree(ui_index, tmp_path / "index")
    (tmp_path / "docs").mkdir()
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "otters.txt").write_text(OTTERS)
    (uploads / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (uploads / "tool.exe").write_bytes(b"MZ")
    retriever = Retriever.load(tmp_path / "index", embedder=embedder)
    return retriever, tmp_path / "docs", uploads


def upload(retriever, docs, embedder, *files, known=()):
    """Every update the upload handler yields, as shown text."""
    return [shown(report) for report, box in add_documents(docs, retriever.index_dir, embedder, list(map(str, files)),
                                                          list(known))]


def test_upload_says_what_it_indexes_and_keeps_nothing_it_could_not(page_folders, embedder):
    retriever, docs, uploads = page_folders
    updates = upload(retriever, docs, embedder, uploads / "otters.txt", uploads / "broken.pdf", uploads / "tool.exe")
    assert updates[0].startswith("Indexing otters.txt, broken.pdf. Until it is done, questions are answered")
    final = updates[-1]
    assert "Indexed:otters.txt" in final.replace("\n", "")
    assert "tool.exe: unsupported file type" in final
    assert "broken.pdf: not a readable PDF" in final and "(not kept in the documents folder)" in final
    assert sorted(p.name for p in docs.iterdir()) == ["otters.txt"]  # qa's ledger is in the index folder
    assert (retriever.index_dir / LEDGER).is_file()
    panel, _, documents = refresh(retriever)
    assert "Otter notes — otters.txt (1 passage)" in shown(panel)
    assert retriever.ask("What do sea otters do while they sleep?").quotes[0].source == "otters.txt"
    again = upload(retriever, docs, embedder, uploads / "otters.txt", known=documents)
    assert "otters.txt: this file was already there" in again[-1]


def test_an_upload_never_takes_the_name_of_an_indexed_document(page_folders, embedder):
    retriever, docs, uploads = page_folders
    (uploads / "pelicans.md").write_text("Heron notes\n\nThe grey herons fish at the weir every dawn.\n")
    _, _, known = refresh(retriever)
    final = upload(retriever, docs, embedder, uploads / "pelicans.md", known=known)[-1]
    assert "pelicans.md: saved as pelicans (2).md: a different pelicans.md is already there" in final
    assert retriever.ask("Where do the grey herons fish?").quotes[0].source == "pelicans (2).md"
    assert "Each pelican eats" in retriever.document_text("pelicans.md")


@contextlib.contextmanager
def lock_held(index_dir) -> Iterator[None]:
    """Hold the index's write lock in a thread, as a `qa index` run does while it writes, until the block ends."""
    taken, release = threading.Event(), threading.Event()

    def hold():
        with write_lock(index_dir):
            taken.set()
            release.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait()
    try:
        yield
    finally:
        release.set()
        thread.join()


def test_upload_waits_while_qa_index_writes_then_indexes(page_folders, embedder):
    retriever, docs, uploads = page_folders
    handler = add_documents(docs, retriever.index_dir, embedder, [str(uploads / "otters.txt")], [])
    updates = []
    with lock_held(retriever.index_dir):
        for report, _ in handler:
            updates.append(shown(report))
            if "Another `qa index` run is writing the index" in updates[-1]:
                break  # the page says it waits: now the other run may finish
    updates += [shown(report) for report, _ in handler]
    waiting = [u for u in updates if "Another `qa index` run is writing the index" in u]
    assert waiting and "otters.txt will be indexed as soon as it has finished" in waiting[0]
    assert "Indexed:otters.txt" in updates[-1].replace("\n", "")
    assert retriever.ask("What do sea otters do while they sleep?").quotes[0].source == "otters.txt"


def test_upload_gives_up_after_waiting_and_takes_its_file_back_out(page_folders, embedder, monkeypatch):
    retriever, docs, uploads = page_folders
    monkeypatch.setattr(ui.documents, "LOCK_WAIT_S", 0)  # how long it waits is the setting's business
    with lock_held(retriever.index_dir):
        final = upload(retriever, docs, embedder, uploads / "otters.txt")[-1]
    assert "otters.txt: Another `qa index`" in final and "(not kept in the documents folder)" in final
    assert not (docs / "otters.txt").exists()


def test_removal_deletes_the_file_only_if_this_page_uploaded_it(page_folders, embedder):
    retriever, docs, uploads = page_folders
    upload(retriever, docs, embedder, uploads / "otters.txt")
    _, _, known = refresh(retriever)
    # Deleting an uploaded file can't be undone: the first press asks, and changes nothing.
    (asked, pending), = remove_document(retriever.index_dir, "otters.txt", known)
    assert shown(asked) == ("Remove otters.txt and delete its file? This page uploaded it, so the file is deleted too "
                            "and can't be brought back. Press Remove again to confirm.")
    assert pending == "otters.txt" and (docs / "otters.txt").exists()
    assert "otters.txt" in {d.source for d in refresh(retriever, "otters.txt")[2]}
    assert refresh(retriever, "otters.txt")[1]["value"] == "otters.txt"  # still chosen for the second press
    final, pending = list(remove_document(retriever.index_dir, "otters.txt", known, pending))[-1]
    assert shown(final) == "Removed otters.txt from the index, and deleted its file: this page had uploaded it."
    assert pending is None and not (docs / "otters.txt").exists()
    pelicans = next(d for d in known if d.source == "pelicans.md")
    final, _ = list(remove_document(retriever.index_dir, "pelicans.md", known))[-1]  # its file stays: no question
    final = shown(final)
    assert final.startswith("Removed pelicans.md from the index.") and "stays where it is" in final
    assert Path(pelicans.path).exists()
    panel, choices, known = refresh(retriever)
    assert {"otters.txt", "pelicans.md"}.isdisjoint(d.source for d in known)
    assert "pelicans.md" not in shown(panel)
    assert [value for _, value in choices["choices"]] == [d.source for d in known]


def test_removal_without_a_choice_says_so(page_folders):
    retriever, docs, _ = page_folders
    assert shown(list(remove_document(retriever.index_dir, None, []))[-1][0]) == "Choose a document to remove."


def test_a_word_file_uploaded_is_indexed_answered_from_and_opened(page_folders, embedder):
    from packaged_documents import keepers_docx

    from ui.document_view import document_response

    retriever, docs, uploads = page_folders
    (uploads / "keepers.docx").write_bytes(keepers_docx())
    final = upload(retriever, docs, embedder, uploads / "keepers.docx")[-1]
    assert "Indexed:keepers.docx" in final.replace("\n", "")
    panel, _, _ = refresh(retriever)
    assert "The Keeper's Year — keepers.docx" in shown(panel)
    quote = retriever.ask("What colour was the tower painted every summer?").quotes[0]
    assert (quote.source, quote.place) == ("keepers.docx", "section 3: Summer duties")
    page = document_response(retriever, "keepers.docx", passage=f"{quote.start}-{quote.end}").body.decode()
    assert "Every summer the tower was painted white" in page and "download the original file" in page
    original = document_response(retriever, "keepers.docx", download=True)
    assert Path(original.path) == docs / "keepers.docx"
