"""OpenDocument text (.odt): headings, paragraphs, list items and table rows in order, read with odfpy.

Footnotes, endnotes and comments (annotations) come after the body, each kind a section of its
own; a table of contents is left out. Title, author and date are the file's own properties.
odfpy parses with defusedxml, so an entity or a DTD in a part is refused, never fetched.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from xml.sax import SAXException

from qa.errors import UnsupportedDocument
from qa.read.dates import iso_date
from qa.read.formats.reading import Reading, clean_title, one_line, property_title, property_value
from qa.read.formats.sections import Block, Section, by_headings, first_heading, sectioned_reading
from qa.read.formats.zipped import ZIP_ERRORS, open_zip

_NOTE_SECTIONS = {"footnote": "Footnotes", "endnote": "Endnotes", "annotation": "Comments"}


class _Notes(dict):
    """The notes met while reading the body, by section heading."""

    def add(self, kind: str, text: str) -> None:
        if text := one_line(text):
            self.setdefault(_NOTE_SECTIONS[kind], []).append(text)


def read_odt(data: bytes, name: str) -> Reading:
    """An OpenDocument text: its blocks in sections at its top-level headings, notes apart, and properties."""
    from defusedxml import DefusedXmlException
    from odf.opendocument import load

    open_zip(data, "OpenDocument file")
    try:
        document = load(io.BytesIO(data))
        notes = _Notes()
        blocks = list(_blocks(document.text, notes))
        meta = _meta(document.meta)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, SAXException, DefusedXmlException,
            *ZIP_ERRORS) as err:
        raise UnsupportedDocument(f"not a readable OpenDocument file ({type(err).__name__})") from err
    title = property_title(meta.get("title")) or first_heading(blocks) or name
    metadata = {"author": property_value(meta.get("initial-creator") or meta.get("creator")),
                "date": iso_date(meta.get("creation-date") or meta.get("date")) or ""}
    sections = [Section(heading, notes[heading]) for heading in _NOTE_SECTIONS.values() if heading in notes]
    return sectioned_reading(by_headings(blocks), sections, title, metadata)


def _name(node) -> str:
    """The local name of an element ("p", "h", "table-row"), or "" for text."""
    return node.qname[1] if node.nodeType == node.ELEMENT_NODE else ""


def _attribute(node, name: str) -> str:
    return next((str(value) for (_, key), value in node.attributes.items() if key == name), "")


def _blocks(container, notes: _Notes, marker: str = "") -> Iterator[Block]:
    for node in container.childNodes:
        name = _name(node)
        if name == "h":
            level = _attribute(node, "outline-level")
            yield Block(clean_title(_text(node, notes)), int(level) if level.isdigit() and int(level) > 0 else 1)
        elif name == "p":
            yield Block(f"{marker}{_text(node, notes)}" if marker else _text(node, notes))
            marker = ""  # a second paragraph of one list item goes without the bullet
        elif name == "list":
            for item in node.childNodes:
                if _name(item) in ("list-item", "list-header"):
                    yield from _blocks(item, notes, "- ")
        elif name == "table":
            yield from (Block(row) for row in _rows(node, notes))
        elif name in ("section", "text", "list-item", "list-header"):
            yield from _blocks(node, notes, marker)


def _rows(table, notes: _Notes) -> Iterator[str]:
    for node in table.childNodes:
        name = _name(node)
        if name == "table-row":
            cells = [" ".join(_text(p, notes) for p in cell.childNodes if _name(p) in ("p", "h"))
                     for cell in node.childNodes if _name(cell) == "table-cell"]
            if any(cells):
                yield " | ".join(one_line(cell) for cell in cells)
        elif name in ("table-header-rows", "table-rows", "table-row-group"):
            yield from _rows(node, notes)


def _text(node, notes: _Notes) -> str:
    """The words of a paragraph or heading on one line; its notes and comments go to ``notes``."""
    parts: list[str] = []
    for child in node.childNodes:
        name = _name(child)
        if child.nodeType == child.TEXT_NODE:
            parts.append(child.data)
        elif name == "s":
            count = _attribute(child, "c")
            parts.append(" " * (int(count) if count.isdigit() else 1))
        elif name in ("tab", "line-break"):
            parts.append(" ")
        elif name == "note":
            kind = "endnote" if _attribute(child, "note-class") == "endnote" else "footnote"
            body = next((c for c in child.childNodes if _name(c) == "note-body"), None)
            if body is not None:
                notes.add(kind, " ".join(block.text for block in _blocks(body, notes)))
        elif name == "annotation":
            notes.add("annotation", " ".join(_text(p, notes) for p in child.childNodes if _name(p) == "p"))
        elif name not in ("annotation-end", "bookmark", "bookmark-start", "bookmark-end"):
            parts.append(_text(child, notes))
    return one_line("".join(parts))


def _meta(meta) -> dict[str, str]:
    """The document's properties by local name (title, creator, initial-creator, date, creation-date)."""
    return {_name(node): one_line(_text(node, _Notes())) for node in meta.childNodes if _name(node)}
