"""The signals the answer model reads: named features of each candidate sentence, and of a question's best answer.

Each signal is written to hold for any question of its form, never for one question; which ones
earn their place, and their weights, is decided by fitting (``qa.evaluation.fit``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from functools import lru_cache

import numpy as np

from qa.answer.question import Question
from qa.answer.question_kinds import MEASURABLE, ORDINAL_WORDS, fact_surroundings, facts, named_beside
from qa.results import Hit, ScoredSentence
from qa.text.sentences import iter_sentences
from qa.text.words import REFERS_BACK, letters_and_digits, numbers, terms, words

SENTENCE_FEATURES = (
    "similarity", "similarity_gap", "passage_score", "passage_score_gap", "passage_rank",
    "focus_overlap", "rarest_present",
    "fact", "unique_fact", "fact_beside", "named_role", "fact_measurable", "fact_named",
    "identifiers_missing", "names_missing", "opening", "position", "length", "refers_back", "quoted",
)
"""What a candidate sentence is described by (:func:`sentence_matrix` says what each is)."""
ANSWER_FEATURES = (
    "ranker", "ranker_gap", "best_similarity", "similarity", "focus_overlap", "rarest_present",
    "fact", "passage_score", "phrases", "missing_numbers", "lacks_fact", "other_subject", "fact_apart",
    "identifiers_missing", "names_missing", "focus_in_document", "kind_measurable", "kind_named", "kind_none",
)
"""What a question's best candidate is described by, for the answerability model (:func:`answer_vector`)."""
EVIDENCE = frozenset({"ranker", "ranker_gap", "best_similarity", "similarity", "focus_overlap",
                      "rarest_present", "fact", "passage_score", "phrases", "focus_in_document"})
"""Answer features that can only speak for an answer: their weights are fitted at 0 or more, so
that no quirk of how the training questions were written (unanswerable ones worded closer to the
text, say) teaches the model that a closer match means "not found"."""
COUNTER_EVIDENCE = frozenset({"missing_numbers", "lacks_fact", "other_subject", "fact_apart",
                              "identifiers_missing", "names_missing"})
"""Answer features that can only speak against an answer: their weights are fitted at 0 or less."""

NAMED_KINDS = frozenset({"person", "place", "name"})
FACT_APART_WORDS = 10
"""How near a fact of the asked kind must stand to one of the question's own words, in words."""
STEM_LETTERS = 6
"""Words are matched on at most this many first letters (:func:`verb_stem`)."""
OPENING_CHARS = 600
"""A document's opening sentence is looked for in this many of its first characters."""
_QUOTED = re.compile(r"[\"“”]")


