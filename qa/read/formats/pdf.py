"""PDF: the text of each page as a person reads it, with the page's printed label.

pypdf lays each page out as lines of text in their places. Where its reading of a page runs
words together (a font whose space pypdf measures wrong: long runs of letters, few spaces), the
page is read again with PDFium, and the reading with fewer such runs is kept. Two columns are
read one after the other; a line that is full joins the next with a space (a word hyphenated at the line end is
joined whole), and a blank gap, an indented or short line or a list item ends a paragraph.
Running heads and feet (the same line at the top or bottom of many pages) and page numbers are
dropped, and so are table-of-contents and index pages (dot leaders, columns of page numbers):
they are not text to quote.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from collections.abc import Iterator

from qa.errors import UnsupportedDocument
from qa.read.dates import iso_date
from qa.read.formats.reading import (
    SENTENCE_END,
    Reading,
    clean_title,
    is_list_item,
    is_title,
    join_blocks,
    normalise_newlines,
    one_line,
    property_title,
    property_value,
    read_lead,
)
from qa.results import PageSpan

FURNITURE_LINES = 2
"""This many lines at the top and at the bottom of a page may be running heads, feet or page numbers."""
INDEX_PAGE_SHARE = 0.5
"""A page is a contents or index page when at least this share of its lines are entries."""
FULL_LINE = 0.9
"""A line is full when it and the next line's first word would reach this share of its column's
width; a line that is not full and ends a sentence ends its paragraph..."""
SHORT_LINE = 0.6
"""...and so does a line shorter than this share of the width (a heading)."""
RUN_LETTERS = 25
"""A run of this many letters (in an alphabet that spaces its words) is words run together..."""
LETTERS_PER_SPACE = 12
"""...and so is a page with more letters than this per space (English has about 5), among at least
MIN_LETTERS letters."""
MIN_LETTERS = 100
_LETTER_RUN = re.compile(rf"[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]{{{RUN_LETTERS},}}")
_PAGE_NUMBER = re.compile(r"(?:page\s+)?[-\u2013\u2014]?\s*(?:\d{1,5}|x{0,3}(?:ix|iv|v?i{0,3}))\s*[-\u2013\u2014]?"
                          r"(?:\s+(?:of|/)\s+\d{1,5})?", re.IGNORECASE)
HEAD_WORDS = 3
"""Running heads that start with the same this many words, a number among them, are one head."""
_SECTION_NUMBER = r"\d{1,3}(?:\.\d{1,3})*\.?(?=\s|$)"
_RUNNING_NUMBERS = re.compile(rf"\b(?:CHAPTER|PART|APPENDIX|SECTION)\s+(?:{_SECTION_NUMBER}|[A-Z]\b)"
                              rf"|(?:^|\s){_SECTION_NUMBER}.*\s{_SECTION_NUMBER}", re.IGNORECASE)
_DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s*[\dA-Za-z]{1,6}\s*$")
_ENTRY = re.compile(r"\D.*?(?:\s{2,}|,\s*|\s\.\s?)\d{1,4}(?:\s*[-\u2013]\s*\d{1,4})?(?:\s*,\s*\d{1,4}(?:\s*[-\u2013]\s*\d{1,4})?)*")
_HYPHENATED = re.compile(r"[^\W\d_]-$")
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def read_pdf(data: bytes, name: str) -> Reading:
    """A PDF's text, page by page (``pages`` maps text to page numbers and labels), title and metadata."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnsupportedDocument("encrypted PDF (password protected)")
        pages = [_page_lines(page) for page in reader.pages]
        respaced = _respace(pages, data)
        labels = _labels(reader, len(pages))
        info = reader.metadata or {}
        meta_title, author, created = (property_value(info.get(key))
                                       for key in ("/Title", "/Author", "/CreationDate"))
    except UnsupportedDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError,
            IndexError, ZeroDivisionError) as err:
        raise UnsupportedDocument(f"not a readable PDF ({type(err).__name__})") from err
    text, spans, first_blocks, lead = _read_pages(pages, labels)
    if not text.strip():
        raise UnsupportedDocument("PDF has no text layer (scanned images?)")
    title = property_title(meta_title) or (first_blocks[0] if is_title(first_blocks[0]) else "") or name
    metadata = {**lead, **{key: value for key, value in (("author", author), ("date", iso_date(created) or "")) if value}}
    return Reading(text, clean_title(title), tuple(spans), metadata, respaced_pages=respaced)


