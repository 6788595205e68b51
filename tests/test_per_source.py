"""Across sources: the best quote of each of up to N documents, copies of one story counted once."""

from __future__ import annotations

from click.testing import CliRunner

from qa.cli import cli

GAZETTE, TIMES = "reports/valley-gazette-flood.html", "reports/river-times-flood.html"
WIRE = {"wire/alderbrook-bridge.html", "wire/alderbrook-bridge.md", "wire/alderbrook-bridge.txt"}


def test_each_source_gives_its_own_best_quote(news):
    answer = news.ask("What do the sources say about the evacuation of residents?", per_source=4)
    assert answer.answered
    assert {q.source for q in answer.quotes} == {GAZETTE, TIMES}  # the bridge story does not answer
    figures = {q.source: q.text for q in answer.quotes}
    assert "1,200" in figures[GAZETTE] and "3,400" in figures[TIMES]
    # Most relevant first, though the figures differ by date.
    alone = {source: news.ask(answer.question, per_source=1, source=[source]).confidence for source in figures}
    assert [q.source for q in answer.quotes] == sorted(alone, key=alone.get, reverse=True)
    assert answer.date_order is None and answer.each_source
    assert answer.time_note == "Each source: the best quote of each of 2 documents, most relevant first:"
    assert [hit.source for hit in answer.hits] == [q.source for q in answer.quotes]
    assert all(hit.holds(quote) for hit, quote in zip(answer.hits, answer.quotes))


def test_copies_of_one_story_are_one_source(news):
    answer = news.ask("What do the sources say about the old mill bridge?", per_source=5)
    from_wire = [q for q in answer.quotes if q.source in WIRE]
    assert len(from_wire) == 1
    assert {from_wire[0].source, *from_wire[0].also_in} == WIRE


def test_at_most_n_sources_and_one_answer_mode_is_unchanged(news):
    one = news.ask("What do the sources say about the evacuation of residents?", per_source=1)
    assert len(one.quotes) == 1 and one.date_order is None
    assert one.time_note == "Each source: one document answers; its best quote:"
    assert news.ask("How many residents were evacuated?", per_source=None) == news.ask("How many residents were evacuated?")


def test_a_question_no_source_answers_is_not_found(news):
    answer = news.ask("What is the boiling point of mercury?", per_source=3)
    assert not answer.answered and answer.quotes == [] and answer.hits


def test_the_cli_quotes_each_source(news_index):
    result = CliRunner().invoke(cli, ["ask", "--index-dir", str(news_index), "--sources", "3",
                                      "What do the sources say about the evacuation of residents?"])
    assert result.exit_code == 0
    assert "[1]" in result.output and "[2]" in result.output and "[3]" not in result.output
    assert GAZETTE in result.output and TIMES in result.output
