"""Documents read in sections (Word, OpenDocument, EPUB): a chapter or top-level section is the
"page" a citation names, and notes (footnotes, comments) come after the body, apart from it.

Each section is a page span whose ``label`` is the section's heading, so a citation reads
"section 2: Methods"; a heading is also a block of its own in the text, as in every format.
A document with one section and no notes has no pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from qa.read.formats.reading import BLOCK_BREAK, Reading, clean_title, join_blocks
from qa.results import PageSpan


@dataclass
class Section:
    """A chapter or top-level section: its heading ("" for text before the first) and its blocks."""

    heading: str
    blocks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Block:
    """A block of a document and its heading level (1 for the top; 0 for a paragraph, list item or table row)."""

    text: str
    level: int = 0


def by_headings(blocks: Iterable[Block]) -> list[Section]:
    """The blocks in sections, one at each heading of the highest level the document uses."""
    blocks = [block for block in blocks if block.text.strip()]
    top = min((block.level for block in blocks if block.level), default=0)
    sections = [Section("")]
    for block in blocks:
        if top and block.level == top:
            sections.append(Section(clean_title(block.text)))
        sections[-1].blocks.append(block.text)
    return [section for section in sections if section.blocks]


def first_heading(blocks: Iterable[Block]) -> str:
    """The text of the first heading among ``blocks``, or ""."""
    return next((clean_title(block.text) for block in blocks if block.level and block.text.strip()), "")


def sectioned_reading(sections: list[Section], notes: list[Section], title: str, metadata: dict[str, str]
                      ) -> Reading:
    """A Reading of the body's sections, then each non-empty notes section, one page span each;
    ``metadata`` without its empty values."""
    metadata = {key: value for key, value in metadata.items() if value}
    body = [(section.heading, text) for section in sections if (text := join_blocks(section.blocks))]
    apart = [(section.heading, text) for section in notes if (text := join_blocks(section.blocks))]
    parts = body + apart
    if len(parts) <= 1 and not apart:
        return Reading(BLOCK_BREAK.join(text for _, text in parts), title, metadata=metadata)
    spans: list[PageSpan] = []
    offset = 0
    for number, (heading, text) in enumerate(parts, start=1):
        spans.append(PageSpan(number, offset, offset + len(text), heading or None))
        offset += len(text) + len(BLOCK_BREAK)
    return Reading(BLOCK_BREAK.join(text for _, text in parts), title, tuple(spans), metadata)
