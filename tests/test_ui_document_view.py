"""/documents/<source>: the indexed text at the passage with its quotes marked, escaped and
script-free; PDFs as their file; nothing that is not indexed."""

from __future__ import annotations

import re

import pytest
from ui_support import HOSTILE_SENTENCE, PELICAN_NOTES, visible, write_corpus

from ui.document_view import document_response, parse_span, render_view
from ui.render import QUOTE_ANCHOR

pytest_plugins = ["ui_fixtures"]
FACT = "Each pelican eats about four pounds of fish a day."


def body(response) -> str:
    return response.body.decode("utf-8")


def test_text_opens_at_the_passage_with_the_quote_marked(ui_retriever):
    text = ui_retriever.document_text("pelicans.md")
    start = text.index(FACT)
    passage = f"{text.index('The harbour')}-{len(text.rstrip())}"
    response = document_response(ui_retriever, "pelicans.md", passage=passage, quotes=[f"{start}-{start + len(FACT)}"])
    assert response.status_code == 200 and response.media_type == "text/html"
    assert response.headers["content-security-policy"].startswith("sandbox")
    page = body(response)
    assert visible(page).marked == [FACT]
    assert f'<mark id="{QUOTE_ANCHOR}">{FACT}</mark>' in page
    assert re.search(r'<span class="passage">The harbour pelicans nest', page)
    assert PELICAN_NOTES.strip() in "".join(visible(page).text)  # the whole text is there, in order


def test_hostile_text_and_html_pages_are_shown_as_escaped_text(ui_retriever):
    text = ui_retriever.document_text("sneaky.txt")
    start = text.index(HOSTILE_SENTENCE)
    page = body(document_response(ui_retriever, "sneaky.txt", passage=f"0-{len(text)}",
                                  quotes=[f"{start}-{start + len(HOSTILE_SENTENCE)}"]))
    assert visible(page).marked == [HOSTILE_SENTENCE]
    assert set(visible(page).tags) <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "p", "a",
                                       "main", "span", "mark"}
    heron = document_response(ui_retriever, "herons.html")
    assert heron.status_code == 200 and "The grey herons fish at the weir" in body(heron)
    assert "<script" not in body(heron) and "onerror" not in body(heron) and "pwned" not in body(heron)


@pytest.mark.parametrize("passage, quotes", [
    ("5-3", ["1-2"]), ("a-b", []), ("0-99999999", ["0-5"]), (None, ["0-5"]), ("-1-4", ["x"]),
])
def test_bad_spans_are_ignored(ui_retriever, passage, quotes):
    response = document_response(ui_retriever, "pelicans.md", passage=passage, quotes=quotes)
    assert response.status_code == 200 and "<mark" not in body(response)


def test_spans_are_read_strictly():
    assert parse_span("3-9", 10) == (3, 9)
    assert parse_span("9-3", 10) is None and parse_span("3-11", 10) is None and parse_span("3-9 ", 10) is None
    assert "<mark" not in render_view("t", "s", "abcdef", (0, 3), [(4, 6)])  # a quote outside its passage


def test_pdfs_are_served_as_their_file_and_downloads_as_attachments(ui_retriever):
    pdf = document_response(ui_retriever, "lighthouse.pdf")
    assert pdf.media_type == "application/pdf" and "content-security-policy" not in pdf.headers
    download = document_response(ui_retriever, "herons.html", download=True)
    assert download.media_type == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["content-security-policy"].startswith("sandbox")


def test_only_indexed_documents_are_reachable(ui_retriever):
    for source in ("unindexed.txt", "../index/manifest.json", "/etc/passwd", ""):
        assert document_response(ui_retriever, source).status_code == 404
        assert document_response(ui_retriever, source, download=True).status_code == 404


def test_a_file_swapped_since_indexing_is_never_served(tmp_path, embedder):
    from qa import Retriever, build_index

    docs = write_corpus(tmp_path / "docs")
    build_index([docs], tmp_path / "index", embedder=embedder, progress=False)
    retriever = Retriever.load(tmp_path / "index", embedder=embedder)
    assert document_response(retriever, "pelicans.md", download=True).status_code == 200
    (tmp_path / "secret.txt").write_text("the secret")
    (docs / "pelicans.md").unlink()
    (docs / "pelicans.md").symlink_to(tmp_path / "secret.txt")
    download = document_response(retriever, "pelicans.md", download=True)
    assert download.status_code == 404 and b"secret" not in download.body
    view = body(document_response(retriever, "pelicans.md"))  # the text as indexed, never the file now there
    assert FACT in view and "the secret" not in view
