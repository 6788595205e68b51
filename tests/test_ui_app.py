"""The chat page's handlers, called directly against a real index and the real model."""

from __future__ import annotations

import html
import json
import re

import pytest
from click.testing import CliRunner
from ui_support import HOSTILE_SENTENCE, HOSTILE_TITLE, free_port, visible

from qa import MAX_QUESTION_CHARS, Retriever
from qa.cli import cli
from ui.app import exposure_warning, start
from ui.chat import ask, clear, respond, sources_for
from ui.render import NOT_FOUND

pytest_plugins = ["ui_fixtures"]

PELICAN_FACT = "Each pelican eats about four pounds of fish a day."
NATO = "What is NATO's position on cluster munitions?"
# The only tags an answer message may contain: anything else came from a document.
OUR_TAGS = {"p", "blockquote", "span", "strong", "em", "br", "a", "button", "details", "summary", "div", "mark", "sup"}


def shown(markup: str) -> str:
    return "".join(visible(markup).text)


def converse(retriever: Retriever, *questions: str):
    history, turns, sources = [], [], ""
    for question in questions:
        box, history, turns, sources = respond(retriever, question, history, turns)
        assert box == ""
    return history, turns, sources


def test_answer_is_the_quote_with_its_source_highlighted(ui_retriever):
    history, turns, sources = converse(ui_retriever, "How much fish does a pelican eat?")
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == "How much fish does a pelican eat?"
    assert f"{PELICAN_FACT} [1]" in shown(history[1]["content"])
    assert "[1] Pelican field notes — pelicans.md" in shown(history[1]["content"])
    assert visible(sources).marked == [PELICAN_FACT]
    start = ui_retriever.document_text("pelicans.md").index(PELICAN_FACT)
    quote = f"{start}-{start + len(PELICAN_FACT)}"
    assert re.search(rf'href="documents/pelicans.md\?passage=\d+-\d+&quote={quote}#qa-quote"', html.unescape(sources))
    assert turns[0].answer.answered and not turns[0].interpretation.is_followup


def test_pdf_answer_cites_and_links_its_page(ui_retriever):
    history, _, sources = converse(ui_retriever, "When was the lighthouse automated?")
    assert "lighthouse.pdf, p. 2" in shown(history[1]["content"])
    assert "automated in 1986" in "".join(visible(sources).marked)
    assert 'href="documents/lighthouse.pdf#page=2"' in html.unescape(sources)


def test_follow_up_is_searched_with_the_previous_topic(ui_retriever):
    history, turns, _ = converse(ui_retriever, NATO, "What about Russia?")
    message = shown(history[3]["content"])
    assert "Searched for: What about Russia? position cluster munitions" in message
    assert turns[1].answer.question == "What about Russia? position cluster munitions"
    assert any("Russia" in quote.text for quote in turns[1].answer.quotes)


def test_unanswerable_question_says_not_found_and_shows_weak_matches(ui_retriever):
    history, turns, sources = converse(ui_retriever, "What is the recipe for pancakes?")
    assert not turns[0].answer.answered
    assert shown(history[1]["content"]).startswith(NOT_FOUND)
    assert "blockquote" not in history[1]["content"]
    assert sources.count("Weak match, not an answer") == len(turns[0].answer.hits) > 0
    assert visible(sources).marked == []


def test_hostile_document_text_is_shown_literally(ui_retriever):
    history, turns, sources = converse(ui_retriever, "What is the vault combination?")
    message = history[1]["content"]
    assert set(visible(message).tags) <= OUR_TAGS
    assert HOSTILE_SENTENCE in shown(message) and HOSTILE_TITLE in shown(message)
    assert {"script", "img", "a"} & set(visible(sources).tags) == {"a"}  # only our "Open original" link
    assert visible(sources).marked == [HOSTILE_SENTENCE]
    assert not re.search(r'<a (?!class="qa-(ref|open)")', message + sources)  # no link but ours


def test_selecting_a_message_shows_that_answer_s_sources(ui_retriever):
    _, turns, latest = converse(ui_retriever, NATO, "How much fish does a pelican eat?")
    assert sources_for(turns, 3) == latest
    assert sources_for(turns, 0) == sources_for(turns, 1)
    assert "For: " + NATO in shown(sources_for(turns, 1))
    assert "appear here" in sources_for(turns, 4)


def test_clear_empties_the_conversation():
    box, history, turns, sources = clear()
    assert (box, history, turns) == ("", [], []) and "appear here" in sources


def test_an_empty_question_changes_nothing(ui_retriever):
    import gradio as gr

    history, turns, _ = converse(ui_retriever, NATO)
    assert respond(ui_retriever, "   ", history, turns) == (gr.skip(), gr.skip(), gr.skip(), gr.skip())


