"""Follow-up questions without a language model.

A question that leans on the previous turn ("What about Russia?", "When did they stop making
it?") is searched together with the previous search's key terms, and the page shows what was
searched so the person can see it and ask the whole question instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa import parse_question

MAX_CARRIED = 6
"""At most this many terms are carried over from the previous turn."""

_OPENERS = ("what about", "how about", "what of", "and ", "same for")


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
    return list(parse_question(text).key_words)


def _is_name(term: str) -> bool:
    """Capitalised terms (Russia, NATO, MK-20) are taken for names of things."""
    return term[:1].isupper()


def _substitutes(question: str) -> bool:
    """True for "What about X?"-style questions, which swap the previous subject for X."""
    return question.casefold().startswith(_OPENERS)


def leans_on_context(question: str) -> bool:
    """True when ``question`` can't stand alone: it opens like a follow-up, or has almost no
    content words of its own, or refers back with a pronoun and names little else."""
    parsed = parse_question(question)
    own_terms = len(parsed.key_words)
    return _substitutes(question) or own_terms <= 1 or (parsed.refers_back and own_terms <= 3)


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