def sentence_matrix(question: Question, sentences: Sequence[tuple[Hit, int, ScoredSentence]], texts: Sequence[str],
                    documents: Sequence[str]) -> np.ndarray:
    """One row of :data:`SENTENCE_FEATURES` per candidate sentence: (its passage, the passage's
    rank, the sentence) with its text and its document's text.

    - similarity, passage_score: its cosine to the question and its passage's retrieval score;
      passage_rank: the passage's place among the top passages (0 to 1); the ``_gap`` features
      are each less the best among the question's candidates;
    - focus_overlap: the share of the question's focus terms beyond its document's subject that
      it holds (a sentence that opens with a pronoun is read with the one before);
      rarest_present: it holds the question's term found in the fewest candidates;
    - fact: it states a fact of the kind asked for that the question does not hold
      (``qa.answer.question_kinds``); unique_fact: one no other candidate states; fact_beside:
      it does not, but the sentence beside it does; named_role: it names someone new right
      beside a question word; fact_measurable, fact_named: fact, for those kinds of question;
    - identifiers_missing, names_missing: shares of the question's numbers and identifiers,
      and of its names, that it lacks;
    - opening: it is its document's first sentence; position: where in the document it starts
      (0 to 1); length: log of its words; refers_back: it opens with a pronoun; quoted: it holds
      quotation marks.

    The word overlap of earlier versions (rarity-weighted, with and without the subject's words,
    and word pairs) and the sentence's own other-subject and figure-apart signals were left out:
    cross-validation showed them earning no place beside these (benchmarks/fit_ablation.py).
    """
    kind = question.kind
    texts_terms = [terms(text) for text in texts]
    rarity = rarity_weights(texts_terms)
    stated = [facts(kind, text, question.own_words) if kind else set() for text in texts]
    told = Counter(fact for found in stated for fact in found)
    rarest = _rarest(question.terms, texts_terms, rarity)
    measurable = kind is not None and kind.name in MEASURABLE
    named = kind is not None and kind.name in NAMED_KINDS
    rows = []
    for i, ((hit, rank, sentence), text) in enumerate(zip(sentences, texts)):
        same_before = i > 0 and sentences[i - 1][0] is hit
        same_after = i + 1 < len(sentences) and sentences[i + 1][0] is hit
        wording = texts_terms[i - 1] + texts_terms[i] if same_before and REFERS_BACK.match(text) else texts_terms[i]
        subject = subject_terms(hit.title, documents[i])
        forms = {verb_stem(term) for term in wording}
        focus = [term for term in question.focus if term not in subject]
        fact = 1.0 if stated[i] else 0.0
        beside = (same_before and bool(stated[i - 1])) or (same_after and bool(stated[i + 1]))
        rows.append([
            sentence.similarity, 0.0, hit.score, 0.0, rank / 4,
            sum(verb_stem(term) in forms for term in focus) / len(focus) if focus else 0.0,
            1.0 if rarest and verb_stem(rarest) in forms else 0.0,
            fact, 1.0 if any(told[f] == 1 for f in stated[i]) else 0.0, 1.0 if beside and not fact else 0.0,
            1.0 if kind and stated[i] and named_beside(kind, text, question.own_words, set(question.terms)) else 0.0,
            fact * measurable, fact * named,
            _share_missing(question.identifiers, set(words(text))),
            _share_missing_names(question.names, text),
            1.0 if _is_opening(documents[i], hit.title, sentence.start) else 0.0,
            sentence.start / max(len(documents[i]), 1),
            math.log1p(len(text.split())),
            1.0 if REFERS_BACK.match(text) else 0.0,
            1.0 if _QUOTED.search(text) else 0.0,
        ])
    matrix = np.array(rows, dtype=np.float64).reshape(len(rows), len(SENTENCE_FEATURES))
    for column in ("similarity", "passage_score"):
        j = SENTENCE_FEATURES.index(column)
        matrix[:, j + 1] = matrix[:, j] - matrix[:, j].max(initial=0.0)
    return matrix


def answer_vector(question: Question, rows: np.ndarray, ranker_scores: np.ndarray, best: int, quote: str,
                  passage: str, document: str, title: str) -> np.ndarray:
    """The :data:`ANSWER_FEATURES` of the question's best candidate (row ``best`` of ``rows``, the
    :func:`sentence_matrix`), quoted as ``quote`` from ``passage`` of ``document``.

    ranker, ranker_gap: the log-odds of the best candidate's probability of holding the answer
    (``ranker_scores``), and its lead over the second's; best_similarity:
    the best cosine of any candidate; phrases, missing_numbers: the share of the question's word
    pairs the passage holds and of its numbers it lacks; lacks_fact: the question asks for a
    measurable fact the quote lacks; other_subject: the quote tells of another subject
    (:func:`tells_of_another`); focus_in_document: the share of the question's focus terms its
    document holds; kind_*: the kind of fact asked for; the rest as in :func:`sentence_matrix`.
    """
    row = dict(zip(SENTENCE_FEATURES, rows[best]))
    probabilities = np.clip(np.sort(ranker_scores)[::-1], 1e-6, 1 - 1e-6)
    ordered = np.log(probabilities / (1 - probabilities))
    kind = question.kind
    subject = subject_terms(title, document)
    forms = _forms(title, document)
    focus = [term for term in question.focus if term not in subject] or list(question.focus)
    return np.array([
        ordered[0], ordered[0] - ordered[1] if len(ordered) > 1 else 1.0,
        rows[:, SENTENCE_FEATURES.index("similarity")].max(),
        row["similarity"], row["focus_overlap"], row["rarest_present"], row["fact"],
        row["passage_score"], phrase_overlap(question, passage) or 0.0, missing_numbers(question, passage),
        1.0 if lacks_asked_fact(question, quote) else 0.0,
        1.0 if tells_of_another(question, quote, title + "\n" + document) else 0.0,
        1.0 if fact_stands_apart(question, quote, subject) else 0.0,
        _share_missing(question.identifiers, set(words(quote))),
        _share_missing_names(question.names, quote),
        sum(verb_stem(term) in forms for term in focus) / len(focus) if focus else 1.0,
        1.0 if kind and kind.name in MEASURABLE else 0.0,
        1.0 if kind and kind.name in NAMED_KINDS else 0.0,
        1.0 if kind is None else 0.0,
    ], dtype=np.float64)


