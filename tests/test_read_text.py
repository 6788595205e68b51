"""Plain text and Markdown read as a person reads them: paragraphs whole, the headline a title."""

from pathlib import Path

import pytest

from qa.read.files import SourceFile, read_document
from qa.read.formats import read_markdown, read_text
from qa.text.sentences import split_sentences

DATA = Path(__file__).parent / "data"


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_hard_wrapped_lines_join_into_one_paragraph():
    reading = read_text((DATA / "tides.txt").read_bytes(), "tides")
    assert "on the side of the Earth that faces the Moon" in reading.text
    assert "\n" not in reading.text.split("\n\n")[1]


def test_a_file_with_one_paragraph_per_line_keeps_its_paragraphs():
    data = (b"The first paragraph is one long line that was never wrapped by anyone at all, and it goes on "
            b"for quite a while before it ends.\nThe second paragraph is another long line, just as unwrapped "
            b"and just as long as the first one was.\nA third, short one.\n")
    assert read_text(data, "lines").text.count("\n\n") == 2


def test_a_headline_is_the_title_and_a_sentence_of_its_own():
    reading = read_text((DATA / "reading" / "harbour-news.txt").read_bytes(), "harbour-news")
    assert reading.title == "Harbour crane collapses in overnight storm"
    assert sentences(reading.text)[0] == "Harbour crane collapses in overnight storm"


def test_byline_and_dateline_are_metadata_not_text():
    reading = read_text((DATA / "reading" / "harbour-news.txt").read_bytes(), "harbour-news")
    assert reading.metadata == {"author": "Tomas Reyes", "place": "Hamburg"}
    assert "By Tomas" not in reading.text and "(Reuters)" not in reading.text
    assert sentences(reading.text)[1].startswith("A container crane at the port of Hamburg collapsed during a storm")


def test_a_dateline_names_the_agency_when_no_byline_does():
    reading = read_text(b"Storm in the north\n\nOSLO (AP) - Snow closed the airport on Monday.\n", "storm")
    assert reading.metadata == {"author": "AP", "place": "Oslo"}
    assert reading.text.endswith("\n\nSnow closed the airport on Monday.")


def test_a_first_sentence_is_never_the_title():
    path = Path(__file__).parent.parent / "docs" / "nato-cluster-munitions.txt"
    document = read_document(SourceFile(path, path.name, str(path.parent)))
    assert document.title == "nato-cluster-munitions"


@pytest.mark.parametrize("line", ["By 2030 the plan will be finished", "By the way, the crane was old."])
def test_sentences_that_start_with_by_stay_text(line):
    reading = read_text(f"Crane news\n\n{line}\n".encode(), "crane")
    assert line in reading.text and "author" not in reading.metadata


def test_markdown_headings_lists_and_soft_breaks():
    reading = read_markdown((DATA / "honeybees.md").read_bytes(), "honeybees")
    assert reading.title == "Honeybee Colonies"
    blocks = reading.text.split("\n\n")
    assert blocks[:2] == ["Honeybee Colonies", "A honeybee colony has one queen, a few hundred drones and tens of "
                          "thousands of workers. The queen can lay up to 2,000 eggs a day during the spring build-up."]
    assert "Foraging" in blocks and "- Pollen is packed into baskets on the hind legs." in blocks


def test_markdown_front_matter_is_metadata_and_links_read_as_their_words():
    data = (b"---\ntitle: 'Winter hives'\ndate: 2024-01-05\nauthor: Ada Example\n---\n"
            b"Read the [guide](https://example.org/guide) and **feed** early.\n")
    reading = read_markdown(data, "winter")
    assert reading.title == "Winter hives"
    assert reading.metadata == {"date": "2024-01-05", "author": "Ada Example"}
    assert reading.text == "Read the guide and feed early."


def test_badges_in_a_markdown_heading_are_not_the_title():
    data = (b"# harbour-tides [![Build Status](https://ci.example.org/badge.svg)](https://ci.example.org) "
            b"[![codecov](https://codecov.example.org/badge.svg)](https://codecov.example.org)\n\n"
            b"harbour-tides predicts the tide at a harbour from its constituents.\n")
    reading = read_markdown(data, "README")
    assert reading.title == "harbour-tides"
    assert reading.text.split("\n\n")[0] == "harbour-tides"


def test_a_logo_alone_in_a_heading_names_the_document():
    assert read_markdown(b"# ![Harbour Tides](logo.png)\n\nA tide predictor.\n", "README").title == "Harbour Tides"


def test_a_first_line_with_a_web_address_is_no_title():
    reading = read_text(b"https://example.org/tides\n\nThe tide turns twice a day at most harbours.\n", "tides")
    assert reading.title == "tides"
