"""HTML: the article, all of it and nothing else, with its title, author, date and URL.

trafilatura reads the page in recall mode (the most text, as a tree of paragraphs, headings,
lists and tables); a block of it is kept when trafilatura's precision mode keeps it too, or when
both its default mode and readability (a second opinion from another extractor) do. On the
Zyte article-extraction benchmark this keeps the precision mode's F1 and more of the article
than it (see benchmarks/README.md). A page too deeply nested for the extractors keeps its visible text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from qa.errors import UnsupportedDocument
from qa.read.formats.reading import Reading, clean_title, join_blocks, one_line, read_lead
from qa.read.formats.text import decode_text

_TOKEN = re.compile(r"\w+")
_TITLE_PARTS = re.compile(r"\s+(?:[|\u2013\u2014\u2022\u00b7:]|-|::)\s+")
_ITEM_MARK = re.compile(r"^(?:-|\d+\.)\s")
_METADATA = ("author", "date", "url", "sitename", "description")


def read_html(data: bytes, name: str) -> Reading:
    """An HTML page: the article's blocks, its title (og:title, <title>, headline) and metadata."""
    html = decode_text(data)
    try:
        return _article(html, name)
    except (RecursionError, ValueError):
        # lxml gives up on pathological pages (thousands of nested tags); keep their visible text.
        return _visible_text(html, name)


@dataclass(frozen=True)
class Votes:
    """Which extractors' article holds a block of trafilatura's recall-mode article."""

    precision: bool
    default: bool
    readability: bool


def keeps(votes: Votes) -> bool:
    """Whether qa reads a block as article text (the rule benchmarks/bench_extraction.py chooses)."""
    return votes.precision or (votes.default and votes.readability)


def article_votes(html: str) -> tuple[object, list[str], list[Votes]]:
    """(trafilatura's recall-mode extraction, its blocks, each block's votes); ValueError if no article."""
    import trafilatura

    extracted = trafilatura.bare_extraction(html, favor_recall=True, with_metadata=True, include_comments=False)
    if extracted is None or extracted.body is None or not (extracted.text or "").strip():
        raise ValueError("no article found")
    blocks = [block for block in _blocks(extracted.body) if block]
    precision = tokens(trafilatura.extract(html, favor_precision=True, include_comments=False))
    default = tokens(trafilatura.extract(html, include_comments=False))
    second = tokens(_readability_text(html))
    return extracted, blocks, [Votes(within(b, precision), within(b, default), within(b, second)) for b in blocks]


def _article(html: str, name: str) -> Reading:
    extracted, blocks, votes = article_votes(html)
    kept = [block for block, vote in zip(blocks, votes, strict=True) if keeps(vote)]
    blocks, _, lead = read_lead(kept or blocks, headline=False)
    metadata = {key: one_line(str(value)) for key in _METADATA if (value := getattr(extracted, key, None))}
    title = _page_title(html) or clean_title(extracted.title) or name
    return Reading(join_blocks(blocks), title, metadata={**lead, **metadata})


def tokens(text: str | None) -> str:
    """The words of ``text``, lower-cased, one space apart (for :func:`within`)."""
    return " ".join(_TOKEN.findall((text or "").lower()))


def within(block: str, text: str) -> bool:
    """Whether the words of ``block`` appear, in order and together, in ``text`` (as :func:`tokens` made it)."""
    words = tokens(_ITEM_MARK.sub("", block, count=1))  # the list mark is ours, not the page's
    return not words or f" {words} " in f" {text} "


def _readability_text(html: str) -> str:
    import lxml.html
    from readability import Document

    try:
        return lxml.html.fromstring(Document(html).summary()).text_content()
    except Exception:  # a second opinion only: a page it can't read just gets no vote from it
        return ""


def _blocks(body) -> Iterator[str]:
    """The blocks of trafilatura's article tree: headings, paragraphs, list items, table rows."""
    yield one_line(body.text or "")
    for element in body:
        yield from _element_blocks(element)
        yield one_line(element.tail or "")  # text loose between elements is a paragraph too


def _element_blocks(element) -> Iterator[str]:
    tag = element.tag
    if tag == "list":
        for number, item in enumerate(element.iterfind("item"), start=1):
            marker = f"{number}." if element.get("rend") == "ol" else "-"
            own = one_line(_text(item, skip="list"))
            if own:
                yield f"{marker} {own}"
            for nested in item.iterfind("list"):
                yield from _element_blocks(nested)
    elif tag == "table":
        for row in element.iter("row"):
            cells = [one_line(_text(cell)) for cell in row.iterfind("cell")]
            if any(cells):
                yield " | ".join(cells)
    elif tag == "code":
        yield from (line for line in "".join(element.itertext()).split("\n") if line.strip())
    elif tag in ("quote", "div") and len(element) and all(child.tag in ("p", "list", "table") for child in element):
        yield from _blocks(element)
    else:
        yield clean_title(_text(element)) if tag == "head" else one_line(_text(element))


def _text(element, skip: str = "") -> str:
    """The text of ``element``: a line break (<lb/>) is a space; children tagged ``skip`` are left out."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            parts.append(" ")
        elif child.tag != skip:
            parts.append(_text(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def _page_title(html: str) -> str:
    """og:title, else the <title> without its site name, else ""."""
    import lxml.html

    tree = lxml.html.fromstring(html)
    for value in tree.xpath('//meta[@property="og:title" or @name="og:title" or @name="twitter:title"]/@content'):
        if title := clean_title(value):
            return title
    titles = tree.xpath("//title")
    parts = _TITLE_PARTS.split(clean_title(titles[0].text_content())) if titles else []
    # "Headline | Site": the site's name is the shorter part.
    return max(parts, key=len) if parts else ""


class _VisibleText(HTMLParser):
    """The text a browser would show, one block per block element; no tree, so any depth parses."""

    HIDDEN = {"script", "style", "noscript", "template", "svg", "head", "nav", "iframe", "object"}
    BLOCKS = {"p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section",
              "article", "blockquote", "pre", "header", "footer", "ul", "ol", "table", "hr", "dd", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._tag(tag, True)

    def handle_endtag(self, tag: str) -> None:
        self._tag(tag, False)

    def _tag(self, tag: str, opens: bool) -> None:
        if tag == "title":
            self._in_title = opens
        elif tag in self.HIDDEN:
            self._hidden = self._hidden + 1 if opens else max(0, self._hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._hidden:
            self.parts.append(" ".join(data.split("\n")))


def _visible_text(html: str, name: str) -> Reading:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    blocks, _, lead = read_lead([one_line(part) for part in "".join(parser.parts).split("\n")], headline=False)
    text = join_blocks(blocks)
    if not text:
        raise UnsupportedDocument("no text found in HTML")
    return Reading(text, clean_title("".join(parser.title)) or name, metadata=lead)