def _read_pages(pages: list[list[str]], labels: list[str | None]
                ) -> tuple[str, list[PageSpan], list[str], dict[str, str]]:
    """(text, page spans, the first page's blocks, byline and dateline) of the pages' lines."""
    furniture = _running_lines(pages)
    vocabulary = Counter(word.lower() for lines in pages for line in lines for word in _WORDS.findall(line))
    parts: list[str] = []
    spans: list[PageSpan] = []
    offset = 0
    first_blocks: list[str] = []
    lead: dict[str, str] = {}
    for number, lines in enumerate(pages, start=1):
        lines = _without_furniture(lines, number - 1, furniture)
        blocks = [block for column in _columns(lines) for block in _paragraphs(column, vocabulary)]
        if _is_index_page([line.strip() for line in lines if line.strip()]) or _is_index_page(blocks):
            continue
        blocks = [block for block in blocks if not _DOT_LEADER.search(block)]
        if not blocks:
            continue
        if not parts:
            first_blocks = blocks
            blocks, _, lead = read_lead(blocks, headline=False)
        page_text = join_blocks(blocks)
        if parts:
            parts.append("\n\n")
            offset += 2
        spans.append(PageSpan(number, offset, offset + len(page_text), labels[number - 1]))
        parts.append(page_text)
        offset += len(page_text)
    return "".join(parts), spans, first_blocks, lead


def _labels(reader, count: int) -> list[str | None]:
    """The label printed on each page ("iv", "3") when the PDF defines page labels, else None each."""
    try:
        if "/PageLabels" in reader.trailer["/Root"]:
            labels = list(reader.page_labels)  # pypdf works the labels out anew at each read
            return labels[:count] + [None] * (count - len(labels))
    except (KeyError, ValueError, TypeError, IndexError, AttributeError):
        pass
    return [None] * count


