"""EPUB books read as a person reads them: chapters in reading order as pages, notes apart, the
table of contents left out, and nothing read from outside the book."""

import pytest
from packaged_documents import epub

from qa.errors import UnsupportedDocument
from qa.read.files import SourceFile
from qa.read.formats import read_epub
from qa.read.parse_process import load_document

FIRST = ('<h1>The first night</h1><p>The keeper lit the lamp at d\u00e9but of dusk'
         '<a epub:type="noteref" href="#n1">1</a>.</p><ul><li>Oil</li><li>A wick<ul><li>of cotton</li></ul></li></ul>'
         '<aside epub:type="footnote" id="n1"><p>Dusk came at six in October.</p></aside>')
SECOND = ('<section><h1>Storms</h1><div>A gale <em>broke</em> the lantern&nbsp;glass twice.</div>'
          '<table><tr><th>Year</th><th>Gales</th></tr><tr><td>1901</td><td>4</td></tr></table></section>')


def test_chapters_are_read_in_order_as_blocks_with_notes_after_them():
    reading = read_epub(epub([FIRST, SECOND]), "lamp")
    assert reading.text.split("\n\n") == [
        "The first night", "The keeper lit the lamp at d\u00e9but of dusk.", "- Oil", "- A wick", "- of cotton",
        "Storms", "A gale broke the lantern glass twice.", "Year | Gales", "1901 | 4",
        "Dusk came at six in October.",
    ]
    assert "Contents entry" not in reading.text


def test_each_chapter_is_a_page_labelled_with_its_heading():
    reading = read_epub(epub([FIRST, SECOND]), "lamp")
    assert [(span.page, span.label) for span in reading.pages] == [(1, "The first night"), (2, "Storms"), (3, "Notes")]


def test_title_author_and_date_come_from_the_package_file():
    reading = read_epub(epub([FIRST]), "lamp")
    assert (reading.title, reading.metadata) == ("The Lamp Room", {"author": "Ines Varga", "date": "2019-03-02"})


def test_a_chapter_address_that_leaves_the_book_is_not_followed(tmp_path):
    secret = tmp_path / "secret.xhtml"
    secret.write_text("<html><body><p>A secret outside the book.</p></body></html>")
    # Only the first chapter is in the book; the others point out of it.
    data = epub([FIRST], hrefs=["Text/one.xhtml", "../../secret.xhtml", f"file://{secret}", "/etc/hostname"])
    reading = read_epub(data, "lamp")
    assert "secret" not in reading.text.lower()
    assert reading.text.startswith("The first night")


def test_a_chapter_in_another_encoding_is_decoded_right():
    chapter = ('<?xml version="1.0" encoding="windows-1252"?><html xmlns="http://www.w3.org/1999/xhtml"><body>'
               "<p>Le caf\u00e9 du phare co\u00fbtait trois sous.</p></body></html>").encode("cp1252")
    data = epub([FIRST], extra={"OEBPS/Text/chapter0.xhtml": chapter})
    assert "Le caf\u00e9 du phare co\u00fbtait trois sous." in read_epub(data, "lamp").text


def test_a_book_without_a_package_file_is_skipped_with_a_reason(tmp_path):
    from packaged_documents import zip_bytes

    path = tmp_path / "bare.epub"
    path.write_bytes(zip_bytes({"mimetype": "application/epub+zip", "chapter.xhtml": "<p>Text</p>"}))
    with pytest.raises(UnsupportedDocument, match=r"^not a readable EPUB book \(no package file\)$"):
        load_document(SourceFile(path, path.name, str(tmp_path)))


def test_a_damaged_chapter_is_a_reason_not_a_crash(tmp_path):
    from packaged_documents import stored

    damaged = bytearray(stored(epub([FIRST])))
    damaged[damaged.index(b"The keeper lit")] = ord("X")  # the chapter's bytes no longer match its CRC
    path = tmp_path / "damaged.epub"
    path.write_bytes(bytes(damaged))
    with pytest.raises(UnsupportedDocument, match=r"^not a readable EPUB book \(a damaged part: BadZipFile\)$"):
        load_document(SourceFile(path, path.name, str(tmp_path)))
