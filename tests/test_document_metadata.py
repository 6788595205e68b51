"""Each document's title, date, author, url and page label travel with every Hit and Quote."""

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from qa import Retriever, build_index

READING = Path(__file__).parent / "data" / "reading"


@pytest.fixture(scope="module")
def reading_retriever(tmp_path_factory, embedder) -> Retriever:
    index = tmp_path_factory.mktemp("reading-index")
    build_index([READING], index, embedder=embedder, progress=False)
    return Retriever.load(index, embedder=embedder)


def test_html_quotes_carry_title_author_date_and_url(reading_retriever):
    answer = reading_retriever.ask("How much stored honey does a colony need to last a northern winter?")
    quote = answer.quotes[0]
    assert quote.source == "hive-journal.html" and "30 kilograms" in quote.text
    assert (quote.title, quote.author, quote.date, quote.url) == (
        "Keeping Bees in Cold Climates", "Ada Example", "2023-04-05", "https://hive.example.org/cold-climates")
    hit = answer.passage_of(quote)
    assert (hit.author, hit.date, hit.url, hit.page_label) == (quote.author, quote.date, quote.url, None)


def test_pdf_quotes_carry_the_printed_page_label(reading_retriever):
    quote = reading_retriever.ask("How often did the keeper wind the clockwork at night?").quotes[0]
    assert quote.source == "keepers-handbook.pdf" and "every four hours" in quote.text
    assert (quote.page, quote.page_label) == (3, "1")


def test_text_quotes_carry_the_byline_and_never_quote_it(reading_retriever):
    answer = reading_retriever.ask("Who wrote about the crane collapse in Hamburg?")
    for quote in answer.quotes:
        assert "By Tomas Reyes" not in quote.text
    quote = reading_retriever.ask("How fast were the wind gusts when the crane collapsed?").quotes[0]
    assert quote.author == "Tomas Reyes" and quote.title == "Harbour crane collapses in overnight storm"


@pytest.mark.parametrize("question", ["What protects a wintering colony from damp?",
                                      "Where do scientists count birds?", "When was the crane built?"])
def test_quotes_stay_verbatim_and_json_has_the_new_fields(reading_retriever, question):
    answer = reading_retriever.ask(question)
    for item in [*answer.quotes, *answer.hits]:
        assert item.text == reading_retriever.document_text(item.source)[item.start : item.end]
    shown = json.loads(json.dumps(answer.to_json()))
    for item in shown["quotes"] + shown["passages"]:
        assert list(item)[:7] == ["text", "source", "title", "page", "start", "end", "score"]
        assert {"date", "author", "url", "page_label"} <= set(item)
    assert shown["passages"] == [asdict(hit) for hit in answer.hits]
