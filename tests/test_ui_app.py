"""The chat page's handlers, called directly against a real index and the real model."""

from __future__ import annotations

import html
import shutil

import httpx
import pytest
from click.testing import CliRunner
from ui_support import HOSTILE_SENTENCE, HOSTILE_TITLE, free_port, visible

from qa import Retriever
from qa.cli import cli
from ui.app import (
    EXAMPLES,
    add_documents,
    ask,
    clear,
    document_response,
    exposure_warning,
    respond,
    sources_for,
    start,
)
from ui.render import NOT_FOUND

pytest_plugins = ["ui_fixtures"]

PELICAN_FACT = "Each pelican eats about four pounds of fish a day."
NATO = "What is NATO's position on cluster munitions?"
# The only tags an answer message may contain: anything else came from a document.
OUR_TAGS = {"p", "blockquote", "span", "strong", "em", "br"}


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
    assert 'href="documents/pelicans.md"' in html.unescape(sources)
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


def test_selecting_a_message_shows_that_answer_s_sources(ui_retriever):
    _, turns, latest = converse(ui_retriever, NATO, "How much fish does a pelican eat?")
    assert sources_for(turns, 3) == latest
    assert sources_for(turns, 0) == sources_for(turns, 1)
    assert "For: " + NATO in shown(sources_for(turns, 1))
    assert "appear here" in sources_for(turns, 4)


def test_clear_empties_the_conversation():
    box, history, turns, sources = clear()
    assert (box, history, turns) == ("", [], []) and "appear here" in sources


def test_empty_question_is_a_user_error(ui_retriever):
    import gradio as gr

    with pytest.raises(gr.Error):
        respond(ui_retriever, "   ", [], [])


def test_api_answer_is_the_qa_ask_json(ui_retriever):
    assert ask(ui_retriever, NATO) == ui_retriever.ask(NATO).to_json()
    follow_up = ask(ui_retriever, "What about Russia?", [NATO])
    assert follow_up == ui_retriever.ask("What about Russia? position cluster munitions").to_json()
    assert set(follow_up) == {"question", "answered", "quotes", "passages"}


def test_upload_adds_documents_and_reports_what_was_skipped(tmp_path, ui_index, embedder):
    shutil.copytree(ui_index, tmp_path / "index")
    docs = tmp_path / "docs"
    shutil.copytree(ui_index.parent / "docs", docs)
    retriever = Retriever.load(tmp_path / "index", embedder=embedder)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "otters.txt").write_text("Otter notes\n\nSea otters hold hands while they sleep.\n")
    (uploads / "tool.exe").write_bytes(b"MZ")
    report, documents, box = add_documents(
        retriever, docs, embedder, [str(uploads / "otters.txt"), str(uploads / "tool.exe")])
    assert box is None
    assert "Indexed: otters.txt" in shown(report) and "tool.exe: unsupported file type" in shown(report)
    assert "Otter notes — otters.txt (1 passage)" in shown(documents)
    assert (docs / "otters.txt").exists() and not (docs / "tool.exe").exists()
    assert retriever.ask("What do sea otters do while they sleep?").quotes[0].source == "otters.txt"


def test_original_files_are_served_only_for_indexed_documents(ui_retriever, ui_index):
    response = document_response(ui_retriever, "sneaky.txt")
    assert response.status_code == 200 and response.media_type == "text/plain; charset=utf-8"
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert response.headers["x-content-type-options"] == "nosniff"
    pdf = document_response(ui_retriever, "lighthouse.pdf")
    assert pdf.media_type == "application/pdf" and "content-security-policy" not in pdf.headers
    (ui_index.parent / "docs" / "unindexed.txt").write_text("private")
    for source in ("unindexed.txt", "../index/manifest.json", "/etc/passwd", ""):
        assert document_response(ui_retriever, source).status_code == 404


def test_page_serves_and_guards_files_behind_the_login(ui_retriever, embedder):
    demo = start(ui_retriever, embedder=embedder, port=free_port(), auth=("ann", "pw"))
    try:
        with httpx.Client(base_url=demo.local_url) as client:
            assert client.get("/documents/pelicans.md").status_code == 401
            assert client.post("/login", data={"username": "ann", "password": "pw"}).status_code == 200
            page = client.get("/")
            assert page.status_code == 200 and "qa: ask your documents" in page.text
            original = client.get("/documents/pelicans.md")
            assert original.status_code == 200 and original.text.startswith("Pelican field notes")
            assert EXAMPLES[0] in client.get("/config").text
    finally:
        demo.close()


@pytest.mark.parametrize("host, share, auth, warned", [
    ("127.0.0.1", False, None, False), ("localhost", False, None, False),
    ("0.0.0.0", False, None, True), ("127.0.0.1", True, None, True), ("0.0.0.0", True, ("a", "b"), False),
])
def test_exposure_warning(host, share, auth, warned):
    warning = exposure_warning(host, share, auth)
    assert (warning is not None) == warned
    assert warning is None or "--auth user:password" in warning


def test_chat_command_checks_the_login_form():
    result = CliRunner().invoke(cli, ["chat", "--auth", "nopassword"])
    assert result.exit_code == 2 and "use the form user:password" in result.output
    assert "--docs-dir" in CliRunner().invoke(cli, ["chat", "--help"]).output
