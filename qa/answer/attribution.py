"""Who said it: the words before a quote that say whose list or whose words it is.

A bullet of a list means little without the sentence that introduces the list ("Human Rights
Watch issued a report. It concluded:"), and a quotation whose speaker is only "he" means little
without the sentence that names him. :func:`attribution` finds that piece, verbatim, in the
document text before the quote; the answer shows it with the quote as its context.
"""

from __future__ import annotations

import re

from qa.results import Span
from qa.text.sentences import split_sentences
from qa.text.words import REFERS_BACK

LOOKBACK_CHARS = 1500
"""How far before a quote its attribution is looked for."""
LOOKBACK_SENTENCES = 6
"""How many sentences back a quotation's speaker is looked for."""

_BULLET = re.compile(r"[ \t]*(?:[-*+•▪◦‣–—]|\d{1,3}[.)]|[a-zA-Z][.)])[ \t]+")
_QUOTATION = re.compile(r"[\"“”«»]")
_SAYS = (r"said|says|say|told|tells|added|adds|explained|argued|insisted|warned|stressed|noted|claimed|"
         r"stated|wrote|writes|asked|replied|responded|concluded|announced|declared|admitted|sought|according")
_PRONOUN_SPEAKER = re.compile(rf"\b(?:he|she|they|it|we|i)\s+(?:\w+\s+)?(?:{_SAYS})\b", re.IGNORECASE)
_NAMED_SPEAKER = re.compile(
    rf"(?<=\s)[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+)*[\s,]+(?:\w+\s+){{0,3}}(?:{_SAYS})\b"
    rf"|\b(?:{_SAYS})[\s,]+(?:by\s+|to\s+)?(?:[a-z]+\s+){{0,2}}[A-Z][\w'’.-]+"
)


def attribution(text: str, start: int, end: int) -> Span | None:
    """The piece of ``text`` before the quote ``text[start:end]`` that attributes it, or None.

    For a quote that is (or starts) a list item: the sentence ending in a colon that introduces
    the list, with the sentence before it when it opens with a pronoun. For a quotation whose
    speaker is only a pronoun, or not named in it at all: the nearest sentence before it that
    names a speaker.
    """
    in_list = _in_list_item(text, start)
    quote = text[start:end]
    if not in_list and not (_QUOTATION.search(quote) and (_PRONOUN_SPEAKER.search(quote)
                                                          or not _NAMED_SPEAKER.search(quote))):
        return None  # most quotes: nothing to attribute, so the text before is not split
    window = max(0, text.rfind("\n\n", 0, max(0, start - LOOKBACK_CHARS)) + 1) if start > LOOKBACK_CHARS else 0
    before = [span for span in split_sentences(text, window, start) if span.end <= start]
    if in_list:
        return _list_lead(text, before)
    return next((span for span in reversed(before[-LOOKBACK_SENTENCES:])
                 if _NAMED_SPEAKER.search(text[span.start : span.end])), None)


def _list_lead(text: str, before: list[Span]) -> Span | None:
    """The sentence that introduces the list the quote is an item of (it ends with a colon)."""
    for i in range(len(before) - 1, -1, -1):
        sentence = text[before[i].start : before[i].end]
        if sentence.rstrip().endswith(":"):
            first = i - 1 if i > 0 and REFERS_BACK.match(sentence) else i
            return Span(before[first].start, before[i].end)
        if not _in_list_item(text, before[i].start):
            return None  # the list began without a lead-in
    return None


def _in_list_item(text: str, offset: int) -> bool:
    """Whether the line holding ``offset`` is a list item (it opens with a bullet or a number)."""
    return bool(_BULLET.match(text, text.rfind("\n", 0, offset) + 1))
