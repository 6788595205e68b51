"""Rendering of answers and sources: escaping of hostile text and <mark> placement by offsets."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st
from ui_support import visible

from qa import Answer, DocumentInfo, Hit, Quote
from ui.render import (
    MAX_TITLE,
    NOT_FOUND,
    cited_passages,
    copy_text,
    describe,
    document_url,
    escape_text,
    highlight,
    passage_url,
    render_answer,
    render_documents,
    render_sources,
    render_upload_report,
)

DOCUMENT = "Intro line.\n\nIt rained. It rained. The dam held on 3 May.\n\nCoda."
DAM = DOCUMENT.index("The dam"), DOCUMENT.index("\n\nCoda")  # the last sentence
HOSTILE = (
    '<script>pwned=1</script> <img src=x onerror="pwned=2"> [x](javascript:pwned=3) '
    "**bold** _em_ `code` {{7*7}} ${7*7} $$x$$ <!-- c --> &amp; https://example.com"
)


def span(text: str, start: int, end: int, *, source: str = "notes.txt", page: int | None = None,
         kind: type = Hit, title: str = "Notes") -> Hit | Quote:
    """A Hit or Quote for ``text[start:end]``, as the library would make it."""
    return kind(text[start:end], source, title, page, start, end, 0.5)


def test_hostile_text_is_only_text():
    out = escape_text(HOSTILE)
    assert visible(out).tags == []
    assert visible(out).text == [HOSTILE]
    for syntax in ("<", ">", "javascript:", "**", "{{", "${", "$$", "](", "`", "https:"):
        assert syntax not in out


@given(st.text())
def test_escaped_text_round_trips_and_hides_all_syntax(text):
    out = escape_text(text)
    assert html.unescape(out.replace("<br>", "\n")) == text.replace("\r", "")
    bare = re.sub(r"&#\d+;", "", out.replace("<br>", ""))
    assert not set(bare) & set("&<>\"'`*_[](){}$\\~|#!:=+-@")


def test_mark_placed_by_offsets_not_by_searching():
    # "It rained." occurs twice; the quote is the second one.
    passage = span(DOCUMENT, 13, DAM[1])
    second = DOCUMENT.index("It rained.", DOCUMENT.index("It rained.") + 1)
    quote = span(DOCUMENT, second, second + len("It rained."), kind=Quote)
    out = highlight(passage, [(1, quote)])
    assert out.startswith("It rained. <mark>It rained.</mark><sup")
    assert "".join(visible(out).text) == passage.text


@given(st.data())
def test_marks_cover_exactly_the_quoted_characters(data):
    text = data.draw(st.text(alphabet="ab <&\n*", min_size=1, max_size=60))
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    passage = span("x" * 7 + text, 7, 7 + len(text))
    bounds = data.draw(st.lists(st.tuples(st.integers(start, end), st.integers(start, end)), max_size=3))
    quotes = [span("x" * 7 + text, 7 + a, 7 + b, kind=Quote) for a, b in bounds if a < b]
    shown = visible(highlight(passage, list(enumerate(quotes, 1))))
    assert "".join(shown.text) == passage.text.replace("\r", "")
    covered = sorted({i for q in quotes for i in range(q.start - 7, q.end - 7)})
    assert "".join(shown.marked) == "".join(text[i] for i in covered).replace("\r", "")


def message_text(markup: str) -> str:
    """What the chat shows of a message on a wide screen (the collapsed sources and the copy
    text are not shown there)."""
    markup = re.sub(r'<details class="qa-message-sources">.*?</details>', "", markup, flags=re.DOTALL)
    return "".join(visible(re.sub(r'<span class="qa-copy-text">.*?</span>', "", markup)).text)


def test_answer_message_quotes_verbatim_with_numbered_citations():
    first = span(DOCUMENT, 24, 34, kind=Quote, page=3, source="report.pdf", title="Report")
    second = span(DOCUMENT, *DAM, kind=Quote)
    answer = Answer("q", True, [first, second], [span(DOCUMENT, 13, DAM[1])])
    out = render_answer(answer, turn=4)
    shown = message_text(out)
    assert "It rained. [1]" in shown and "The dam held on 3 May. [2]" in shown
    assert "[1] Report — report.pdf, p. 3" in shown
    assert "[2] Notes — notes.txt" in shown
    assert "Searched for" not in shown and NOT_FOUND not in shown
    assert re.findall(r'<a class="qa-ref" href="#qa-source-(\d+)-(\d+)"', out) == [("4", "1"), ("4", "2")]


def test_copy_text_is_each_quote_with_its_title_file_and_page():
    first = span(DOCUMENT, 24, 34, kind=Quote, page=3, source="report.pdf", title="Report")
    second = span(DOCUMENT, 13, 34, kind=Quote, source="notes.txt", title="notes.txt")
    answer = Answer("q", True, [first, second], [])
    assert copy_text(answer) == ("\u201cIt rained.\u201d \u2014 Report, report.pdf, p. 3\n\n"
                                 "\u201cIt rained. It rained.\u201d \u2014 notes.txt")
    hidden = re.search(r'<span class="qa-copy-text">(.*?)</span>', render_answer(answer), re.DOTALL)[1]
    assert html.unescape(hidden) == copy_text(answer)  # newlines stay newlines for textContent


def test_answer_message_carries_its_sources_for_narrow_screens():
    quote = span(DOCUMENT, *DAM, kind=Quote)
    out = render_answer(Answer("q", True, [quote], [span(DOCUMENT, 13, DAM[1])]), turn=2)
    details = re.search(r'<details class="qa-message-sources">(.*)</details>', out, re.DOTALL)[1]
    assert "Sources (1)" in details and visible(details).marked == ["The dam held on 3 May."]
    assert 'class="qa-source qa-holds-1 "' in details


def test_follow_up_message_says_what_was_searched():
    answer = Answer("q", True, [span(DOCUMENT, 24, 34, kind=Quote)], [])
    shown = "".join(visible(render_answer(answer, "What about <b>it</b>? dam")).text)
    assert "Searched for: What about <b>it</b>? dam" in shown


def test_not_found_message_never_presents_passages_as_answer():
    answer = Answer("q", False, [], [span(DOCUMENT, 0, 11)])
    out = render_answer(answer)
    assert NOT_FOUND in message_text(out) and "weak matches" in out
    assert "Intro line" not in message_text(out) and "blockquote" not in out and "qa-copy" not in out
    assert "Weak match, not an answer" in out  # in the collapsed sources only


def test_sources_mark_quotes_inside_their_passage_with_link_to_the_page():
    passage = span(DOCUMENT, 13, DAM[1], source="dir/a b#1.pdf", page=2)
    quote = span(DOCUMENT, *DAM, kind=Quote, source="dir/a b#1.pdf", page=2)
    out = render_sources(Answer("When did the dam hold?", True, [quote], [passage]), turn=3)
    assert visible(out).marked == ["The dam held on 3 May."]
    assert html.unescape(re.search(r'href="([^"]+)"', out)[1]) == "documents/dir/a%20b%231.pdf#page=2"
    assert "For: When did the dam hold?" in "".join(visible(out).text)
    assert out.startswith('<div class="qa-sources qa-turn-3">') and "qa-source qa-holds-1" in out


def test_text_sources_link_to_the_passage_with_its_quotes():
    passage = span(DOCUMENT, 13, DAM[1], source="a b.txt")
    quotes = [span(DOCUMENT, 24, 34, kind=Quote, source="a b.txt"), span(DOCUMENT, *DAM, kind=Quote, source="a b.txt")]
    assert passage_url(passage, quotes) == (
        f"documents/a%20b.txt?passage=13-{DAM[1]}&quote=24-34&quote={DAM[0]}-{DAM[1]}#qa-quote")


def test_weak_matches_are_labelled_and_unmarked():
    hits = [span(DOCUMENT, 0, 11), span(DOCUMENT, *DAM)]
    out = render_sources(Answer("q", False, [], hits))
    assert out.count("Weak match, not an answer") == 2
    assert visible(out).marked == []
    assert NOT_FOUND in out


def test_empty_sources_panel():
    assert "appear here" in render_sources(None)
    assert "Nothing in the index" in render_sources(Answer("q", False, [], []))


def test_quotes_grouped_by_the_best_hit_that_contains_them():
    best, other = span(DOCUMENT, 13, DAM[1]), span(DOCUMENT, 0, DAM[1])
    inside = span(DOCUMENT, 24, 34, kind=Quote)
    elsewhere = span(DOCUMENT, 24, 34, kind=Quote, source="other.txt")
    groups = cited_passages(Answer("q", True, [inside, elsewhere], [best, other]))
    assert [(p, [n for n, _ in marks]) for p, marks in groups] == [(best, [1]), (elsewhere, [2])]
    assert visible(highlight(elsewhere, groups[1][1])).marked == ["It rained."]


def test_document_url_quotes_the_source():
    assert document_url("a b/c?.txt") == "documents/a%20b/c%3F.txt"
    assert document_url("r.pdf", 4) == "documents/r.pdf#page=4"


def test_long_titles_are_shortened_but_kept_whole_on_hover():
    hit = Hit("t", "a.txt", "x" * 200 + "<b>", None, 0, 1, 0.1)
    out = describe(hit)
    assert len("".join(visible(out).text)) < MAX_TITLE + len(" — a.txt") + 1
    assert html.unescape(re.search(r'title="([^"]+)"', out)[1]) == "x" * 200 + "<b>"


def test_documents_list_escapes_titles():
    docs = [DocumentInfo("b.txt", HOSTILE[:40], "/d/b.txt", 3), DocumentInfo("a.md", "A", "/d/a.md", 1)]
    out = render_documents(docs)
    shown = "".join(visible(out).text)
    assert shown.startswith("2 documents indexed:") and shown.index("a.md") < shown.index("b.txt")
    assert visible(out).tags.count("script") == 0 and "(3 passages)" in shown
    assert "No documents" in render_documents([])


def test_upload_report_lists_every_file_with_what_became_of_it():
    out = render_upload_report([("a.txt", ""), ("c.txt", "saved as c (2).txt")],
                               [("<x>.exe", "unsupported file type"), ("b.pdf", "no text")])
    shown = "".join(visible(out).text)
    assert shown.startswith("Indexed:a.txtc.txt: saved as c (2).txt\nNot indexed:")
    assert "<x>.exe: unsupported file type" in shown and "b.pdf: no text" in shown
    assert render_upload_report([], []) == "<p>No files were uploaded.</p>"


def test_a_printed_page_label_and_a_section_show_in_the_citation():
    printed = Quote(DOCUMENT[24:34], "report.pdf", "Report", 12, 24, 34, 0.5, page_label="iv")
    section = Quote(DOCUMENT[13:23], "book.epub", "Book", 2, 13, 23, 0.5, page_label="Storms <at sea>")
    shown = message_text(render_answer(Answer("q", True, [printed, section], [])))
    assert "[1] Report — report.pdf, p. iv (PDF page 12)" in shown
    assert "[2] Book — book.epub, section 2: Storms <at sea>" in shown