@lru_cache(maxsize=1 << 16)
def verb_stem(term: str) -> str:
    """``term`` (``qa.text.words.terms``) as quoting matches it: without an -ed or -ing ending that
    leaves four letters or more ("played" finds "play"), and a longer word by its first
    ``STEM_LETTERS`` letters ("evacuation" finds "evacuated"). Quoting only: BM25 keeps the forms apart."""
    for ending in ("ing", "ed"):
        if term.endswith(ending) and len(term) - len(ending) >= 4:
            term = term[: -len(ending)]
            break
    return term[:STEM_LETTERS] if term.isalpha() else term


def subject_terms(title: str, document: str) -> frozenset[str]:
    """The terms of a document's title and of its opening sentence (the first that is not the
    title): its subject, which the document's sentences keep repeating."""
    return _opening(title, document[:OPENING_CHARS])[1]


@lru_cache(maxsize=4096)  # the same documents come up question after question
def _opening(title: str, opening: str) -> tuple[frozenset[int], frozenset[str]]:
    """Where the document's title line(s) and first sentence start, and its subject terms."""
    starts = set()
    for span in iter_sentences(opening):
        starts.add(span.start)
        sentence = opening[span.start : span.end]
        if sentence.strip() != title.strip():
            return frozenset(starts), frozenset(set(terms(title)).union(terms(sentence)))
    return frozenset(starts), frozenset(terms(title))


@lru_cache(maxsize=256)
def _forms(title: str, document: str) -> frozenset[str]:
    """The word forms (:func:`verb_stem`) of a document and its title, read once per document."""
    return frozenset(verb_stem(term) for term in terms(title + "\n" + document))


def rarity_weights(texts_terms: Sequence[Sequence[str]]) -> Callable[[str], float]:
    """An IDF-like weight over texts (given as their terms): terms found in fewer of them count more."""
    frequency: dict[str, int] = {}
    for text_terms in texts_terms:
        for term in set(text_terms):
            frequency[term] = frequency.get(term, 0) + 1
    n = len(texts_terms)
    return lambda term: math.log(1 + (n + 1) / (frequency.get(term, 0) + 0.5))


def tells_of_another(question: Question, quote: str, document: str) -> bool:
    """Whether ``quote`` tells of another subject than the question's: ``document`` (the quote's,
    with its title) never names the place or occasion the question is set in ("in Wantage"), the
    quote gives another name's or number's thing (:func:`gives_anothers`), or it sets the
    measurable fact asked for in another named place ("50,000 staff in Kazakhstan" for "How many
    staff ... in Romania?")."""
    settings = question.settings
    if any(not names(document, setting) for setting in settings) or gives_anothers(question, quote):
        return True
    kind = question.kind
    return bool(settings and kind and kind.name in MEASURABLE and any(
        not any(names(setting, place) for setting in settings) for place in _NUMBER_SET_IN.findall(quote)))


_NUMBER_SET_IN = re.compile(r"\d[\d,.]*(?: [a-z]+){0,2} (?:in|at) (?:the )?([A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*)")
"""A number set in a named place: "50,000 staff in Kazakhstan"."""


