"""Follow-up questions without a language model.

A question that leans on the previous turn ("What about Russia?", "When did they stop making
it?") is searched together with the previous search's key terms, and the page shows what was
searched so the person can see it and ask the whole question instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CARRIED = 6
"""At most this many terms are carried over from the previous turn."""

_OPENERS = ("what about", "how about", "what of", "and ", "same for")
_PRONOUNS = frozenset("it its they them their theirs this that these those he him his she her hers there".split())
_STOPWORDS = _PRONOUNS | frozenset(
    """a an the and or but of to in on at by for with from as about into over than then so if
    what who whom whose which when where why how is are was were be been being do does did done
    have has had can could will would shall should may might must not no yes any some more most
    much many also just only very we us our you your i me my here tell please know say said""".split()
)
_WORD = re.compile(r"\w[\w-]*")


@dataclass(frozen=True)
class Interpretation:
    """How a question was understood: ``query`` is what gets searched."""

    question: str
    query: str
    carried: tuple[str, ...] = ()

    @property
    def is_followup(self) -> bool:
        """True when terms from the previous turn were added to the question."""
        return bool(self.carried)


def key_terms(text: str) -> list[str]:
    """The content words of ``text`` in order, without repeats (case-insensitive)."""
    seen: set[str] = set()
    terms = []
    for word in _WORD.findall(text):
        folded = word.casefold()
        if len(word) > 1 and folded not in _STOPWORDS and folded not in seen:
            seen.add(folded)
            terms.append(word)
    return terms


def _is_name(term: str) -> bool:
    """Capitalised terms (Russia, NATO, MK-20) are taken for names of things."""
    return term[:1].isupper()


def _substitutes(question: str) -> bool:
    """True for "What about X?"-style questions, which swap the previous subject for X."""
    return question.casefold().startswith(_OPENERS)


def leans_on_context(question: str) -> bool:
    """True when ``question`` can't stand alone: it opens like a follow-up, or has almost no
    content words of its own, or refers back with a pronoun and names little else."""
    own_terms = len(key_terms(question))
    refers_back = any(word in _PRONOUNS for word in _WORD.findall(question.casefold()))
    return _substitutes(question) or own_terms <= 1 or (refers_back and own_terms <= 3)


def interpret(question: str, previous: Interpretation | None = None) -> Interpretation:
    """Understand ``question`` in the context of the previous turn.

    Pronoun follow-ups carry everything the previous turn searched for. "What about X?" swaps
    the subject: it carries the previous topic, but not Y of an earlier "What about Y?", and
    when X is a name, not the previous question's names either ("NATO" after "What about Russia?").
    """
    question = question.strip()
    if previous is None or not leans_on_context(question):
        return Interpretation(question, question)
    own_terms = key_terms(question)
    own = {term.casefold() for term in own_terms}
    swaps = _substitutes(question)
    context = list(previous.carried) if swaps and previous.is_followup else key_terms(previous.query)
    if swaps and any(_is_name(term) for term in own_terms):
        context = [term for term in context if not _is_name(term)]
    carried = tuple(t for t in context if t.casefold() not in own)[:MAX_CARRIED]
    if not carried:
        return Interpretation(question, question)
    return Interpretation(question, f"{question} {' '.join(carried)}", carried)


def interpret_history(questions: list[str], question: str) -> Interpretation:
    """Interpret ``question`` after the earlier ``questions`` of a conversation, oldest first."""
    previous = None
    for earlier in questions:
        previous = interpret(earlier, previous)
    return interpret(question, previous)