def test_a_follow_up_after_not_found_is_read_on_its_own(ui_retriever):
    history, turns, _ = converse(ui_retriever, "What is the recipe for pancakes?", "What about Russia?")
    assert not turns[0].answer.answered
    assert turns[1].answer.question == "What about Russia?" and not turns[1].interpretation.is_followup
    assert "Searched for" not in history[3]["content"]


def test_a_long_question_is_refused_with_a_short_message(ui_retriever):
    import gradio as gr

    _, turns, _ = converse(ui_retriever, NATO)
    long = "cluster munitions " * 5000
    with pytest.raises(gr.Error) as raised:
        respond(ui_retriever, long, [], turns)
    assert f"at most {MAX_QUESTION_CHARS:,}" in raised.value.message and len(raised.value.message) < 200
    # A question that fits is still answered when the previous topic would not fit beside it.
    fits = "What about " + "Russia " * ((MAX_QUESTION_CHARS - 20) // 7)
    _, _, turns, _ = respond(ui_retriever, fits.strip() + "?", [], turns)
    assert turns[-1].answer.question == fits.strip() + "?"


@pytest.mark.parametrize("history", [[1, 2], [None], "What is NATO?", {"q": 1}, ["x"] * 101])
def test_api_refuses_a_malformed_history_with_a_message(ui_retriever, history):
    from qa import InvalidInput

    with pytest.raises(InvalidInput, match="history"):
        ask(ui_retriever, "What about Russia?", history)


def test_api_answer_is_the_qa_ask_json(ui_retriever):
    assert ask(ui_retriever, NATO) == ui_retriever.ask(NATO).to_json()
    follow_up = ask(ui_retriever, "What about Russia?", [NATO])
    assert follow_up == ui_retriever.ask("What about Russia? position cluster munitions").to_json()
    assert set(follow_up) == {"question", "answered", "quotes", "passages", "as_of", "date_order"}


def test_http_api_fills_left_out_values_and_says_what_is_wrong_in_plain_text(ui_retriever, embedder):
    import httpx

    demo = start(ui_retriever, embedder=embedder, port=free_port())

    def call(*values) -> tuple[str, object]:
        event = client.post("/gradio_api/call/ask", json={"data": list(values)}).json()["event_id"]
        kind, data = re.fullmatch(r"event: (\w+)\ndata: (.*)", client.get(f"/gradio_api/call/ask/{event}").text.strip(),
                                  re.S).groups()
        return kind, json.loads(data)

    try:
        with httpx.Client(base_url=demo.local_url, timeout=120) as client:
            kind, data = call(NATO)
            assert kind == "complete" and data == [ui_retriever.ask(NATO).to_json()]
            kind, data = call(NATO, [], "2024-13-01")
            assert kind == "error"
            assert data["error"] == "since must be a date such as 2023-07-01 (or 2023-07, or 2023), not '2024-13-01'."
            kind, data = call()
            assert (kind, data["error"]) == ("error", "The question must be text, not NoneType.")
    finally:
        demo.close()


@pytest.mark.parametrize("host, share, auth, warned", [
    ("127.0.0.1", False, None, False), ("localhost", False, None, False),
    ("0.0.0.0", False, None, True), ("127.0.0.1", True, None, True), ("0.0.0.0", True, ("a", "b"), False),
])
def test_exposure_warning(host, share, auth, warned):
    warning = exposure_warning(host, share, auth)
    assert (warning is not None) == warned
    assert warning is None or ("can read your documents and upload new ones" in warning
                               and "$QA_AUTH=user:password or --auth-file FILE" in warning)


def test_chat_command_checks_the_login_form(tmp_path):
    result = CliRunner().invoke(cli, ["chat", "--auth", "nopassword"])
    assert result.exit_code == 2 and "use the form user:password" in result.output
    result = CliRunner().invoke(cli, ["chat"], env={"QA_AUTH": "nopassword"})  # read from the environment
    assert result.exit_code == 2 and "use the form user:password" in result.output
    (tmp_path / "login").write_text("no colon here\n")
    result = CliRunner().invoke(cli, ["chat", "--auth-file", str(tmp_path / "login")])
    assert result.exit_code == 2 and "use the form user:password" in result.output
    result = CliRunner().invoke(cli, ["chat", "--auth-file", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "can't read" in result.output
    (tmp_path / "login").write_text("ann:pw\n")
    result = CliRunner().invoke(cli, ["chat", "--auth", "a:b", "--auth-file", str(tmp_path / "login")])
    assert result.exit_code == 2 and "not both" in result.output
    assert "--docs-dir" in CliRunner().invoke(cli, ["chat", "--help"]).output


@pytest.mark.slow
def test_importing_the_page_leaves_hugging_face_online_mode_alone():
    import subprocess
    import sys

    code = "import os, ui.app; print(os.environ.get('HF_HUB_OFFLINE'))"
    env = {k: v for k, v in __import__("os").environ.items() if k != "HF_HUB_OFFLINE"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.stdout.strip() == "None", done.stderr[-2000:]
