"""Document -> passages, each a ``[start, end)`` span of the text made of whole sentences.

Sentences (``qa.text.sentences``) are grouped into passages that follow the paragraphs: a
paragraph of 75 to 220 words is one passage, shorter ones join the next, and longer ones are cut
after about 120 words, each piece repeating the previous one's last sentence.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from qa.results import Document, Passage, Span
from qa.text.sentences import paragraphs, word_count

TARGET_WORDS = 120
"""A passage closes once it reaches this many words, unless the rest of its paragraph fits..."""
MAX_WORDS = 220
"""...in this many, which no passage exceeds. (A passage's vector is the mean of its sentences',
so no model's input limit applies.)"""
MIN_PARAGRAPH_WORDS = 75
"""A passage ends with its paragraph once it holds this many words; shorter paragraphs (headings,
one-line items) join the next. Passages that follow paragraphs rank better than fixed windows
that straddle them (xquad-dev passage hit@1 0.936 -> 0.961; see README "Quality")."""


def split_passages(document: Document, target_words: int = TARGET_WORDS, max_words: int = MAX_WORDS) -> list[Passage]:
    """Group the document's sentences into passages that follow its paragraphs.

    A passage never spans two PDF pages, so each passage has one page to cite.
    """
    passages: list[Passage] = []
    for start, end in _page_ranges(document):
        page = document.page_at(start)
        passages.extend(_group(document, paragraphs(document.text, start, end), page, target_words, max_words))
    return passages


def distinct_sentences(passages: list[Passage]) -> list[Span]:
    """The sentences of ``passages`` in text order, each once (neighbouring passages share one)."""
    return sorted({span for passage in passages for span in passage.sentences}, key=lambda span: span.start)


def _page_ranges(document: Document) -> list[tuple[int, int]]:
    if not document.pages:
        return [(0, len(document.text))]
    return [(span.start, span.end) for span in document.pages]


def _group(document: Document, paragraphs: list[list[Span]], page: int | None, target: int,
           limit: int) -> Iterator[Passage]:
    sentences = [span for paragraph in paragraphs for span in paragraph]
    counts = [word_count(document.text, s.start, s.end) for s in sentences]
    after = []  # after[i]: the words that follow sentence i in its paragraph
    position = 0
    for paragraph in paragraphs:
        sizes = counts[position : position + len(paragraph)]
        remaining = sum(sizes)
        for size in sizes:
            remaining -= size
            after.append(remaining)
        position += len(paragraph)
    paragraph_starts = set(itertools.accumulate(len(p) for p in paragraphs))

    def goes_on(last: int, words: int) -> bool:
        """Whether the passage ending with sentence ``last`` takes in the next sentence too."""
        if last + 1 in paragraph_starts:
            return words < MIN_PARAGRAPH_WORDS
        return words < target or words + after[last] <= limit

    first = 0
    while first < len(sentences):
        last, words = first, counts[first]
        while last + 1 < len(sentences) and words + counts[last + 1] <= limit and goes_on(last, words):
            last += 1
            words += counts[last]
        members = tuple(sentences[first : last + 1])
        yield Passage(document.source, members[0].start, members[-1].end, page, members)
        if last + 1 >= len(sentences):
            break
        # Within a paragraph the next passage repeats this one's last sentence (unless that would
        # make no progress); a new paragraph starts afresh.
        first = last + 1 if last + 1 in paragraph_starts or last == first else last
