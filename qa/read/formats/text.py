"""Plain text and Markdown: bytes -> str in the right encoding, then lines -> paragraphs.

Plain text is often hard-wrapped: a line break where the next word would not have fitted is
a space; any other line break ends a paragraph (so files with one paragraph per line keep their
paragraphs). Markdown follows its own rules (a paragraph runs to the next blank line); its
headings, list items, table rows and code lines are blocks of their own, and its inline markup
(links, emphasis) is read as the words it shows.
"""

from __future__ import annotations

import bisect
import codecs
import re
from collections.abc import Iterator

from qa.errors import UnsupportedDocument
from qa.read.formats.reading import (
    SENTENCE_END,
    Reading,
    clean_title,
    is_list_item,
    join_blocks,
    normalise_newlines,
    one_line,
    read_lead,
)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ue000-\uf8ff]")
_WORD = re.compile(r"[^\W\d_]+")
WESTERN_ACCENT_SHARE = 0.3
"""Western European text read in Windows-1252 has at most this share of accented letters (French
about 4%); more means the bytes are another alphabet (Cyrillic, Greek) misread."""
_SCRIPT_STARTS = (0x250, 0x370, 0x400, 0x530, 0x590, 0x600, 0x700, 0x1100, 0x1200, 0x3040, 0x3100, 0x3130,
                  0x3190, 0x3400, 0xA000, 0xAC00, 0xD7B0, 0xFF65, 0xFFA0)
_SCRIPT_NAMES = ("latin", "other", "greek", "cyrillic", "other", "hebrew", "arabic", "other", "hangul", "other",
                 "cjk", "other", "hangul", "other", "cjk", "other", "hangul", "other", "cjk", "other")
"""Alphabets by code point: ``_SCRIPT_NAMES[i]`` runs up to ``_SCRIPT_STARTS[i]`` (kana and Han are
one, as Japanese mixes them within words)."""
WRAP_WIDTH_MAX = 160
"""Text whose lines run longer than this is not hard-wrapped: each of its line breaks ends a paragraph."""


