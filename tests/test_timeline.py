"""Dates in answers: every quote and passage carries its document's publication date; a question
about the current state is answered from the newest report, "as of" its date; reports of
different dates that disagree are shown in date order."""

from __future__ import annotations

import json
import os
import shutil

from click.testing import CliRunner
from conftest import NEWS

from qa import Retriever, build_index
from qa.answer.timeline import asks_for_latest
from qa.cli import cli

GAZETTE, TIMES = "reports/valley-gazette-flood.html", "reports/river-times-flood.html"


def test_quotes_and_passages_carry_their_documents_dates(news):
    answer = news.ask("How many residents were evacuated?")
    dates = {item.source: item.date for item in [*answer.quotes, *answer.hits]}
    assert dates[GAZETTE] == "2024-03-02" and dates[TIMES] == "2024-03-06"


def test_a_file_date_is_never_taken_for_a_publication_date(tmp_path, embedder):
    docs = tmp_path / "docs"
    shutil.copytree(NEWS / "wire", docs)
    for path in docs.iterdir():
        os.utime(path, (1_700_000_000, 1_700_000_000))  # 2023-11-14: the files have a date, the text none
    build_index([docs], tmp_path / "index", embedder=embedder, progress=False)
    answer = Retriever.load(tmp_path / "index", embedder=embedder).ask("When was the bridge built?")
    dated = {item.source: item.date for item in [*answer.quotes, *answer.hits]}
    assert dated.get("alderbrook-bridge.txt", None) is None and dated.get("alderbrook-bridge.md", None) is None
    assert "2023-11-14" not in json.dumps(answer.to_json())


def test_questions_about_the_current_state_are_recognised():
    for question in ("How many people are still missing?", "What is the latest figure?",
                     "How many have been evacuated so far?", "Who is currently in charge?", "Is the bridge open now?"):
        assert asks_for_latest(question), question
    for question in ("How many residents were evacuated?", "When was the bridge built?", "Who knows the answer?"):
        assert not asks_for_latest(question), question


def test_the_latest_report_answers_a_question_about_now(news):
    answer = news.ask("How many residents have been evacuated so far?")
    assert answer.answered
    assert answer.quotes[0].source == TIMES and "3,400" in answer.quotes[0].text
    assert answer.as_of == "2024-03-06"
    assert answer.date_order == "newest first"
    assert [q.date for q in answer.quotes] == sorted((q.date for q in answer.quotes), reverse=True)
    assert answer.hits[0].holds(answer.quotes[0])


def test_disagreeing_reports_are_shown_oldest_first_each_with_its_date(news):
    answer = news.ask("How many residents were evacuated?")
    assert answer.date_order == "oldest first" and answer.as_of is None
    figures = [(q.date, "1,200" in q.text, "3,400" in q.text) for q in answer.quotes]
    assert figures[:2] == [("2024-03-02", True, False), ("2024-03-06", False, True)]


def test_an_answer_from_one_date_keeps_its_order(news):
    answer = news.ask("Who is the council leader?")
    assert answer.quotes[0].source == GAZETTE and "Tomas Brandt" in answer.quotes[0].text
    assert answer.date_order is None and answer.as_of is None


def test_one_dated_report_answers_as_of_its_date_and_undated_ones_say_no_date(retriever):
    answer = retriever.ask("How many residents are still evacuated from the villages?")
    assert answer.quotes[0].source == "volcano.html" and answer.quotes[0].date == "2024-03-14"
    assert answer.as_of == "2024-03-14" and answer.date_order is None
    undated = retriever.ask("Is the Kestrel Lighthouse still automated?")
    assert undated.quotes[0].source == "lighthouse.pdf"
    assert undated.as_of is None and undated.date_order is None


def test_the_cli_prints_dates_as_of_and_date_order(news_index):
    def ask(*args):
        result = CliRunner().invoke(cli, ["ask", "--index-dir", str(news_index), *args])
        assert result.exit_code == 0, result.output
        return result.output

    latest = ask("How many residents have been evacuated so far?")
    assert latest.startswith("As of 2024-03-06. The documents differ over time; their quotes in date order, newest first:")
    assert "(reports/river-times-flood.html, 2024-03-06, chars" in latest
    history = ask("How many residents were evacuated?")
    assert history.index("2024-03-02, chars") < history.index("2024-03-06, chars")
    data = json.loads(ask("--json", "How many residents have been evacuated so far?"))
    assert list(data) == ["question", "answered", "quotes", "passages", "as_of", "date_order"]
    assert data["as_of"] == "2024-03-06" and data["quotes"][0]["date"] == "2024-03-06"
