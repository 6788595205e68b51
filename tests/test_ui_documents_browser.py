"""Managing documents in the browser: uploads say what they do while they do it, a clashing name
is never replaced, and a document can be removed (deleting an uploaded file asks once)."""

from __future__ import annotations

import pytest
from ui_support import NATO_QUOTE, ask_in_page, low_contrast

from qa.index.folder import write_lock

pytest_plugins = ["ui_fixtures"]

pytestmark = pytest.mark.browser
INDEXING_MS = 240_000  # the first upload loads the embedding model, on a busy machine too
OTTERS = "Otter notes\n\nSea otters hold hands while they sleep so that they do not drift apart.\n"


def report_says(page, text: str, timeout: int = INDEXING_MS) -> str:
    page.wait_for_function(
        "t => document.querySelector('#documents-report').innerText.includes(t)", arg=text, timeout=timeout)
    return page.locator("#documents-report").inner_text()


def test_upload_while_qa_index_writes_waits_shows_progress_and_questions_are_answered(page, chat_server, tmp_path):
    upload = tmp_path / "otters.txt"
    upload.write_text(OTTERS, encoding="utf-8")
    page.get_by_text("Documents", exact=True).click()
    with write_lock(chat_server[1].parent / "index"):  # what a `qa index` run holds while it writes
        page.set_input_files("#upload input[type=file]", str(upload))
        waiting = report_says(page, "Another `qa index` run is writing the index")
        assert "otters.txt will be indexed as soon as it has finished" in waiting
        # The bar shows over the emptied upload box, so the report above stays readable.
        assert page.locator("#upload [role=progressbar]").count() == 1
        assert [item for item in low_contrast(page) if "qa index" in item[0]] == []
        answer = ask_in_page(page, "What is NATO's position on cluster munitions?")  # from the index as it was
        assert NATO_QUOTE in answer.inner_text()
        assert "Another `qa index` run" in page.locator("#documents-report").inner_text()
    assert "otters.txt" in report_says(page, "Indexed:")
    answer = ask_in_page(page, "What do sea otters do while they sleep?")
    assert "hold hands" in answer.inner_text()
    page.wait_for_function("document.querySelector('#documents').innerText.includes('otters.txt')")


def test_a_clashing_name_is_kept_as_a_new_file_and_said_so(page, chat_server, tmp_path):
    docs = chat_server[1]
    before = (docs / "pelicans.md").read_bytes()
    upload = tmp_path / "pelicans.md"
    upload.write_text("Heron notes\n\nThe grey herons fish at the weir every dawn.\n", encoding="utf-8")
    page.get_by_text("Documents", exact=True).click()
    page.set_input_files("#upload input[type=file]", str(upload))
    report = report_says(page, "Indexed:")
    assert "pelicans.md: saved as pelicans (2).md: a different pelicans.md is already there" in report
    assert (docs / "pelicans.md").read_bytes() == before
    assert (docs / "pelicans (2).md").read_bytes() == upload.read_bytes()


def test_an_uploaded_document_can_be_removed_and_its_file_goes(page, chat_server, tmp_path):
    docs = chat_server[1]
    upload = tmp_path / "kestrels.txt"
    upload.write_text("Kestrel notes\n\nKestrels hover over the motorway verges hunting voles.\n", encoding="utf-8")
    page.get_by_text("Documents", exact=True).click()
    page.set_input_files("#upload input[type=file]", str(upload))
    report_says(page, "Indexed:")
    assert (docs / "kestrels.txt").exists()
    page.wait_for_function("document.querySelector('#documents').innerText.includes('kestrels.txt')")
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="Kestrel notes (kestrels.txt)").click()
    page.click("#remove")  # deleting the file can't be undone: it asks once
    assert "Press Remove again to confirm" in report_says(page, "Remove kestrels.txt and delete its file?")
    page.wait_for_timeout(500)  # the list refreshes, keeping the choice
    assert (docs / "kestrels.txt").exists() and not list(docs.glob(".qa-*"))  # qa's ledger is in the index folder
    page.click("#remove")
    assert "deleted its file: this page had uploaded it" in report_says(page, "Removed kestrels.txt")
    assert not (docs / "kestrels.txt").exists()
    page.wait_for_function("!document.querySelector('#documents').innerText.includes('kestrels.txt')")
    answer = ask_in_page(page, "What do kestrels hunt over the motorway verges?")
    assert "Kestrels hover" not in answer.inner_text()
