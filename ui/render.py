"""Answers, sources and document lists as HTML for the chat page.

Documents are untrusted, so every piece of their text goes through :func:`escape_text`, which
turns HTML, Markdown and template syntax into character references: the text shows literally
whether the browser meets it as HTML (sources panel) or as Markdown (chat messages).
Quotes are highlighted by their character offsets inside the passage they came from, never by
searching for the quote's text.

The page's script (page.js) finds its way by class names only (Gradio keeps ``class``, ``id``,
``title`` and ``href`` in chat messages and drops ``data-*``): ``qa-ref`` is an answer's [n]
marker, ``qa-holds-N`` the source card holding quote N, ``qa-turn-T`` the sources panel of the
T-th answer, and ``qa-copy`` / ``qa-copy-text`` the copy button and the plain text it copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

if TYPE_CHECKING:
    from qa import Answer, DocumentInfo, Hit, Quote

DOCUMENT_ROUTE = "documents"
"""URL path (relative to the page) under which the app serves the documents."""
QUOTE_ANCHOR = "qa-quote"
"""Id of the first marked quote in a document view; "Open original" links jump to it."""

NOT_FOUND = "Not found in your documents."
MAX_TITLE = 80

# A superset of html.escape's characters plus everything Markdown, LaTeX, autolinks or a
# template engine could read as syntax. Numeric references are literal text to all of them.
_LITERAL = str.maketrans(
    {c: f"&#{ord(c)};" for c in "&<>\"'`*_[](){}$\\~|#!:=+-@"} | {"\n": "<br>", "\r": ""}
)


def escape_text(text: str) -> str:
    """``text`` as HTML that displays it verbatim and can't be read as markup by anything."""
    return text.translate(_LITERAL)


def document_url(source: str, page: int | None = None) -> str:
    """Link to document ``source`` (its original file for a PDF, at ``page``)."""
    url = f"{DOCUMENT_ROUTE}/{url_quote(source, safe='/')}"
    return f"{url}#page={page}" if page else url


def is_pdf(source: str) -> bool:
    return source.lower().endswith(".pdf")


def passage_url(passage: Hit | Quote, quotes: Sequence[Quote] = ()) -> str:
    """Link that opens ``passage`` in its document: a PDF at its page; text and HTML as the
    indexed text, scrolled to the first of ``quotes``, which are marked (or to the passage)."""
    if is_pdf(passage.source):
        return document_url(passage.source, passage.page)
    query = [("passage", f"{passage.start}-{passage.end}"), *(("quote", f"{q.start}-{q.end}") for q in quotes)]
    return f"{document_url(passage.source)}?{urlencode(query)}#{QUOTE_ANCHOR}"


def describe(item: Hit | Quote | DocumentInfo, place: str = "") -> str:
    """'Title — file, date, p. N' as escaped HTML (``place``: "p. N", see Quote.place); a long title
    is shortened, and shown whole on hover."""
    parts = [item.source] if item.title != item.source else []
    if getattr(item, "date", None):
        parts.append(item.date)
    if place:
        parts.append(place)
    tail = f" — {escape_text(', '.join(parts))}" if parts else ""
    title = item.title if len(item.title) <= MAX_TITLE else item.title[: MAX_TITLE - 1].rstrip() + "…"
    return f'<strong class="qa-title" title="{escape_text(item.title)}">{escape_text(title)}</strong>{tail}'


def also_in(item: Hit | Quote) -> str:
    """"also in: b.html, c.pdf (3 documents)", each copy a link to open it, for text that copies of
    one story share; or ""."""
    if not item.also_in:
        return ""
    links = ", ".join(f'<a href="{escape_text(document_url(copy))}" target="_blank" rel="noopener noreferrer">'
                      f"{escape_text(copy)}</a>" for copy in item.also_in)
    return f'<span class="qa-also-in">also in: {links} ({len(item.also_in) + 1} documents)</span>'


def highlight(passage: Hit | Quote, marks: Sequence[tuple[int, Quote]]) -> str:
    """The passage's text, escaped, with each numbered quote inside it wrapped in ``<mark>``.

    Quote offsets are document offsets; ``quote.start - passage.start`` places them in the
    passage. Overlapping quotes are clipped so that every character is marked at most once.
    """
    out, cursor = [], 0
    for number, quote in sorted(marks, key=lambda m: m[1].start):
        start = max(quote.start - passage.start, cursor)
        end = min(quote.end - passage.start, len(passage.text))
        if start >= end:
            continue
        out.append(escape_text(passage.text[cursor:start]))
        out.append(f"<mark>{escape_text(passage.text[start:end])}</mark><sup class=\"qa-ref\">[{number}]</sup>")
        cursor = end
    out.append(escape_text(passage.text[cursor:]))
    return "".join(out)


