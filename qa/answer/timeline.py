"""Answers in time: the latest report first when a question asks for it, and reports that
disagree shown in date order.

A question that asks for the current state ("now", "latest", "currently", "still", "as of")
is answered from the newest of the quotes of similar strength (within ``recency_margin`` of the
best), and the answer says "as of" that quote's date. Otherwise, when quotes of similar
strength from documents of different dates disagree in a number (or, for a "who" question, a
name), all of them are shown, oldest first, each with its date: the reader sees how the story
changed instead of one version of it. Documents without a date take no part in either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.question import Question
from qa.results import Quote
from qa.text.words import numbers

NEWEST_FIRST = "newest first"
OLDEST_FIRST = "oldest first"
_CAPITALISED = re.compile(r"[A-Z][\w'-]*")
_SENTENCE_OPENERS = frozenset(".!?:;\"'\u201c\u2018(")


def near_best(score: float, best: float, margin: float) -> bool:
    """Whether a quote's ``score`` (its probability of holding the answer) is within ``margin`` of the
    ``best`` one's, as a share of it: 0.1 keeps 0.45 beside 0.5, and 0.004 beside 0.004, but never
    0.003 beside 0.04, however unsure the best is."""
    return score >= best * (1 - margin)


@dataclass(frozen=True)
class Arranged:
    """The quotes of an answer in the order to show them; ``as_of`` is the date the answer speaks
    for, ``date_order`` says when (and which way) the quotes are in date order instead of best first."""

    quotes: list[Quote]
    as_of: str | None = None
    date_order: str | None = None


def dates_of(items: Sequence) -> set[str]:
    """The distinct known dates of some hits or quotes."""
    return {item.date for item in items if item.date}


def arrange(question: Question, quotes: list[Quote], wider: list[Quote], margin: float, max_quotes: int) -> Arranged:
    """Choose and order an answer's quotes by date where the question or the quotes call for it.

    ``quotes`` are the answer's quotes, best first; ``wider`` are the quotes chosen with a
    margin of at least ``margin`` (best first, the same best quote), or none when the passages
    they come from are all of one date: those within ``margin`` of the best (a share of its
    score: :func:`near_best`) are of similar strength.
    """
    similar = [q for q in wider if near_best(q.score, wider[0].score, margin)] if wider else []
    if question.latest:
        if len(dates_of(similar)) >= 2:
            return in_date_order(question, _newest(similar)[:max_quotes])
        return in_date_order(question, quotes)
    involved = _disagreeing(question, similar)
    if not involved:
        return Arranged(quotes)
    chosen = involved[:max_quotes]
    chosen += [q for q in quotes if q not in chosen][: max_quotes - len(chosen)]
    return in_date_order(question, chosen)


def in_date_order(question: Question, quotes: list[Quote]) -> Arranged:
    """``quotes`` (best first) as they should be shown: newest first with "as of" for a question
    about the current state; oldest first when they come from different dates and disagree."""
    if not quotes:
        return Arranged(quotes)
    if question.latest:
        if len(dates_of(quotes)) < 2:
            return Arranged(quotes, quotes[0].date)
        ordered = _newest(quotes)
        return Arranged(ordered, ordered[0].date, NEWEST_FIRST)
    if _disagreeing(question, quotes):
        # Undated quotes go last: nothing says where in the story they belong.
        return Arranged(sorted(quotes, key=lambda q: (q.date is None, q.date or "")), None, OLDEST_FIRST)
    return Arranged(quotes)


def _newest(quotes: list[Quote]) -> list[Quote]:
    """Newest first, undated last; quotes of one date stay best first."""
    dated = sorted((q for q in quotes if q.date), key=lambda q: q.date, reverse=True)
    return dated + [q for q in quotes if not q.date]


def _disagreeing(question: Question, quotes: list[Quote]) -> list[Quote]:
    """The quotes (best first) that disagree with a quote of another date in a number or, for a
    "who" question, a name."""
    asked_numbers = question.numbers
    asked_names = set(question.names) if question.asks_who else None
    told_numbers = [numbers(q.text) - asked_numbers for q in quotes]
    told_names: dict[int, set[str]] = {}  # read only when numbers can't tell

    def names(i: int) -> set[str]:
        if i not in told_names:
            told_names[i] = _names(quotes[i].text) - asked_names
        return told_names[i]

    involved = set()
    for i, a in enumerate(quotes):
        for j in range(i + 1, len(quotes)):
            b = quotes[j]
            if not (a.date and b.date and a.date != b.date):
                continue
            differ = bool(told_numbers[i] and told_numbers[j] and told_numbers[i] != told_numbers[j])
            if not differ and asked_names is not None:
                differ = bool(names(i) and names(j) and not names(i) & names(j))
            if differ:
                involved |= {i, j}
    return [q for i, q in enumerate(quotes) if i in involved]


def _names(text: str) -> set[str]:
    """Capitalised words that don't open a sentence: names of people, places, bodies."""
    return {m.group() for m in _CAPITALISED.finditer(text) if not _opens_sentence(text[: m.start()])}


def _opens_sentence(before: str) -> bool:
    """Whether a word after ``before`` opens the text or a sentence (or a quotation, a clause)."""
    tail = before.rstrip()
    return tail[-1] in _SENTENCE_OPENERS if tail else before in ("", "\n")
