"""Word (.docx): paragraphs, headings, list items and table rows in order, read with python-docx.

Headers and footers are left out (they repeat on every page); footnotes, endnotes and comments
come after the body, each kind a section of its own. Title, author and date are the file's own
properties. Nothing outside the file is followed: a linked (external) image or document is a
relationship python-docx records and never opens.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from qa.errors import UnsupportedDocument
from qa.read.dates import iso_date
from qa.read.formats.reading import Reading, clean_title, one_line, property_title, property_value
from qa.read.formats.sections import Block, Section, by_headings, first_heading, sectioned_reading
from qa.read.formats.zipped import ZIP_ERRORS, open_zip

_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.IGNORECASE)
_NOTES = (("footnotes", "footnote", "Footnotes"), ("endnotes", "endnote", "Endnotes"),
          ("comments", "comment", "Comments"))
"""(relationship type, element, section heading) of each kind of note a document keeps apart."""
_RUNS = ("w:r | w:hyperlink | w:ins/w:r | w:ins/w:hyperlink | w:sdt/w:sdtContent/w:r | w:fldSimple/w:r"
         " | w:smartTag/w:r")
"""The runs that hold a paragraph's visible text (deleted text is in w:del, never read)."""
_SEPARATORS = {"separator", "continuationSeparator", "continuationNotice"}
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read_docx(data: bytes, name: str) -> Reading:
    """A Word document: its blocks in sections at its top-level headings, notes apart, and properties."""
    import docx
    from lxml import etree

    open_zip(data, "Word document")
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document))
        notes = [Section(heading, list(_notes(document, kind, tag))) for kind, tag, heading in _NOTES]
        properties = document.core_properties
        title = property_title(properties.title) or _titled(document)
        metadata = {"author": property_value(properties.author), "date": iso_date(properties.created) or ""}
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, etree.LxmlError, *ZIP_ERRORS) as err:
        raise UnsupportedDocument(f"not a readable Word document ({type(err).__name__})") from err
    title = title or first_heading(blocks) or name
    return sectioned_reading(by_headings(blocks), notes, title, metadata)


def _blocks(document) -> Iterator[Block]:
    from docx.table import Table

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            yield from (Block(row) for row in _rows(item))
            continue
        text = _text(item)
        level = _level(item)
        if level:
            yield Block(clean_title(text), level)
        elif _is_list_item(item):
            yield Block(f"- {text}" if text else "")
        else:
            yield Block(text)


def _text(paragraph) -> str:
    """A paragraph's words on one line, with the runs python-docx's ``text`` leaves out: tracked
    insertions, inline content controls, simple fields and smart tags."""
    return one_line("".join(run.text for run in paragraph._p.xpath(_RUNS)))


def _titled(document) -> str:
    """The text of the first paragraph in Word's "Title" style, or ""."""
    return next((clean_title(p.text) for p in document.paragraphs if _style_name(p) == "title" and p.text.strip()), "")


def _rows(table) -> Iterator[str]:
    """A table's rows, cells joined by " | " (a merged cell once)."""
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(one_line(cell.text))
        if any(cells):
            yield " | ".join(cells)


def _style_name(paragraph) -> str:
    style = paragraph.style
    return (style.name or "").lower() if style is not None else ""


def _level(paragraph) -> int:
    """The paragraph's heading level (1 for "Heading 1"), from its style or outline level; 0 if none."""
    style = paragraph.style
    for _ in range(4):  # a style based on a heading style is a heading too
        if style is None:
            break
        if match := _HEADING_STYLE.fullmatch((style.name or "").strip()):
            return int(match.group(1))
        style = style.base_style
    outline = paragraph._p.find(f"{_W}pPr/{_W}outlineLvl")
    value = outline.get(f"{_W}val") if outline is not None else None
    return int(value) + 1 if value is not None and value.isdigit() and int(value) < 9 else 0


def _is_list_item(paragraph) -> bool:
    numbered = paragraph._p.find(f"{_W}pPr/{_W}numPr") is not None
    return numbered or _style_name(paragraph).startswith("list")


def _notes(document, kind: str, tag: str) -> Iterator[str]:
    """The text of each note of one kind (footnotes, endnotes, comments), one block each."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for relationship in document.part.rels.values():
        if relationship.is_external or not relationship.reltype.endswith(f"/{kind}"):
            continue
        root = etree.fromstring(relationship.target_part.blob, parser)
        for note in root.iter(f"{_W}{tag}"):
            if note.get(f"{_W}type") not in _SEPARATORS:
                yield one_line(" ".join(_paragraph_text(p) for p in note.iter(f"{_W}p")))


def _paragraph_text(paragraph) -> str:
    """The words of a <w:p> element: its text runs, a tab or a line break as a space."""
    return "".join((node.text or "") if node.tag == f"{_W}t" else " "
                   for node in paragraph.iter(f"{_W}t", f"{_W}tab", f"{_W}br"))
