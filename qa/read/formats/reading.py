"""What every format reader returns, and the reading rules all formats share.

A document's text is a sequence of blocks (paragraphs, headings, list items, table rows)
separated by blank lines, with no line break inside a block: a line break inside a paragraph is
read as a space. Its lead is read as a person reads a news story: a headline is the title and a
block of its own, and a byline ("By Jane Smith") or dateline ("LONDON (Reuters) -") is metadata
(``author``, ``place``), not text to quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from qa.results import PageSpan

BLOCK_BREAK = "\n\n"
HEADLINE_MAX_WORDS = 20
"""A first line of at most this many words, without closing punctuation, reads as a headline."""
LEAD_BLOCKS = 4
"""Bylines and datelines are looked for in this many blocks at the start."""

SENTENCE_END = frozenset(".!?:\"\u201d\u2019)")
"""Characters a line that ends a sentence ends with."""
_CLOSING = ".!?,;:\u2026"
_QUOTES_AND_BRACKETS = "\"'\u2018\u2019\u201c\u201d\u00bb\u00ab)]"
_LIST_ITEM = re.compile(r"(?:[-*+\u2022\u25aa\u25e6\u2023\u2013\u2014]|\d{1,3}[.)]|[a-zA-Z][.)])\s")
_NAME = r"[A-Z][\w.'\u2019-]*"
_BYLINE = re.compile(
    rf"(?:By|BY|by)\s+(?P<author>{_NAME}(?:\s+(?:{_NAME}|van|von|de|da|del|der|la|le|bin|al|and|&)){{0,7}}"
    rf"(?:\s*,\s*{_NAME}(?:\s+{_NAME}){{0,3}})?)\s*$"
)
_DATELINE = re.compile(
    r"(?P<place>[A-Z][A-Z.'\u2019-]+(?:\s+[A-Z][A-Z.'\u2019-]+){0,3})"
    r"(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?"
    r"\s*(?:\((?P<agency>[A-Z][\w .&-]{0,30})\))?\s*[-\u2013\u2014]{1,2}\s+(?=\S)"
)
_ANCHOR_MARKS = re.compile(r"[\s\u00b6\u00a7#\U0001f517]+$")
_PLACEHOLDERS = {"untitled", "unknown", "anonymous", "none", "title", "author"}
_FILE_TITLE = re.compile(r"^microsoft \w+ - |\.(?:docx?|pdf|tex|dvi|rtf|odt|epub|indd|qxd)$", re.IGNORECASE)
_LINK = re.compile(r"https?://|www\.\w", re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    """What a format reader made of a file: its text, title, PDF pages and metadata."""

    text: str
    title: str
    pages: tuple[PageSpan, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    respaced_pages: int = 0
    """PDF pages read again with a second PDF library because the first ran their words together."""


def normalise_newlines(text: str) -> str:
    """``text`` with Windows and old Mac line ends as "\\n"."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def one_line(text: str) -> str:
    """``text`` with every run of whitespace, line breaks included, as one space."""
    return " ".join(text.split())


def join_blocks(blocks: Iterable[str]) -> str:
    """The blocks as text: stripped, empty ones dropped, separated by blank lines."""
    return BLOCK_BREAK.join(block for block in (b.strip() for b in blocks) if block)


def clean_title(title: str | None) -> str:
    """A title on one line, without a heading's anchor mark ("Abstract\u00b6" -> "Abstract")."""
    return _ANCHOR_MARKS.sub("", one_line(title or ""))


def property_value(value: object) -> str:
    """A document property (author, title) on one line; "" for a placeholder such as "Untitled"."""
    text = one_line(str(value or ""))
    return "" if text.lower() in _PLACEHOLDERS else text


def property_title(value: object) -> str:
    """A document's title property, or "" when it is a placeholder, the name of a file or holds a
    web address (a footer or a letterhead: "X Desktop Group (http://www.freedesktop.org)")."""
    title = property_value(value)
    return "" if _FILE_TITLE.search(title) or _LINK.search(title) else clean_title(title)


def is_title(line: str) -> bool:
    """Whether ``line`` may be a document's title: it reads as a headline and holds no web address."""
    return is_headline(line) and not _LINK.search(line)


def is_list_item(line: str) -> bool:
    """Whether ``line`` starts with a bullet or an item number."""
    return bool(_LIST_ITEM.match(line.lstrip()))


def is_headline(block: str) -> bool:
    """Whether ``block`` reads as a headline: one short line with letters and no closing punctuation."""
    words = block.split()
    if not words or len(words) > HEADLINE_MAX_WORDS or "\n" in block.strip() or is_list_item(block):
        return False
    bare = block.strip().rstrip(_QUOTES_AND_BRACKETS)
    return bool(bare) and bare[-1] not in _CLOSING and any(c.isalpha() for c in bare) and not _BYLINE.match(block)


def read_lead(blocks: list[str], *, headline: bool) -> tuple[list[str], str, dict[str, str]]:
    """(blocks without byline and dateline, the headline or "", metadata) of a document's start.

    With ``headline``, a first block that reads as a headline is the title (it stays a block
    of its own). A byline among the first blocks becomes ``author``; a dateline that opens the
    first paragraph becomes ``place`` (and ``author`` if the byline did not say, from the agency).
    """
    blocks = list(blocks)
    title = blocks[0].strip() if headline and blocks and is_title(blocks[0]) else ""
    metadata: dict[str, str] = {}
    for i in range(min(LEAD_BLOCKS, len(blocks))):
        byline = _BYLINE.match(blocks[i].strip())
        if byline:
            metadata["author"] = byline.group("author")
            del blocks[i]
            break
    for i in range(1 if title else 0, min(LEAD_BLOCKS, len(blocks))):
        dateline = _DATELINE.match(blocks[i])
        if dateline and (len(dateline.group("place")) >= 3 or dateline.group("agency")):
            metadata["place"] = dateline.group("place").title()
            if dateline.group("agency"):
                metadata.setdefault("author", dateline.group("agency").strip())
            blocks[i] = blocks[i][dateline.end():]
            break
        if not is_headline(blocks[i]):
            break  # a dateline opens the first paragraph, or there is none
    return blocks, title, metadata