def _page_lines(page) -> list[str]:
    """The page's lines in their places ("" for a gap between lines)."""
    try:
        text = page.extract_text(extraction_mode="layout")
    except Exception:  # pypdf's layout mode is the younger one: where it fails, its plain text still reads
        text = page.extract_text()
    lines = [line.rstrip() for line in normalise_newlines(text or "").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _run_together(lines: list[str]) -> tuple[int, float]:
    """(runs of RUN_LETTERS or more letters, letters per space) of a page's text: high where words
    run together (letters per space is 0 below MIN_LETTERS letters)."""
    text = " ".join(one_line(line) for line in lines)
    letters = sum(1 for char in text if char.isalpha())
    return len(_LETTER_RUN.findall(text)), (letters / (text.count(" ") + 1) if letters >= MIN_LETTERS else 0.0)


def _respace(pages: list[list[str]], data: bytes) -> int:
    """Read again with PDFium each page whose words run together, keeping the better reading of
    each (in ``pages``); returns how many pages PDFium read better."""
    suspect = [i for i, lines in enumerate(pages) if _runs_together(lines)]
    if not suspect:
        return 0
    import pypdfium2

    better = 0
    try:
        document = pypdfium2.PdfDocument(data)
    except (pypdfium2.PdfiumError, ValueError):
        return 0  # a second opinion only: pypdf's reading stands
    try:
        for i in (i for i in suspect if i < len(document)):
            text = document[i].get_textpage().get_text_bounded()
            # PDFium marks a word hyphenated at the line's end with \x02.
            lines = [line.rstrip() for line in normalise_newlines(text.replace("\x02", "-")).split("\n")]
            if _run_together(lines) < _run_together(pages[i]):
                pages[i] = lines
                better += 1
    except (pypdfium2.PdfiumError, ValueError):
        pass
    finally:
        document.close()
    return better


def _runs_together(lines: list[str]) -> bool:
    runs, letters_per_space = _run_together(lines)
    return runs > 0 or letters_per_space > LETTERS_PER_SPACE


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the lines at the top and bottom of a page that may be running heads or feet."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(filled[:FURNITURE_LINES] + filled[-FURNITURE_LINES:]))


def _shape(line: str) -> str:
    """A line with its numbers blanked, for finding the same running head on every page."""
    return re.sub(r"\d+", "#", one_line(line).lower())


def _running_lines(pages: list[list[str]]) -> tuple[set[str], set[int]]:
    """What marks a line at the top or bottom of a page as a running head or foot: its shape (the
    same line on at least three pages, or on every page of a short PDF) or its numbered start
    ("Chapter 4. Simple example 4.3. What is debmake?": the chapter's head, whatever the section),
    or a page number at either end that follows the pages (as page index minus that number, the
    same on as many pages).
    """
    shapes: Counter = Counter()
    offsets: Counter = Counter()
    for index, lines in enumerate(pages):
        edge_lines = [lines[i] for i in _edges(lines)]
        shapes.update({shape for line in edge_lines for shape in _shapes(line)})
        offsets.update({index - number for line in edge_lines if (number := _end_number(line)) is not None})
    if len(pages) < 2:
        return set(), set()
    needed = min(3, len(pages))
    return ({shape for shape, count in shapes.items() if count >= needed},
            {offset for offset, count in offsets.items() if count >= needed})


def _shapes(line: str) -> set[str]:
    """The line's shape, and the shape of its first HEAD_WORDS words when they hold a number."""
    shape = _shape(line)
    start = " ".join(shape.split()[:HEAD_WORDS])
    return {shape, f"{start} \u2026"} if "#" in start and len(shape.split()) > HEAD_WORDS else {shape}


def _numbered_head(line: str) -> bool:
    """Whether a line reads as a running head in capitals with its chapter's number, or its chapter's
    and its section's ("CHAPTER 2. PREREQUISITES 2.7. ARCHIVE SITUATION"), not a heading ("1 INTRODUCTION")."""
    letters = [char for char in line if char.isalpha()]
    return (len(letters) >= 4 and sum(char.isupper() for char in letters) >= 0.8 * len(letters)
            and len(line.split()) <= 16 and bool(_RUNNING_NUMBERS.search(line)))


def _end_number(line: str) -> int | None:
    """The number a line starts or ends with ("Chapter 2: Utilities   6" -> 6), if any."""
    match = re.search(r"^\s*(\d{1,5})\s|\s(\d{1,5})\s*$", line)
    return int(match.group(1) or match.group(2)) if match else None


def _without_furniture(lines: list[str], index: int, furniture: tuple[set[str], set[int]]) -> list[str]:
    shapes, offsets = furniture
    edges = set(_edges(lines))

    def running(line: str) -> bool:
        number = _end_number(line)
        return (bool(_shapes(line) & shapes) or bool(_PAGE_NUMBER.fullmatch(line.strip())) or _numbered_head(line)
                or (number is not None and index - number in offsets))

    return [line for i, line in enumerate(lines) if not (i in edges and running(line))]


def _columns(lines: list[str]) -> Iterator[list[str]]:
    """The page's lines in reading order: side-by-side columns one after the other."""
    gutter = _gutter(lines)
    if gutter is None:
        yield lines
        return
    start, end = gutter
    left: list[str] = []
    right: list[str] = []
    for line in lines:
        if line[start:end].strip():  # a line across both columns (a title) comes between them
            yield from (part for part in (left, right) if part)
            left, right = [], []
            yield [line]
        else:
            left.append(line[:start].rstrip())
            right.append(line[end:].rstrip())
    yield from (part for part in (left, right) if part)


def _gutter(lines: list[str]) -> tuple[int, int] | None:
    """The character columns of the gap between two text columns, or None for a one-column page."""
    filled = [line for line in lines if line.strip()]
    if len(filled) < 6:
        return None
    width = max(len(line) for line in filled)
    occupied = [0] * width
    for line in filled:
        for i, char in enumerate(line):
            if char != " ":
                occupied[i] += 1
    spanning = max(1, len(filled) // 10)
    runs = []
    i = width // 4
    while i < 3 * width // 4:
        if occupied[i] > spanning:
            i += 1
            continue
        j = i
        while j < width and occupied[j] <= spanning:
            j += 1
        start, end = _emptiest(occupied, i, j)
        if end - start >= 2:
            runs.append((start, end))
        i = j
    # The widest gap that has text on both sides in enough lines (a few are tried: pages are small).
    for start, end in sorted(runs, key=lambda run: run[0] - run[1])[:3]:
        if sum(1 for line in filled if line[:start].strip() and line[end:].strip()) >= 0.3 * len(filled):
            return start, end
    return None


def _emptiest(occupied: list[int], start: int, end: int) -> tuple[int, int]:
    """The longest run of ``occupied[start:end]`` that holds the fewest lines (the gap itself, not
    the ragged ends of the lines beside it)."""
    least = min(occupied[start:end])
    best = (start, start)
    i = start
    while i < end:
        j = i
        while j < end and occupied[j] == least:
            j += 1
        if j - i > best[1] - best[0]:
            best = (i, j)
        i = j + 1
    return best


def _paragraphs(lines: list[str], vocabulary: Counter) -> Iterator[str]:
    """The paragraphs of one column's lines, each on one line."""
    filled = [line for line in lines if line.strip()]
    if not filled:
        return
    margin = min(_indent(line) for line in filled)
    ends = sorted(len(line) for line in filled)
    right = ends[int(0.9 * (len(ends) - 1))]
    current = ""
    previous = ""
    for line in lines:
        if not line.strip():
            if current:
                yield current
            current = previous = ""
            continue
        words = one_line(line)
        if current and _ends_paragraph(previous, line, margin, right):
            yield current
            current = ""
        current = _join(current, words, vocabulary) if current else words
        previous = line
    if current:
        yield current


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _ends_paragraph(line: str, following: str, margin: int, right: int) -> bool:
    if is_list_item(following) or _indent(following) > max(_indent(line), margin) + 1:
        return True
    if _HYPHENATED.search(line):
        return False
    full = len(line) + 1 + len(following.split()[0]) >= FULL_LINE * right
    return len(line) < SHORT_LINE * right or (not full and line.rstrip()[-1:] in SENTENCE_END)


def _join(text: str, line: str, vocabulary: Counter) -> str:
    """``text`` and the next line of its paragraph: a space between, or a hyphenated word made whole."""
    if not (_HYPHENATED.search(text) and line[:1].islower()):
        return f"{text} {line}"
    head = text.rsplit(" ", 1)[-1][:-1]
    tail = _WORDS.match(line)
    tail_word = tail.group() if tail else ""
    # "well-known" stays hyphenated when the document writes it so elsewhere; "maintain-ed" is joined.
    if vocabulary[f"{head}-{tail_word}".lower()] > vocabulary[f"{head}{tail_word}".lower()]:
        return f"{text}{line}"
    return f"{text[:-1]}{line}"


def _is_index_page(blocks: list[str]) -> bool:
    """Whether a page's lines or blocks are mostly entries with page numbers (a contents or index page)."""
    entries = sum(1 for block in blocks if _DOT_LEADER.search(block) or _ENTRY.fullmatch(block))
    headings = sum(1 for block in blocks if len(block.split()) <= 2 and not any(c.isdigit() for c in block))
    return entries >= max(2, INDEX_PAGE_SHARE * (len(blocks) - headings))
