"""Text -> sentences, each a ``[start, end)`` span of the text.

Text is first cut into blocks (paragraphs separated by blank lines, and list items), so a
sentence never runs across a paragraph or a bullet. Blocks are split into sentences by
Bling Fire's sentence model, which handles abbreviations, decimals and quotes; a small pass then
re-joins splits after titles such as "Mr." that it misses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from qa.results import Span

MAX_SENTENCE_WORDS = 80
"""Longer 'sentences' (text without punctuation) are cut into windows of this many words."""

_BLOCK_BREAK = re.compile(
    r"\n[ \t]*\n\s*"  # a blank line
    r"|\n(?=[ \t]*(?:[-*+•▪◦‣–—]|\d{1,3}[.)]|[a-zA-Z][.)])[ \t]+)"  # a new list item
)
_WORD = re.compile(r"\S+")
_TITLE_ABBREVIATION = re.compile(
    r"(?:^|[\s(\"'])(?:Mr|Mrs|Ms|Mx|Dr|Prof|St|Sr|Jr|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Capt|Cmdr|Adm|Maj|Mt|Rev|"
    r"Hon|Pres|Supt|Fr|No|Nos|Fig|Figs|Vol|Eq|Ref|vs|cf|approx|Inc|Ltd|Co|Corp|Ph|ca)\.$"
)


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of ``text[start:end]``, trimmed of surrounding whitespace, in order."""
    return list(iter_sentences(text, start, end))


def iter_sentences(text: str, start: int = 0, end: int | None = None) -> Iterator[Span]:
    """:func:`split_sentences`, one block at a time: a caller that needs the first few splits no more."""
    end = len(text) if end is None else end
    for block_start, block_end in _blocks(text, start, end):
        yield from _block_spans(text, block_start, block_end)


def paragraphs(text: str, start: int = 0, end: int | None = None) -> list[list[Span]]:
    """The sentence spans of each block (paragraph or list item) of ``text[start:end]``."""
    end = len(text) if end is None else end
    paragraphs = [_block_spans(text, block_start, block_end) for block_start, block_end in _blocks(text, start, end)]
    return [spans for spans in paragraphs if spans]


def _block_spans(text: str, start: int, end: int) -> list[Span]:
    return [piece for span in _merge_title_splits(text, _block_sentences(text, start, end))
            for piece in _cap_words(text, span)]


def _blocks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    position = start
    for match in _BLOCK_BREAK.finditer(text, start, end):
        yield from _trimmed(text, position, match.start())
        position = match.end()
    yield from _trimmed(text, position, end)


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def _block_sentences(text: str, start: int, end: int) -> list[Span]:
    block = text[start:end]
    try:
        offsets = sentence_offsets(block)
    except (UnicodeError, ValueError):
        offsets = []
    spans = []
    for a, b in offsets:
        spans.extend(Span(start + s, start + e) for s, e in _trimmed(block, a, min(b, len(block))))
    if not spans or spans[0].start < start or spans[-1].end > end or any(
        left.end > right.start for left, right in zip(spans, spans[1:])
    ):
        return [Span(start, end)]
    # Bling Fire may drop characters between sentences; give them to the sentence before.
    return [
        Span(span.start if i else start, spans[i + 1].start if i + 1 < len(spans) else end)
        for i, span in enumerate(spans)
    ]


def sentence_offsets(block: str) -> list[tuple[int, int]]:
    """Bling Fire's sentence spans of ``block``, as character offsets.

    Calls the library directly: its Python wrapper maps byte offsets to characters one byte at a
    time, which took ~80% of indexing time without a GPU; numpy maps them all at once.
    """
    import ctypes

    import blingfire
    import numpy as np

    if not block:
        return []
    data = block.encode("utf-8")
    size = len(data) * 2 + 1
    out = ctypes.create_string_buffer(size)
    starts, ends = (ctypes.c_int32 * size)(), (ctypes.c_int32 * size)()
    length = blingfire.blingfire.TextToSentencesWithOffsets(
        ctypes.c_char_p(data), ctypes.c_int(len(data)), ctypes.byref(out), ctypes.byref(starts),
        ctypes.byref(ends), ctypes.c_int(size),
    )
    if length == -1 or length > size:
        return []
    count = out.value.count(b"\n") + 1
    first = np.frombuffer(starts, dtype=np.int32, count=count).astype(np.int64)
    last = np.frombuffer(ends, dtype=np.int32, count=count).astype(np.int64) + 1  # ends are inclusive
    if len(data) != len(block):  # not ASCII: byte offsets -> character offsets
        leading = (np.frombuffer(data, dtype=np.uint8) & 0xC0) != 0x80
        char_at = np.append(np.cumsum(leading) - 1, len(block))
        first, last = char_at[np.minimum(first, len(data))], char_at[np.minimum(last, len(data))]
    return list(zip(first.tolist(), last.tolist()))


def _merge_title_splits(text: str, spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in spans:
        span = Span(span.start, _rstrip(text, span.start, span.end))
        if merged and _TITLE_ABBREVIATION.search(text[max(merged[-1].start, merged[-1].end - 12) : merged[-1].end]):
            merged[-1] = Span(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _cap_words(text: str, span: Span) -> Iterator[Span]:
    words = list(_WORD.finditer(text, span.start, span.end))
    if len(words) <= MAX_SENTENCE_WORDS:
        yield span
        return
    for i in range(0, len(words), MAX_SENTENCE_WORDS):
        window = words[i : i + MAX_SENTENCE_WORDS]
        yield Span(window[0].start(), window[-1].end())


def word_count(text: str, start: int, end: int) -> int:
    """Number of whitespace-separated words in ``text[start:end]``."""
    return sum(1 for _ in _WORD.finditer(text, start, end))
