"""PDFs read as a person reads them (the files are made by tests/make_test_pdfs.py)."""

from pathlib import Path

from qa.read.formats import read_pdf
from qa.text.sentences import split_sentences

DATA = Path(__file__).parent / "data" / "reading"


def read(name: str):
    return read_pdf((DATA / name).read_bytes(), Path(name).stem)


def test_two_columns_read_in_order_and_hyphenated_words_are_whole():
    reading = read("coastal-two-column.pdf")
    spans = [reading.text[s.start : s.end] for s in split_sentences(reading.text)]
    assert ("The brass fittings were polished weekly, and the clockwork was maintained by the keeper himself, "
            "who oiled its gears with a feather.") in spans
    # The left column's last paragraph comes before the right column's first.
    assert reading.text.index("at the foot of the tower") < reading.text.index("Supplies came by boat")
    assert ("Each evening a keeper climbed the tower stairs, trimmed the wick and wound the clockwork that "
            "turned the lens.") in spans


def test_running_heads_and_page_numbers_are_dropped():
    reading = read("coastal-two-column.pdf")
    assert "Coastal Notes" not in reading.text
    assert reading.text.count("Lighthouses of the North Sea") == 1  # the title on page 1, not the running head
    assert [span.page for span in reading.pages] == [1, 2]
    for span in reading.pages:
        page_text = reading.text[span.start : span.end]
        assert not page_text.rstrip().endswith(str(span.page))


def test_title_author_and_date_come_from_the_document_info():
    reading = read("coastal-two-column.pdf")
    assert reading.title == "Lighthouses of the North Sea"
    assert reading.metadata["author"] == "Mara Lindqvist"
    assert len(reading.metadata["date"]) == 10


def test_contents_and_index_pages_are_left_out_and_page_labels_kept():
    reading = read("keepers-handbook.pdf")
    assert ". . ." not in reading.text
    assert "Clockwork, winding of" not in reading.text and "Fresnel lens" not in reading.text
    assert [(span.page, span.label) for span in reading.pages] == [(1, "i"), (3, "1"), (4, "2")]
    second = reading.pages[2]
    assert "Paraffin lamps replaced oil" in reading.text[second.start : second.end]


def test_pages_without_labels_have_none():
    assert {span.label for span in read("coastal-two-column.pdf").pages} == {None}