def render_answer(answer: Answer, searched_for: str | None = None, turn: int = 0) -> str:
    """The chat message of the ``turn``-th answer: each quote verbatim with its [n] marker and
    document line, a button that copies them as plain text, and (shown on narrow screens only)
    the sources, collapsed.

    ``searched_for`` is shown when a follow-up question was searched with added context.
    """
    parts = []
    if searched_for:
        parts.append(
            f'<p class="qa-searched">Searched for: <em>{escape_text(searched_for)}</em> '
            "(not what you meant? ask the whole question)</p>"
        )
    if answer.answered and answer.time_note:
        parts.append(f'<p class="qa-as-of"><strong>{escape_text(answer.time_note)}</strong></p>')
    if not answer.answered:
        parts.append(f'<p class="qa-not-found"><strong>{NOT_FOUND}</strong></p>')
        if answer.hits:
            parts.append("<p>The closest passages are under Sources, marked as weak matches.</p>")
    for number, quote in enumerate(answer.quotes, 1):
        marker = f'<a class="qa-ref" href="#qa-source-{turn}-{number}" title="Show source {number}">[{number}]</a>'
        if quote.context:  # whose list or words it is, from before the quote
            parts.append(f'<p class="qa-context">{escape_text(quote.context.text)} …</p>')
        parts.append(f'<blockquote class="qa-quote">{escape_text(quote.text)} {marker}</blockquote>')
        copies = f"<br>{also_in(quote)}" if quote.also_in else ""
        parts.append(f'<p class="qa-cite">[{number}] {describe(quote, quote.place)}{copies}</p>')
    if answer.answered:
        parts.append('<p class="qa-actions"><button class="qa-copy" type="button">Copy quotes</button></p>'
                     f'<span class="qa-copy-text">{escape_text(copy_text(answer)).replace("<br>", "&#10;")}</span>')
    if answer.hits or answer.quotes:
        count = len(cited_passages(answer)) if answer.answered else len(answer.hits)
        parts.append(f'<details class="qa-message-sources"><summary>Sources ({count})</summary>'
                     f"{_source_cards(answer)}</details>")
    return "\n".join(parts)


def copy_text(answer: Answer) -> str:
    """The answer as plain text for the clipboard: "quote" — title, file, p. N, one per paragraph."""
    lines = []
    for quote in answer.quotes:
        where = [quote.title] if quote.title != quote.source else []
        where += [quote.source] + ([quote.date] if quote.date else []) + ([quote.place] if quote.place else [])
        lines.append(f"\u201c{quote.text}\u201d \u2014 {', '.join(where)}")
    return "\n\n".join(lines)


def cited_passages(answer: Answer) -> list[tuple[Hit | Quote, list[tuple[int, Quote]]]]:
    """Each passage holding one or more of the answer's quotes, with the numbered quotes in it.

    A quote goes to the best hit of the same document whose span contains it; a quote that no
    hit contains stands as its own passage.
    """
    groups: dict[int, tuple[Hit | Quote, list[tuple[int, Quote]]]] = {}
    for number, quote in enumerate(answer.quotes, 1):
        passage: Hit | Quote = answer.passage_of(quote) or quote
        groups.setdefault(id(passage), (passage, []))[1].append((number, quote))
    return list(groups.values())


def _source_card(passage: Hit | Quote, body: str, badge: str, marks: Sequence[tuple[int, Quote]] = (),
                 extra_class: str = "") -> str:
    link = (
        f'<a class="qa-open" href="{escape_text(passage_url(passage, [q for _, q in marks]))}" '
        'target="_blank" rel="noopener noreferrer">Open original</a>'
    )
    holds = "".join(f" qa-holds-{number}" for number, _ in marks)
    copies = f"<br>{also_in(passage)}" if passage.also_in else ""
    return (
        f'<div class="qa-source{holds} {extra_class}">'
        f'<div class="qa-source-head">{badge}{describe(passage, passage.place)} · {link}{copies}</div>'
        f'<div class="qa-passage">{body}</div></div>'
    )


def render_sources(answer: Answer | None, turn: int = 0) -> str:
    """The sources panel for the ``turn``-th answer: cited passages with quotes marked, or weak
    matches when not found."""
    if answer is None:
        return '<p class="qa-empty">Sources of the selected answer appear here.</p>'
    heading = f'<p class="qa-sources-for">For: <em>{escape_text(answer.question)}</em></p>\n'
    return f'<div class="qa-sources qa-turn-{turn}">{heading}{_source_cards(answer)}</div>'


def _source_cards(answer: Answer) -> str:
    if answer.answered:
        cards = []
        for passage, marks in cited_passages(answer):
            refs = "".join(f'<span class="qa-ref">[{n}]</span> ' for n, _ in marks)
            cards.append(_source_card(passage, highlight(passage, marks), refs, marks))
        return "\n".join(cards)
    if not answer.hits:
        return f"<p>{NOT_FOUND} Nothing in the index came close.</p>"
    badge = '<span class="qa-weak-badge">Weak match, not an answer</span> '
    cards = [_source_card(hit, escape_text(hit.text), badge, extra_class="qa-weak") for hit in answer.hits]
    return f'<p class="qa-weak-note">{NOT_FOUND} Closest passages:</p>\n' + "\n".join(cards)


def render_documents(documents: Sequence[DocumentInfo]) -> str:
    """The list of indexed documents with their passage counts."""
    if not documents:
        return "<p>No documents indexed yet.</p>"
    rows = "".join(
        f'<li>{describe(d)} <span class="qa-count">({_count(d.passages, "passage")})</span></li>'
        for d in sorted(documents, key=lambda d: d.source)
    )
    return f'<p>{_count(len(documents), "document")} indexed:</p><ul class="qa-docs">{rows}</ul>'


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def render_upload_report(indexed: Sequence[tuple[str, str]], left_out: Sequence[tuple[str, str]]) -> str:
    """What an upload did: each file indexed, with a note such as the name it was saved under,
    and each file left out with its reason."""
    lines = []
    if indexed:
        items = "".join(f"<li>{escape_text(name)}{': ' + escape_text(note) if note else ''}</li>"
                        for name, note in indexed)
        lines.append(f'<p>Indexed:</p><ul class="qa-indexed">{items}</ul>')
    if left_out:
        items = "".join(f"<li>{escape_text(name)}: {escape_text(reason)}</li>" for name, reason in left_out)
        lines.append(f'<p>Not indexed:</p><ul class="qa-skipped">{items}</ul>')
    return "\n".join(lines) or "<p>No files were uploaded.</p>"


def render_status(message: str) -> str:
    """One line of news about documents being indexed or removed."""
    return f'<p class="qa-status">{escape_text(message)}</p>'