def decode_text(data: bytes) -> str:
    """Bytes -> str: a BOM, else UTF-16 by its zero bytes, else UTF-8, else the likeliest code page.

    Windows-1252 (Latin-1) wins whenever it reads as Western text; then the detector's guess if it
    reads as one script per word; then Windows-1251, Shift-JIS and GB18030 by the same test.
    Newlines are normalised to \\n.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return normalise_newlines(data.decode(encoding))
    if b"\x00" in data[:8192]:
        return normalise_newlines(_utf16(data))
    try:
        return normalise_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    # UTF-8 with a few damaged bytes keeps its good characters; a whole file in another encoding
    # (every accented letter invalid) is another encoding.
    if (valid := len(_NON_ASCII.findall(text))) and valid >= text.count("\ufffd"):
        return normalise_newlines(text)
    return normalise_newlines(_legacy(data))


def _utf16(data: bytes) -> str:
    """Text in UTF-16 without a BOM (its ASCII characters have a zero byte), else UnsupportedDocument."""
    sample = data[: 1 << 16]
    # ASCII characters put their zero byte second in little-endian UTF-16, first in big-endian.
    encoding = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    text = _strict(data[: len(data) - len(data) % 2], encoding)
    if text is not None and _one_script_per_word(text):
        return text
    raise UnsupportedDocument("binary file, not text")


def _legacy(data: bytes) -> str:
    """Text in a code page, judged on its first MiB (see decode_text for the order)."""
    sample = data[: 1 << 20]
    for encoding in ("cp1252", "latin-1"):
        text = _strict(sample, encoding)
        if text is not None:
            if _western(text):
                return data.decode(encoding, errors="replace")
            break
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    guess = _strict(sample, best.encoding) if best is not None else None
    if guess is not None and _one_script_per_word(guess):
        return data.decode(best.encoding, errors="replace")
    for encoding, script in (("cp1251", "cyrillic"), ("shift_jis", "cjk"), ("gb18030", "cjk")):
        text = _strict(sample, encoding)
        if text is not None and _mostly(text, script) and _one_script_per_word(text):
            return data.decode(encoding, errors="replace")
    if best is None:
        raise UnsupportedDocument("binary file or unknown text encoding")
    return data.decode(best.encoding, errors="replace")


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        # A multi-byte character may be cut at the end of a sample.
        return codecs.getincrementaldecoder(encoding)().decode(data, final=False)
    except (UnicodeDecodeError, LookupError):
        return None


def _script(char: str) -> str:
    return _SCRIPT_NAMES[bisect.bisect_right(_SCRIPT_STARTS, ord(char))]


def _one_script_per_word(text: str) -> bool:
    """Whether ``text`` reads as text: no control characters, and no word mixing two alphabets."""
    if _CONTROL.search(text):
        return False
    return all(len({_script(c) for c in word}) == 1 for word in _WORD.findall(text[:100_000]))


def _western(text: str) -> bool:
    """Whether ``text`` (decoded as Windows-1252) reads as Western European text."""
    if _CONTROL.search(text):
        return False
    letters = "".join(_WORD.findall(text[:100_000]))
    accented = sum(1 for c in letters if not c.isascii())
    return accented <= WESTERN_ACCENT_SHARE * len(letters)


def _mostly(text: str, script: str) -> bool:
    letters = [c for c in text if not c.isascii() and c.isalpha()]
    return bool(letters) and sum(_script(c) == script for c in letters) >= 0.9 * len(letters)


def read_text(data: bytes, name: str) -> Reading:
    """A plain text file: hard-wrapped lines joined, a first line that reads as a headline the title."""
    blocks, title, metadata = read_lead(list(text_blocks(decode_text(data))), headline=True)
    return Reading(join_blocks(blocks), title or name, metadata=metadata)


def text_blocks(text: str) -> Iterator[str]:
    """The paragraphs of plain text, each on one line.

    A line break is a space when the line was full (the next word would not have fitted within
    the text's wrap width); a blank line, a list item, an indented line or a short line ends a
    paragraph.
    """
    paragraphs = [[line.rstrip() for line in p.split("\n")] for p in re.split(r"\n[ \t]*\n", text)]
    width = _wrap_width(paragraphs)
    for lines in paragraphs:
        lines = [line for line in lines if line.strip()]
        current: list[str] = []
        for i, line in enumerate(lines):
            if current and not _soft_break(lines[i - 1], line, width):
                yield " ".join(current)
                current = []
            current.append(line.strip())
        if current:
            yield " ".join(current)


def _wrap_width(paragraphs: list[list[str]]) -> int:
    """The width text was wrapped at (the 90th percentile of lines that another line follows), or 0
    when it was not wrapped: lines too long, or most of them ending a sentence (a paragraph a line)."""
    lines = [line for lines in paragraphs for line in lines[:-1] if line.strip()]
    if not lines or sum(line.rstrip()[-1] in SENTENCE_END for line in lines) > len(lines) / 2:
        return 0
    lengths = sorted(len(line) for line in lines)
    width = lengths[int(0.9 * (len(lengths) - 1))]
    return width if width <= WRAP_WIDTH_MAX else 0


def _soft_break(line: str, following: str, width: int) -> bool:
    if not width or is_list_item(following) or (following[:1].isspace() and not line[:1].isspace()):
        return False
    return len(line) + 1 + len(following.split()[0]) > width


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<body>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_KEY = re.compile(r"^(title|date|author|url)\s*:\s*(.+?)\s*$", re.MULTILINE | re.IGNORECASE)


def read_markdown(data: bytes, name: str) -> Reading:
    """A Markdown file: front matter (title, date, author, url) as metadata, the first heading as
    title, blocks as Markdown renders them."""
    from markdown_it import MarkdownIt

    text = decode_text(data)
    metadata: dict[str, str] = {}
    if front := _FRONT_MATTER.match(text):
        metadata = {key.lower(): value.strip("'\"") for key, value in _FRONT_KEY.findall(front.group("body"))}
        text = text[front.end():]
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks, heading = _markdown_blocks(tokens)
    blocks, headline, lead = read_lead(blocks, headline=True)
    title = clean_title(metadata.pop("title", "")) or heading or headline or name
    return Reading(join_blocks(blocks), title, metadata={**lead, **metadata})


def _markdown_blocks(tokens: list) -> tuple[list[str], str]:
    """(the blocks of a parsed Markdown file, its first heading)."""
    blocks: list[str] = []
    heading = ""
    in_item = row = None
    for i, token in enumerate(tokens):
        if token.type == "list_item_open":
            in_item = token.info + token.markup + " " if token.markup in ".)" else token.markup + " "
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            blocks.append(" | ".join(row))
            row = None
        elif token.type == "inline":
            words = _inline_text(token)
            if row is not None:
                row.append(words)
            elif tokens[i - 1].type == "heading_open":
                # Images in a heading are badges ("Build Status"), unless they are all it has (a logo).
                words = clean_title(_inline_text(token, images=False) or words)
                heading = heading or words
                blocks.append(words)
            elif in_item is not None:
                blocks.append(in_item + words)
                in_item = ""  # a second paragraph of the same item goes without the bullet
            else:
                blocks.append(words)
        elif token.type in ("fence", "code_block"):
            blocks.extend(line for line in token.content.split("\n") if line.strip())
        elif token.type == "html_block":
            blocks.append(one_line(re.sub(r"<[^>]*>", " ", token.content)))
        elif token.type == "list_item_close":
            in_item = None
    return blocks, heading


def _inline_text(token, *, images: bool = True) -> str:
    """The words an inline token shows; with ``images``, an image's alternative text among them."""
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image" and images:
            parts.append(child.content)
    return one_line("".join(parts))
