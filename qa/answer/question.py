"""A question, parsed once: what every part that reads a question reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from qa.answer.question_kinds import ORDINAL_WORDS, AnswerType, asked_type
from qa.text.words import numbers, terms, words

_LATEST = re.compile(
    r"\b(?:now|nowadays|latest|currently|current|still|as of|today|these days|most recent(?:ly)?|so far|"
    r"up to date)\b", re.IGNORECASE)
_WHO = re.compile(r"\bwho(?:m|se)?\b", re.IGNORECASE)
_SETTING = re.compile(r"\b(?:in|at) (?:the )?([A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*)")
_OWNED = re.compile(r"\b([A-Z][\w-]*)['’]s? ([a-z][\w-]*)")
_NUMBERED = re.compile(rf"\b({ORDINAL_WORDS}) ([a-z][\w-]*)", re.IGNORECASE)
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'’-]*|\b[A-Z]{2,}\b")
_IDENTIFIER = re.compile(r"\b(?=[\w-]*\d)[\w-]+\b")
_WORD = re.compile(r"\w[\w-]*")
PRONOUNS = frozenset("it its they them their theirs this that these those he him his she her hers there".split())
_NOT_KEY = PRONOUNS | frozenset(
    """a an the and or but of to in on at by for with from as about into over than then so if
    what who whom whose which when where why how is are was were be been being do does did done
    have has had can could will would shall should may might must not no yes any some more most
    much many also just only very we us our you your i me my here tell please know say said""".split()
)
"""Words that carry no subject of their own: a question made of these alone leans on the one before."""


@dataclass(frozen=True)
class Question:
    """A question as quoting and refusing read it.

    - ``kind``: the kind of fact it asks for (``qa.answer.question_kinds``), or None;
    - ``asking``: the phrase that asks for that kind ("how many"), "" without a kind;
    - ``focus``: its terms beyond the asking phrase and beyond words that ask for the current
      state ("so far"): the words that say what is asked about;
    - ``names``: its capitalised words beyond the first ("Ryanair", "UEFA");
    - ``identifiers``: its numbers and words with digits ("15", "B-52"), which the answer's sentence
      must name too;
    - ``settings``: names it is set in ("in Wantage"); ``owned``: a name's thing ("Ryanair's chief");
      ``numbered``: an ordinal's thing ("fourth round");
    - ``latest``: it asks for the current state ("now", "latest"); ``asks_who``: it asks who;
    - ``key_words``: its content words as written, each once ("Russia", "MK-20"); ``refers_back``:
      it holds a pronoun ("When did they stop?").
    """

    text: str
    kind: AnswerType | None
    asking: str
    terms: tuple[str, ...]
    focus: frozenset[str]
    names: tuple[str, ...]
    identifiers: frozenset[str]
    settings: tuple[str, ...]
    owned: tuple[tuple[str, str], ...]
    numbered: tuple[tuple[str, str], ...]
    latest: bool
    asks_who: bool
    key_words: tuple[str, ...]
    refers_back: bool

    @cached_property
    def own_words(self) -> set[str]:
        """Its words and terms: a fact made of these alone is one the question already states."""
        return set(self.terms) | set(words(self.text))

    @cached_property
    def numbers(self) -> set[str]:
        """The numbers written in it ("1,000" is "1000")."""
        return numbers(self.text)


@lru_cache(maxsize=1024)  # quote choice, the answer model and the timeline read the same question
def parse_question(text: str) -> Question:
    """Parse ``text`` once into a :class:`Question`."""
    kind = asked_type(text)
    phrase = kind.asks.search(text) if kind else None
    asking = phrase.group() if phrase else ""
    all_terms = tuple(terms(text))
    return Question(
        text=text, kind=kind, asking=asking, terms=all_terms,
        focus=frozenset(all_terms) - frozenset(terms(" ".join([asking, *_LATEST.findall(text)]))),
        names=tuple(dict.fromkeys(_NAME.findall(text.strip()))),
        identifiers=frozenset(match.lower() for match in _IDENTIFIER.findall(text)),
        settings=tuple(_SETTING.findall(text)), owned=tuple(_OWNED.findall(text)),
        numbered=tuple(_NUMBERED.findall(text)),
        latest=bool(_LATEST.search(text)), asks_who=bool(_WHO.search(text)),
        key_words=_key_words(text), refers_back=any(word.casefold() in PRONOUNS for word in _WORD.findall(text)),
    )


def _key_words(text: str) -> tuple[str, ...]:
    """The content words of ``text`` as written, in order, each once (case aside)."""
    seen: dict[str, str] = {}
    for word in _WORD.findall(text):
        if len(word) > 1 and word.casefold() not in _NOT_KEY:
            seen.setdefault(word.casefold(), word)
    return tuple(seen.values())
