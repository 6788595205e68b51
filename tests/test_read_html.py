"""HTML pages: the whole article and nothing else, each paragraph on one line."""

from pathlib import Path

from qa.read.formats import read_html
from qa.text.sentences import split_sentences

PAGE = Path(__file__).parent / "data" / "reading" / "hive-journal.html"


def test_soft_wrapped_paragraphs_are_whole_and_the_nav_bar_is_gone():
    reading = read_html(PAGE.read_bytes(), "hive-journal")
    text = reading.text
    assert ("Honey bees survive the winter by forming a tight cluster inside the hive. The bees in the middle "
            "shiver their flight muscles to make heat, and the cluster keeps its core at about 35 degrees Celsius."
            ) in text.split("\n\n")
    # trafilatura keeps a paragraph's source line breaks when it holds a <br>: they are spaces too.
    assert ("A colony needs roughly 30 kilograms of stored honey to last a northern winter. Beekeepers who "
            "harvest too much feed sugar syrup in early autumn, before the nights turn cold. Fondant is given "
            "in late winter.") in text.split("\n\n")
    for junk in ("Sign in", "Shop", "Cookie settings", "Subscribe"):
        assert junk not in text
    spans = [text[s.start : s.end] for s in split_sentences(text)]
    assert ("A small upper entrance lets the moist air out, so that water does not condense on the crown board "
            "and drip onto the cluster.") in spans


def test_headings_list_items_and_table_rows_are_blocks_of_their_own():
    blocks = read_html(PAGE.read_bytes(), "hive-journal").text.split("\n\n")
    for block in ("Keeping Bees in Cold Climates", "Feeding", "- Check the stores in October.",
                  "Month | Honey eaten", "December | 3 kilograms", "Ventilation"):
        assert block in blocks


def test_title_is_the_page_title_without_the_site_name_and_metadata_is_kept():
    reading = read_html(PAGE.read_bytes(), "hive-journal")
    assert reading.title == "Keeping Bees in Cold Climates"
    assert reading.metadata["author"] == "Ada Example"
    assert reading.metadata["date"] == "2023-04-05"
    assert reading.metadata["url"] == "https://hive.example.org/cold-climates"


def test_a_section_heading_is_never_the_title():
    page = (b"<html><head><title>Sampling theory notes</title></head><body><div class='body'>"
            b"<h2 class='title'>Abstract<a class='headerlink' href='#abstract'>\xc2\xb6</a></h2>"
            + b"<p>The sampling theorem says a signal must be sampled at twice its highest frequency.</p>" * 3
            + b"</div></body></html>")
    assert read_html(page, "notes").title == "Sampling theory notes"


def test_a_page_too_deep_for_the_extractor_keeps_its_visible_text_without_source_line_breaks():
    page = ("<html><head><title>Owls</title></head><body>" + "<div>" * 5000
            + "<p>Owls hoot\nat night,\nmostly in winter.</p>" + "</div>" * 5000 + "</body></html>").encode()
    reading = read_html(page, "owls")
    assert reading.title == "Owls"
    assert "Owls hoot at night, mostly in winter." in reading.text
