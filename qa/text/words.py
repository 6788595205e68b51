"""Words as qa matches them: letters-and-digits runs, numbers, a light stemmer and stop words."""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
REFERS_BACK = re.compile(r"\W*(?:It|Its|He|His|She|Her|They|Their|This|These|Those|The latter)\b")
"""A sentence that opens with a pronoun: it is about what the sentence before names."""
STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "done", "has", "have", "had", "having", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "that", "this", "these", "those", "it", "its", "there", "their", "they", "them", "he", "him", "his", "she", "her", "we", "our", "you", "your", "i", "me", "my", "not", "no", "so", "than", "then", "into", "onto", "about", "over", "under", "after", "before", "during", "between", "through", "up", "down", "out", "off", "again", "further", "once", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "also", "any", "some", "such", "only", "own", "same", "too", "very", "just", "s", "t"]
)


@lru_cache(maxsize=1 << 16)  # a question's candidates repeat the same words: each is stemmed once
def stem(word: str) -> str:
    """A light English stemmer: plural and a few common inflections, nothing that changes meaning."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit (NUL characters, zero-width spaces and marks alone do not count)."""
    return _TOKEN.search(text) is not None


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` (runs of letters and digits)."""
    return letters_and_digits(text.lower())


def letters_and_digits(text: str) -> list[str]:
    """The runs of letters and digits of ``text``, as they are."""
    return _TOKEN.findall(text)


def numbers(text: str) -> set[str]:
    """The numbers written in ``text``, without thousands commas ("1,000" is "1000")."""
    return {number.replace(",", "") for number in _NUMBER.findall(text)}


def terms(text: str) -> list[str]:
    """The words of ``text`` that BM25 and quote scoring match on: lower-cased, stemmed, no stop words."""
    return [stem(word) for word in words(text) if word not in STOPWORDS]