def gives_anothers(question: Question, quote: str) -> bool:
    """Whether ``quote`` gives another name's or another number's thing than the question asks
    about, and never names the question's ("ATR's chief executive" for "Ryanair's chief
    executive", "the third round" for "the fourth round")."""
    for owner, thing in question.owned:
        if re.search(rf"\b[A-Z][\w-]*['’]s? {re.escape(thing)}\b", quote) and not names(quote, owner):
            return True
    for number, thing in question.numbered:
        if (re.search(rf"\b(?:{ORDINAL_WORDS}) {re.escape(thing)}\b", quote, re.IGNORECASE)
                and not re.search(rf"\b{number}\b", quote, re.IGNORECASE)):
            return True
    return False


def names(text: str, name: str) -> bool:
    """Whether ``text`` names ``name``: a capitalised word of ``text`` begins as one of its words
    does (their first four letters: "Britain" names "British"; a shorter word whole: "UK"), or
    capitalised words of ``text`` begin with the letters of one in capitals ("SP": "Scottish
    Parliament")."""
    for word in letters_and_digits(name):
        end = "" if len(word) >= 4 else r"\b"
        if word[0].isalpha() and re.search(rf"\b{re.escape(word[0].upper())}(?i:{re.escape(word[1:4])}){end}", text):
            return True
        if word.isalpha() and word.isupper() and re.search(r"\b" + r"\w*\s+".join(word), text):
            return True
    return False


def lacks_asked_fact(question: Question, quote: str) -> bool:
    """Whether the question asks for a measurable kind of fact (a sum, a share, an age, a span of
    time, a measure, a time of day, a score, a count) that ``quote`` does not state. Names,
    places, dates and reasons take too many forms to be sure one is absent."""
    kind = question.kind
    return kind is not None and kind.name in MEASURABLE and not facts(kind, quote, question.own_words)


def fact_stands_apart(question: Question, quote: str, subject: Collection[str]) -> bool:
    """Whether the question asks for a measurable kind of fact and each one ``quote`` states stands
    more than ``FACT_APART_WORDS`` words from every word of the question beyond its asking phrase
    and its document's ``subject``: such a figure is most often one of a neighbouring event ("the
    hall seats 2,000", for "How many people came to the concert?")."""
    kind = question.kind
    if kind is None or kind.name not in MEASURABLE:
        return False
    asking = {verb_stem(term) for term in question.focus} - {verb_stem(term) for term in subject}
    around = list(fact_surroundings(kind, quote, question.own_words, FACT_APART_WORDS))
    return bool(asking and around) and not any(asking.intersection(map(verb_stem, terms(text))) for text in around)


def phrase_overlap(question: Question, text: str) -> float | None:
    """Share of the question's pairs of adjacent terms that are adjacent in ``text`` too; None
    when the question has fewer than two terms."""
    wanted = set(itertools.pairwise(question.terms))
    return len(wanted & set(itertools.pairwise(terms(text)))) / len(wanted) if wanted else None


def missing_numbers(question: Question, text: str) -> float:
    """Share of the question's numbers ("1,000" = "1000") that ``text`` does not hold; 0.0 without any."""
    wanted = question.numbers
    return len(wanted - numbers(text)) / len(wanted) if wanted else 0.0


def _share_missing(wanted: Collection[str], present: Collection[str]) -> float:
    return sum(item not in present for item in wanted) / len(wanted) if wanted else 0.0


def _share_missing_names(wanted: Sequence[str], text: str) -> float:
    return sum(not names(text, name) for name in wanted) / len(wanted) if wanted else 0.0


def _rarest(wanted: Sequence[str], texts_terms: Sequence[Sequence[str]], rarity: Callable[[str], float]) -> str | None:
    """The question's term found in the fewest candidate sentences (but in one at least)."""
    found = {verb_stem(term) for text in texts_terms for term in text}
    present = [term for term in wanted if verb_stem(term) in found]
    return max(present, key=rarity) if present else None


def _is_opening(document: str, title: str, start: int) -> bool:
    """Whether the sentence at ``start`` is the document's first sentence (or its title line)."""
    return start in _opening(title, document[:OPENING_CHARS])[0]
