"""OpenDocument text read as a person reads it: blocks in order, sections as pages, notes apart, properties."""

import pytest
from packaged_documents import tides_odt

from qa.errors import UnsupportedDocument
from qa.read.files import SourceFile
from qa.read.formats import read_odt
from qa.read.parse_process import load_document

BLOCKS = ("Spring tides", "Spring tides come twice a month and raise the highest water of the year.",
          "- Read the almanac", "- Watch the moon", "Neap tides",
          "Neap tides rise and fall the least, in the moon's quarters.", "Port | Range", "Brest | 7 metres")
NOTES = ("They follow the new and the full moon.", "Check the harbour office's figure.")


def test_headings_paragraphs_list_items_and_table_rows_are_blocks_and_notes_come_after():
    assert tuple(read_odt(tides_odt(), "tides").text.split("\n\n")) == BLOCKS + NOTES


def test_sections_and_each_kind_of_note_are_pages_labelled_with_their_heading():
    reading = read_odt(tides_odt(), "tides")
    assert [(span.page, span.label) for span in reading.pages] == [
        (1, "Spring tides"), (2, "Neap tides"), (3, "Footnotes"), (4, "Comments")]
    comments = reading.pages[-1]
    assert reading.text[comments.start:comments.end] == "Check the harbour office's figure."


def test_title_author_and_date_are_the_files_own_properties():
    reading = read_odt(tides_odt(), "tides")
    assert (reading.title, reading.metadata) == ("Reading the Tides", {"author": "Mira Sand", "date": "2021-05-04"})


def test_an_odt_read_in_the_reader_process(tmp_path):
    path = tmp_path / "tides.odt"
    path.write_bytes(tides_odt())
    document = load_document(SourceFile(path, path.name, str(tmp_path)))
    assert document.title == "Reading the Tides" and document.pages[1].label == "Neap tides"


def test_a_zip_that_is_no_opendocument_is_skipped_with_a_reason(tmp_path):
    from packaged_documents import zip_bytes

    path = tmp_path / "empty.odt"
    path.write_bytes(zip_bytes({"mimetype": "application/vnd.oasis.opendocument.text"}))
    with pytest.raises(UnsupportedDocument, match=r"^(not a readable OpenDocument file|no text found)"):
        load_document(SourceFile(path, path.name, str(tmp_path)))
