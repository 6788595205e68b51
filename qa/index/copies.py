"""Copies of one story: near-identical documents, found at index time from their sentences.

Two documents are copies when they share at least :data:`MIN_SHARED` sentences of
:data:`MIN_WORDS` words or more (compared by their letters and digits) and those make up
:data:`MIN_CONTAINMENT` of the shorter one's; copies of copies form one group (``copy_group`` in
each manifest record), recomputed at every build. A passage or quote is "also in" a copy only if
that copy's text holds it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from qa.format_history import RECOPY, version
from qa.index.manifest import Manifest
from qa.results import Span
from qa.text.sentences import word_count
from qa.text.words import letters_and_digits

MIN_WORDS = 5
"""Shorter sentences ("Share this article.", a heading) are not evidence of a copy."""
MIN_SHARED = 3
MIN_CONTAINMENT = 0.8
MAX_HOLDERS = 100
"""A sentence found in more documents than this is boilerplate (a footer), not a story."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS copy_keys (key INTEGER NOT NULL, source TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS copy_keys_key ON copy_keys(key);
CREATE INDEX IF NOT EXISTS copy_keys_source ON copy_keys(source);
"""


def normalised(text: str) -> str:
    """``text`` as copies are compared: its letters and digits, case folded, nothing between them.

    Spacing, punctuation, quote marks and markup differ between copies of one text ("# " before
    a Markdown heading; "*2*2" in Markdown is "22" once read); its letters and digits don't.
    """
    return "".join(letters_and_digits(text.casefold()))


def sentence_keys(text: str, sentences: Iterable[Span]) -> set[int]:
    """64-bit keys of the sentences of ``text`` with at least :data:`MIN_WORDS` words."""
    keys = set()
    for span in sentences:
        if word_count(text, span.start, span.end) >= MIN_WORDS:
            digest = hashlib.blake2b(normalised(text[span.start : span.end]).encode(), digest_size=8).digest()
            keys.add(int.from_bytes(digest, "big", signed=True))
    return keys


def outdated(manifest: Manifest) -> bool:
    """Whether the index was made under other copy rules: the next build brings it up to date."""
    return manifest.copy_rules != version(RECOPY)


def create_table(db: sqlite3.Connection) -> None:
    db.executescript(_SCHEMA)


def add_keys(db: sqlite3.Connection, source: str, keys: Iterable[int]) -> None:
    db.executemany("INSERT INTO copy_keys VALUES (?, ?)", [(key, source) for key in keys])


def remove_keys(db: sqlite3.Connection, source: str) -> None:
    db.execute("DELETE FROM copy_keys WHERE source = ?", (source,))


def copy_groups(db: sqlite3.Connection) -> dict[str, str]:
    """Each document that has a copy -> its group's id (the group's first document id)."""
    sizes = dict(db.execute("SELECT source, COUNT(*) FROM copy_keys GROUP BY source"))
    pairs = db.execute(
        "WITH shared AS (SELECT key FROM copy_keys GROUP BY key HAVING COUNT(*) BETWEEN 2 AND ?) "
        "SELECT a.source, b.source, COUNT(*) FROM shared JOIN copy_keys a USING (key) "
        "JOIN copy_keys b ON b.key = a.key AND a.source < b.source GROUP BY a.source, b.source",
        (MAX_HOLDERS,),
    )
    parent: dict[str, str] = {}

    def root(source: str) -> str:
        while parent.get(source, source) != source:
            source = parent[source]
        return source

    for a, b, shared in pairs:
        if shared >= MIN_SHARED and shared >= MIN_CONTAINMENT * min(sizes[a], sizes[b]):
            first, second = sorted((root(a), root(b)))
            parent[second] = first
            parent.setdefault(first, first)
    return {source: root(source) for source in parent}


class CopyFinder:
    """The copy groups of one build, asked at answer time which other documents hold a text."""

    def __init__(self, groups: Mapping[str, str | None], document_text: Callable[[str], str]) -> None:
        members: dict[str, list[str]] = {}
        for source, group in groups.items():
            if group is not None:
                members.setdefault(group, []).append(source)
        self._others = {source: tuple(sorted(set(group) - {source})) for group in members.values() for source in group}
        self._raw = document_text
        self._text = lru_cache(maxsize=256)(lambda source: normalised(document_text(source)))

    def holders(self, source: str, text: str, allowed: frozenset[str] | None = None) -> list[str]:
        """The other documents of ``source``'s group (among ``allowed``, if given) whose text holds ``text``."""
        others = self._others.get(source, ())
        if not others:
            return []
        return [other for other in others if (allowed is None or other in allowed) and self._holds(other, text)]

    def _holds(self, source: str, text: str) -> bool:
        # The text as it is (a copy saved the same way) is found without normalising the document.
        return text in self._raw(source) or normalised(text) in self._text(source)

    def same_text(self, source: str, text: str, other_source: str, other_text: str) -> bool:
        """Whether two texts from copies of one story say the same (one holds the other)."""
        if other_source == source or other_source not in self._others.get(source, ()):
            return False
        if text in other_text or other_text in text:
            return True
        a, b = normalised(text), normalised(other_text)
        return a in b or b in a
