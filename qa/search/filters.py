"""Which documents a question is asked of: a date range and glob patterns over document ids.

The filter is applied before ranking (``qa.retriever``): the vector searches see only the
vectors of the documents it lets through and BM25 only their passages, so the answer is the
best match within the filter, not the best match overall with the rest filtered away.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from qa.errors import InvalidInput
from qa.read.dates import date_bound, day_range

MAX_PATTERNS = 1_000
"""A filter names at most this many patterns (the page's document filter sends one per document)."""


@dataclass(frozen=True)
class DocumentFilter:
    """Documents dated ``since`` to ``until`` (ISO days, inclusive), whose id matches one of ``patterns``.

    A document without a known date is left out as soon as either bound is given: nothing says
    it falls in the range. A date known only to the month or year must lie wholly in the range.
    """

    since: str | None = None
    until: str | None = None
    patterns: tuple[str, ...] = ()

    @cached_property
    def _pattern(self) -> re.Pattern | None:
        if not self.patterns:
            return None
        return re.compile("|".join(fnmatch.translate(pattern) for pattern in self.patterns))

    def matches(self, source: str, date: str | None) -> bool:
        """Whether document ``source``, dated ``date`` (ISO or None), is let through."""
        if self._pattern is not None and not self._pattern.match(source):
            return False
        if self.since is None and self.until is None:
            return True
        if date is None:
            return False
        first, last = day_range(date)
        return (self.since is None or first >= self.since) and (self.until is None or last <= self.until)

    def describe(self) -> str:
        """The filter in words, for messages: "dated 2023-07-01 to 2023-07-31 and matching 'ap/*'"."""
        parts = []
        if self.since or self.until:
            parts.append(f"dated {self.since or 'any time'} to {self.until or 'now'}")
        if self.patterns:
            shown = ", ".join(repr(p) for p in self.patterns[:3]) + (" ..." if len(self.patterns) > 3 else "")
            parts.append(f"matching {shown}")
        return " and ".join(parts)

    def allowed_sources(self, dates: Mapping[str, str | None]) -> frozenset[str]:
        """The documents of ``dates`` (source -> ISO date or None) that this filter lets through;
        InvalidInput when there are none, since no question could be answered."""
        allowed = frozenset(source for source, date in dates.items() if self.matches(source, date))
        if not allowed:
            raise InvalidInput(f"No indexed document is {self.describe()}.", argument="filter")
        return allowed


def document_filter(since: str | dt.date | None = None, until: str | dt.date | None = None,
                    source: str | Iterable[str] | None = None) -> DocumentFilter | None:
    """The filter the ``since``, ``until`` and ``source`` arguments of ``Retriever.ask`` / ``search``
    ask for, or None when they ask for none; InvalidInput for a bad date, an empty pattern or
    a range that ends before it starts."""
    first = date_bound(since, name="since")
    last = date_bound(until, name="until", end=True)
    if first and last and last < first:
        raise InvalidInput(f"The date range ends ({last}) before it starts ({first}).", argument="until")
    patterns = _patterns(source)
    if first is None and last is None and not patterns:
        return None
    return DocumentFilter(first, last, patterns)


def _patterns(source: str | Iterable[str] | None) -> tuple[str, ...]:
    if source is None:
        return ()
    if isinstance(source, str):
        patterns: tuple = (source,)
    elif isinstance(source, Iterable) and not isinstance(source, (bytes, Mapping)):
        patterns = tuple(source)
    else:
        raise InvalidInput(f"The source filter must be a glob or a list of globs over document ids, "
                           f"not {type(source).__name__}.", argument="source")
    if not all(isinstance(p, str) and p.strip() for p in patterns):
        raise InvalidInput("A source pattern must be a non-empty glob over document ids, such as 'reuters/*'.",
                           argument="source")
    if len(patterns) > MAX_PATTERNS:
        raise InvalidInput(f"{len(patterns):,} source patterns; give at most {MAX_PATTERNS:,}.", argument="source")
    return patterns

