"""The chat page with dated articles: dates, "as of", copies named once, the date range and
document filter, and the "each source" answer mode (handlers called directly)."""

from __future__ import annotations

import gradio as gr
from ui_support import visible

from qa import DocumentInfo
from qa.search.filters import document_filter
from ui.chat import ANSWER_MODES, AskOptions, ask, respond_with_options
from ui.documents import filter_choices

GAZETTE, TIMES = "reports/valley-gazette-flood.html", "reports/river-times-flood.html"


def shown(markup: str) -> str:
    return "".join(visible(markup).text)


def answer_with(retriever, question, since="", until="", documents=(), mode=ANSWER_MODES[0]):
    _, history, turns, sources, *_ = respond_with_options(retriever, question, [], [], since, until, list(documents),
                                                          mode)
    return shown(history[-1]["content"]), shown(sources), turns[-1].answer


def test_quotes_show_their_date_and_as_of_for_a_question_about_now(news):
    message, sources, answer = answer_with(news, "How many residents have been evacuated so far?")
    assert message.startswith("As of 2024-03-06. The documents differ over time; their quotes in date order, newest first:")
    assert "Evacuations widen as flood defences strain — reports/river-times-flood.html, 2024-03-06" in message
    assert "reports/river-times-flood.html, 2024-03-06" in sources


def test_a_story_in_three_files_is_quoted_once_with_also_in(news):
    message, sources, answer = answer_with(news, "When was the bridge built?")
    assert sum("The bridge was built in 1812" in quote.text for quote in answer.quotes) == 1
    # Shown as the quote, in the text "Copy quotes" copies and in its passage under Sources (phones).
    assert message.count("The bridge was built in 1812") == 3
    assert "(3 documents)" in message and "also in: wire/alderbrook-bridge." in message
    assert "(3 documents)" in sources
    assert [item for item in answer.quotes if item.also_in]


def test_the_date_range_and_document_filter_apply_before_ranking(news):
    _, _, early = answer_with(news, "How many residents were evacuated?", until="2024-03-03")
    assert {q.source for q in early.quotes} == {GAZETTE}
    _, _, chosen = answer_with(news, "How many residents were evacuated?", documents=[TIMES])
    assert {q.source for q in chosen.quotes} == {TIMES}


def test_each_source_mode_quotes_each_document(news):
    _, _, answer = answer_with(news, "What do the sources say about the evacuation of residents?",
                               mode=ANSWER_MODES[1])
    assert {q.source for q in answer.quotes} == {GAZETTE, TIMES}


def test_a_bad_date_is_shown_at_its_field_and_the_conversation_stays(news):
    question = "How many residents were evacuated?"
    box, history, turns, sources, question_note, filter_note, since, until, source, panel = respond_with_options(
        news, question, [{"role": "user", "content": "earlier"}], [], "last week", "", [], ANSWER_MODES[0])
    assert (box, history, turns, sources) == (question, gr.skip(), gr.skip(), gr.skip())
    assert shown(filter_note) == "since must be a date such as 2023-07-01 (or 2023-07, or 2023), not 'last week'."
    assert question_note == "" and panel["open"] is True
    assert (since["elem_classes"], until["elem_classes"], source["elem_classes"]) == (["qa-invalid"], [], [])
    answered = respond_with_options(news, question, [], [], "2024-03", "", [], ANSWER_MODES[0])
    assert answered[1][-1]["role"] == "assistant" and answered[4:6] == ("", "")
    assert answered[6]["elem_classes"] == [] and answered[9] == gr.skip()


def test_a_refused_question_keeps_the_conversation_and_says_why_under_the_box(news):
    _, history, _, _, question_note, filter_note, *_ = respond_with_options(news, "\u200b?", [], [], "", "", [],
                                                                           ANSWER_MODES[0])
    assert history == gr.skip() and filter_note == ""
    assert shown(question_note) == "The question has no words: ask something about your documents in words."


def test_document_ids_are_matched_literally_not_as_globs():
    wanted = document_filter(source=AskOptions(documents=("notes [draft]*.txt",)).arguments()["source"])
    assert wanted.matches("notes [draft]*.txt", None)
    assert not wanted.matches("notes d.txt", None) and not wanted.matches("notes [draft] v2.txt", None)
    assert AskOptions().arguments() == {"since": None, "until": None, "source": None, "per_source": None}


def test_the_document_filter_offers_the_indexed_documents_and_lets_go_of_removed_ones():
    documents = [DocumentInfo("a.txt", "A", "/a.txt", 1), DocumentInfo("b.txt", "b.txt", "/b.txt", 1)]
    update = filter_choices(documents, ["b.txt", "gone.txt"])
    assert update["choices"] == [("A (a.txt)", "a.txt"), ("b.txt", "b.txt")]
    assert update["value"] == ["b.txt"]


def test_the_ask_api_takes_the_same_filters(news):
    data = ask(news, "How many residents were evacuated?", source=[GAZETTE])
    assert {q["source"] for q in data["quotes"]} == {GAZETTE} and data["quotes"][0]["date"] == "2024-03-02"
