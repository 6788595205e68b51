"""Word files read as a person reads them: blocks in order, sections as pages, notes apart, properties."""

import pytest
from packaged_documents import keepers_docx

from qa import Retriever, build_index
from qa.errors import UnsupportedDocument
from qa.read.files import SourceFile
from qa.read.formats import read_docx
from qa.read.parse_process import load_document


def test_headings_paragraphs_list_items_and_table_rows_are_blocks_in_order():
    reading = read_docx(keepers_docx(), "keepers")
    assert reading.text.split("\n\n") == [
        "The Keeper's Year",
        "Winter duties",
        "In winter the keeper wound the clockwork every four hours through the night.",
        "- Trim the wick at dusk",
        "- Wash the salt from the lantern glass",
        "Summer duties",
        "Painting",
        "Every summer the tower was painted white with a red band at the gallery.",
        "Month | Oil burned",
        "June | 40 litres",
        "Ask the museum whether it was four or six hours.",
    ]


def test_each_top_level_section_is_a_page_labelled_with_its_heading_and_comments_are_apart():
    reading = read_docx(keepers_docx(), "keepers")
    pages = [(span.page, span.label, reading.text[span.start:span.end].split("\n\n")[0]) for span in reading.pages]
    assert pages == [(1, None, "The Keeper's Year"), (2, "Winter duties", "Winter duties"),
                     (3, "Summer duties", "Summer duties"),
                     (4, "Comments", "Ask the museum whether it was four or six hours.")]


def test_a_footnote_is_kept_apart_from_the_sentence_that_refers_to_it():
    reading = read_docx(keepers_docx(footnote="The clockwork ran for four hours on one winding."), "keepers")
    assert "every four hours through the night.\n\n" in reading.text
    footnotes = next(span for span in reading.pages if span.label == "Footnotes")
    assert reading.text[footnotes.start:footnotes.end] == "The clockwork ran for four hours on one winding."


def test_title_author_and_date_are_the_files_own_properties():
    reading = read_docx(keepers_docx(title="Lighthouse duties through the year"), "keepers")
    assert reading.title == "Lighthouse duties through the year"
    assert reading.metadata == {"author": "Ines Varga", "date": "2022-03-14"}


def test_without_a_title_property_the_title_style_paragraph_is_the_title():
    assert read_docx(keepers_docx(title=None), "keepers").title == "The Keeper's Year"


def test_a_broken_word_file_is_skipped_with_a_reason(tmp_path):
    data = keepers_docx()
    path = tmp_path / "broken.docx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnsupportedDocument, match=r"^not a readable Word document \(not a zip archive\)$"):
        load_document(SourceFile(path, path.name, str(tmp_path)))


def test_a_question_is_answered_from_a_word_file_and_cited_by_its_section(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "keepers.docx").write_bytes(keepers_docx())
    build_index([docs], tmp_path / "index", embedder=embedder, progress=False)
    quote = Retriever.load(tmp_path / "index", embedder=embedder).ask("What colour was the tower painted?").quotes[0]
    assert quote.text == "Every summer the tower was painted white with a red band at the gallery."
    assert (quote.source, quote.page, quote.page_label) == ("keepers.docx", 3, "Summer duties")
    assert quote.place == "section 3: Summer duties"


def test_an_external_relationship_is_never_opened(tmp_path):
    from packaged_documents import FOOTNOTES_TYPE, W, members_of, zip_bytes

    outside = tmp_path / "notes.xml"
    outside.write_text(f'<w:footnotes xmlns:w="{W}"><w:footnote w:id="1"><w:p><w:r><w:t>A secret kept outside '
                       "the file.</w:t></w:r></w:p></w:footnote></w:footnotes>")
    members = members_of(keepers_docx())
    rels = members["word/_rels/document.xml.rels"].decode()
    members["word/_rels/document.xml.rels"] = rels.replace("</Relationships>", (
        f'<Relationship Id="rIdOut" Type="{FOOTNOTES_TYPE}" Target="file://{outside}" TargetMode="External"/>'
        '<Relationship Id="rIdPic" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
        'Target="http://example.invalid/tracker.png" TargetMode="External"/></Relationships>')).encode()
    reading = read_docx(zip_bytes(members), "keepers")
    assert "secret" not in reading.text and "Footnotes" not in {span.label for span in reading.pages}
    assert "Every summer the tower was painted white" in reading.text


def test_tracked_insertions_are_read_and_deletions_are_not():
    from packaged_documents import members_of, zip_bytes

    members = members_of(keepers_docx())
    body = members["word/document.xml"].decode()
    change = ('<w:ins w:id="90" w:author="Bo Lind"><w:r><w:t xml:space="preserve"> and at dawn</w:t></w:r></w:ins>'
              '<w:del w:id="91" w:author="Bo Lind"><w:r><w:delText> by candlelight</w:delText></w:r></w:del>')
    end = body.index("</w:p>", body.index("every four hours through the night."))
    members["word/document.xml"] = (body[:end] + change + body[end:]).encode()
    text = read_docx(zip_bytes(members), "keepers").text
    assert "every four hours through the night. and at dawn\n\n" in text and "candlelight" not in text
