"""EPUB books: each chapter (a document of the book's spine) is a section, read from its XHTML.

The book's package file (OPF) gives the reading order, the title, author and date. Within a
chapter, headings, paragraphs, list items and table rows are blocks; footnotes and endnotes
(``epub:type`` or ARIA role) are kept apart, after the chapters, and so are chapters made of
notes alone; the navigation document (the table of contents) is left out. Only documents inside
the book are read: an address that leaves it, or one on the web, is never opened.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

from qa.errors import UnsupportedDocument
from qa.read.dates import iso_date
from qa.read.formats.reading import Reading, clean_title, one_line, property_title, property_value
from qa.read.formats.sections import Block, Section, first_heading, sectioned_reading
from qa.read.formats.text import decode_text
from qa.read.formats.zipped import open_zip, read_member

KIND = "EPUB book"
_DOCUMENT_TYPES = {"application/xhtml+xml", "text/html"}
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_HIDDEN = {"script", "style", "head", "nav", "template", "svg", "math"}
_PARAGRAPHS = {"p", "pre", "dt", "dd", "figcaption", "caption", "address", "summary"}
_CONTAINERS = {"body", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "figure",
               "details", "ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "li", "tr", "td", "th", "hgroup"}
_BLOCKS = set(_HEADINGS) | _PARAGRAPHS | _CONTAINERS | {"hr"}
_NOTES = re.compile(r"\b(?:doc-)?(?:foot|end|rear)?notes?\b")
_NOTE_REFERENCE = re.compile(r"\b(?:doc-)?(?:noteref|backlink)\b")
_TOC = re.compile(r"\b(?:doc-)?(?:toc|landmarks|page-list)\b")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"


def read_epub(data: bytes, name: str) -> Reading:
    """An EPUB book: chapters in reading order as sections, notes apart, title, author and date."""
    from lxml import etree

    archive = open_zip(data, KIND)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        container = etree.fromstring(read_member(archive, "META-INF/container.xml", KIND) or b"", parser)
        root = container.find(f".//{_CONTAINER}rootfile")
        opf_path = root.get("full-path", "") if root is not None else ""
        package = etree.fromstring(read_member(archive, opf_path, KIND) or b"", parser)
    except (etree.LxmlError, ValueError) as err:
        raise UnsupportedDocument(f"not a readable {KIND} (no package file)") from err
    chapters: list[Section] = []
    notes = Section("Notes")
    for path in _spine(package, posixpath.dirname(opf_path)):
        content = read_member(archive, path, KIND)
        if content is None:
            continue
        body = _body(content)
        if body is None or _TOC.search(_kind(body)):
            continue
        blocks = [block for block in _blocks(body, notes.blocks) if block.text]
        if blocks:
            chapters.append(Section(first_heading(blocks), [block.text for block in blocks]))
    if not chapters and not notes.blocks:
        raise UnsupportedDocument("no text found in the EPUB book")
    metadata = package.find(f"{_OPF}metadata")
    properties = {tag: property_value(metadata.findtext(f"{_DC}{tag}")) if metadata is not None else ""
                  for tag in ("title", "creator", "date")}
    title = property_title(properties["title"]) or next((c.heading for c in chapters if c.heading), "") or name
    details = {"author": properties["creator"], "date": iso_date(properties["date"]) or ""}
    return sectioned_reading(chapters, [notes], title, details)


def _spine(package, folder: str) -> Iterator[str]:
    """The archive paths of the book's (X)HTML documents in reading order, navigation documents left out."""
    items = {item.get("id"): item for item in package.iter(f"{_OPF}item")}
    for reference in package.iter(f"{_OPF}itemref"):
        item = items.get(reference.get("idref"))
        if (item is None or "nav" in (item.get("properties") or "").split()
                or item.get("media-type") not in _DOCUMENT_TYPES):
            continue
        href = item.get("href") or ""
        address = urlsplit(href)
        if address.scheme or address.netloc:
            continue  # a remote resource: never fetched
        path = posixpath.normpath(posixpath.join(folder, unquote(address.path)))
        if not path.startswith(("../", "/")) and path != "..":
            yield path


def _body(content: bytes):
    """The <body> of a chapter's XHTML, parsed as HTML (which reads named entities such as &nbsp;)."""
    import lxml.html
    from lxml import etree

    text = _XML_DECLARATION.sub("", decode_text(content))
    try:
        return lxml.html.document_fromstring(text).find("body") if text.strip() else None
    except (etree.LxmlError, ValueError):
        return None


def _kind(element) -> str:
    """What the element is said to be: its ``epub:type`` and ``role`` attributes."""
    return f"{element.get('epub:type') or ''} {element.get('role') or ''}".lower()


def _blocks(element, notes: list[str]) -> Iterator[Block]:
    """The blocks of an element of a chapter; the text of notes in it goes to ``notes``."""
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag and tag not in _HIDDEN:
            if _NOTES.search(_kind(child)) and not _NOTE_REFERENCE.search(_kind(child)):
                notes.extend(block.text for block in _blocks_of(child, notes))
            else:
                yield from _blocks_of(child, notes)
        yield Block(one_line(child.tail or ""))


def _blocks_of(element, notes: list[str]) -> Iterator[Block]:
    tag = element.tag
    if tag in _HEADINGS:
        yield Block(clean_title(_words(element)), _HEADINGS[tag])
    elif tag == "li":
        yield Block(f"- {_words(element, skip={'ul', 'ol'})}")
        for nested in element:
            if nested.tag in ("ul", "ol"):
                yield from _blocks(nested, notes)
    elif tag == "tr":
        cells = [_words(cell) for cell in element if cell.tag in ("td", "th")]
        yield Block(" | ".join(cells) if any(cells) else "")
    elif tag in _PARAGRAPHS or not any(child.tag in _BLOCKS for child in element.iterdescendants()):
        yield Block(_words(element))
    else:
        yield Block(one_line(element.text or ""))  # text loose before the first child is a paragraph
        yield from _blocks(element, notes)


def _words(element, skip: frozenset[str] | set[str] = frozenset()) -> str:
    """The element's text on one line, without note references, hidden elements or ``skip`` children."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and not (child.tag in _HIDDEN or child.tag in skip
                                               or _NOTE_REFERENCE.search(_kind(child))):
            parts.append(" " if child.tag == "br" else _words(child, skip))
        parts.append(child.tail or "")
    return one_line("".join(parts))
