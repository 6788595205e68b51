"""Retrieved passages -> the sentences that answer, quoted verbatim, or "not found".

Every sentence of the top passages is a candidate. Its score mixes its own cosine to the
question, the score of the passage it came from, how much of the question's vocabulary it
contains (questions are usually worded like the sentence that answers them; the words of its
document's title and opening sentence, its subject, count for less than the words that
ask), and, for "who", "when" and "how many" questions, whether it holds a name, date or number
that the question does not (a little more for a who-question when the name stands beside one of
the question's words, "race director Ann Kerr"). A neighbouring sentence that scores nearly as
well is quoted with it, and a sentence that opens with a pronoun is quoted with the one before,
which names what it is about. The answer is
"not found" when the confidence (the best quote's score averaged with the best cosine of any
candidate sentence and with the share of the question's phrases found in the quote's passage,
less a little for each number of the question that passage lacks, and less again when the quote
lacks the measurable kind of fact asked for, tells of another subject (another place, another
name's or number's thing) or gives its figures far from the words that ask for them) falls below
a threshold. Every weight is a field of :class:`qa.scoring.Scoring`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from qa.answer.question_kinds import (
    MEASURABLE,
    ORDINAL_WORDS,
    asked_type,
    fact_surroundings,
    facts,
    named_beside,
)
from qa.results import Hit, Quote, ScoredSentence
from qa.scoring import DEFAULT_SCORING, Scoring
from qa.text.sentences import iter_sentences
from qa.text.words import REFERS_BACK, letters_and_digits, numbers, terms, words


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, in document coordinates."""

    hit: Hit
    rank: int
    sentence: ScoredSentence
    following: ScoredSentence | None


def term_overlap(question_terms: Sequence[str], sentence_terms: Iterable[str], weight: Callable[[str], float]) -> float:
    """Weighted share of the question's distinct terms that occur among a sentence's terms (0..1),
    in any of their -ed / -ing forms (:func:`verb_stem`)."""
    wanted = set(question_terms)
    if not wanted:
        return 0.0
    forms = {verb_stem(term) for term in sentence_terms}
    present = {term for term in wanted if verb_stem(term) in forms}
    total = sum(weight(t) for t in wanted)
    return sum(weight(t) for t in present) / total if total else 0.0


@lru_cache(maxsize=1 << 16)
def verb_stem(term: str) -> str:
    """``term`` (``qa.text.words.terms``) without an -ed or -ing ending that leaves four letters or
    more: the question's "played" and "expecting" find "play" and "expected" in a sentence.
    Quoting only: BM25's terms, stored in the index, keep the forms apart."""
    for ending in ("ing", "ed"):
        if term.endswith(ending) and len(term) - len(ending) >= 4:
            return term[: -len(ending)]
    return term


OPENING_CHARS = 600
"""A document's opening sentence is looked for in this many of its first characters."""


def subject_terms(title: str, document: str) -> frozenset[str]:
    """The terms of a document's title and of its opening sentence (the first that is not the
    title): its subject, which the document's sentences keep repeating."""
    return _subject_terms(title, document[:OPENING_CHARS])


@lru_cache(maxsize=4096)  # the same documents come up question after question
def _subject_terms(title: str, opening: str) -> frozenset[str]:
    found = set(terms(title))
    for span in iter_sentences(opening):
        sentence = opening[span.start : span.end]
        if sentence.strip() != title.strip():
            return frozenset(found.union(terms(sentence)))
    return frozenset(found)


def rarity_weights(texts_terms: Sequence[Sequence[str]]) -> Callable[[str], float]:
    """An IDF-like weight over texts (given as their terms): terms found in fewer of them count more."""
    frequency: dict[str, int] = {}
    for text_terms in texts_terms:
        for term in set(text_terms):
            frequency[term] = frequency.get(term, 0) + 1
    n = len(texts_terms)
    return lambda term: math.log(1 + (n + 1) / (frequency.get(term, 0) + 0.5))


@dataclass(frozen=True)
class SentenceFeatures:
    """What a candidate sentence's score is made of.

    - similarity: the sentence's cosine to the question;
    - passage_score: its passage's retrieval score;
    - overlap: rarity-weighted share of the question's words in the sentence, those of its
      document's subject counting less (``subject_weight``; a sentence that opens with a pronoun
      is read with the sentence before it, which names what it is about);
    - answer_type: 1.0 when the question asks for a kind of fact (a sum of money, a date, a name:
      ``qa.answer.question_kinds``) and the sentence holds one that the question does not;
    - named_role: 1.0 when it names a person the who-question does not, right beside one of the
      question's words (``qa.answer.question_kinds.named_beside``).
    """

    similarity: float
    passage_score: float
    overlap: float
    answer_type: float
    named_role: float = 0.0

    def score(self, scoring: Scoring) -> float:
        """The weighted mean of the features, plus ``named_role_weight`` for a named role."""
        weights = (scoring.sentence_weight, scoring.passage_weight, scoring.overlap_weight, scoring.answer_type_weight)
        values = (self.similarity, self.passage_score, self.overlap, self.answer_type)
        mean = sum(w * v for w, v in zip(weights, values)) / sum(weights)
        return mean + scoring.named_role_weight * self.named_role


def sentence_features(question: str, candidates: Sequence[Candidate], texts: Sequence[str],
                      subjects: Sequence[Collection[str]] | None = None,
                      scoring: Scoring = DEFAULT_SCORING) -> list[SentenceFeatures]:
    """The features of each candidate sentence (``texts`` are the sentences' texts).

    ``subjects`` holds the subject terms of each candidate's document (:func:`subject_terms`):
    in its overlap they count ``scoring.subject_weight`` times their rarity, the other words
    their rarity in full.
    """
    texts_terms = [terms(text) for text in texts]
    rarity = rarity_weights(texts_terms)
    wanted = terms(question)
    question_terms = set(wanted)
    question_words = _question_words(question)
    kind = asked_type(question)
    stated = [facts(kind, text, question_words) if kind else set() for text in texts]
    told = Counter(fact for found in stated for fact in found)
    features = []
    for i, (c, text) in enumerate(zip(candidates, texts)):
        same_before = i > 0 and candidates[i - 1].hit is c.hit
        wording = texts_terms[i - 1] + texts_terms[i] if same_before and REFERS_BACK.match(text) else texts_terms[i]
        # A fact of the asked kind that only this sentence tells counts in full; one that runs
        # through the passages (the story's own names and figures) counts for half.
        answer_type = 1.0 if any(told[fact] == 1 for fact in stated[i]) else 0.5 if stated[i] else 0.0
        weight = _discounted(rarity, subjects[i] if subjects else (), scoring.subject_weight)
        named_role = 1.0 if kind and stated[i] and named_beside(kind, text, question_words, question_terms) else 0.0
        overlap = term_overlap(wanted, wording, weight)
        features.append(SentenceFeatures(c.sentence.similarity, c.hit.score, overlap, answer_type, named_role))
    return features


def _discounted(weight: Callable[[str], float], subject: Collection[str], factor: float) -> Callable[[str], float]:
    """``weight``, times ``factor`` for the terms of ``subject``."""
    return lambda term: weight(term) * (factor if term in subject else 1.0)


def answer_confidence(question: str, quotes: Sequence[Quote], ranked: Sequence[tuple[Hit, Sequence[ScoredSentence]]],
                      scoring: Scoring = DEFAULT_SCORING, document_text: Callable[[str], str] | None = None) -> float:
    """How surely the documents answer, 0..1; 0.0 without quotes.

    The best quote's score averaged (by ``best_similarity_weight``) with the best cosine of a
    sentence of the passages quotes are drawn from, then averaged (by ``phrases_weight``) with the
    share of the question's phrases found in the passage that holds the best quote, less
    ``missing_numbers_weight`` times the share of the question's numbers that this passage lacks,
    less ``missing_fact_weight`` when the quote lacks the kind of fact the question asks for
    (:func:`lacks_asked_fact`), less ``other_subject_weight`` when the quote tells of another
    subject than the question's (:func:`tells_of_another`), and less ``fact_apart_weight`` when
    each fact of the measurable kind asked for stands apart from the question's words
    (:func:`fact_stands_apart`). These last two read the quote's document with ``document_text``,
    given a source.
    """
    if not quotes:
        return 0.0
    best = max((s.similarity for _, sentences in ranked[: scoring.quote_passages] for s in sentences), default=0.0)
    weight = scoring.best_similarity_weight
    confidence = (quotes[0].score + weight * best) / (1 + weight)
    passage = quote_passage(quotes[0], [hit for hit, _ in ranked])
    text = passage.text if passage else quotes[0].text
    phrases = phrase_overlap(question, text)
    if phrases is not None:  # a one-word question has no phrases to find
        confidence = (confidence + scoring.phrases_weight * phrases) / (1 + scoring.phrases_weight)
    confidence -= scoring.missing_numbers_weight * missing_numbers(question, text)
    if lacks_asked_fact(question, quotes[0].text):
        confidence -= scoring.missing_fact_weight
    if document_text:
        document = document_text(quotes[0].source)
        if tells_of_another(question, quotes[0].text, quotes[0].title + "\n" + document):
            confidence -= scoring.other_subject_weight
        if fact_stands_apart(question, quotes[0].text, subject_terms(quotes[0].title, document),
                             scoring.fact_apart_words):
            confidence -= scoring.fact_apart_weight
    return max(0.0, confidence)


_SETTING = re.compile(r"\b(?:in|at) (?:the )?([A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*)")
"""Where a question is set: a name after "in" or "at" ("in San Sebastian", "at the Open")."""
_OWNED = re.compile(r"\b([A-Z][\w-]*)['’]s? ([a-z][\w-]*)")
"""A name's thing: "Ryanair's chief (executive)"."""
_NUMBERED = re.compile(rf"\b({ORDINAL_WORDS}) ([a-z][\w-]*)", re.IGNORECASE)
"""A numbered thing: "the fourth round"."""
_NUMBER_SET_IN = re.compile(r"\d[\d,.]*(?: [a-z]+){0,2} (?:in|at) (?:the )?([A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*)")
"""A number set in a named place: "50,000 staff in Kazakhstan"."""


def tells_of_another(question: str, quote: str, document: str) -> bool:
    """Whether the best quote tells of another subject than the question's: ``document`` (the
    quote's, with its title) never names the place or occasion the question is set in ("in
    Wantage"), the quote gives another name's thing ("ATR's chief executive" for "Ryanair's chief
    executive", "the third round" for "the fourth round": :func:`_gives_anothers`), or it sets the
    measurable fact asked for in another named place ("50,000 staff in Kazakhstan" for "How many
    staff ... in Romania?")."""
    settings = _SETTING.findall(question)
    if any(not _names(document, setting) for setting in settings) or _gives_anothers(question, quote):
        return True
    kind = asked_type(question)
    return bool(settings and kind and kind.name in MEASURABLE and any(
        not any(_names(setting, place) for setting in settings) for place in _NUMBER_SET_IN.findall(quote)))


def _gives_anothers(question: str, quote: str) -> bool:
    """Whether ``quote`` gives another name's or another number's thing than the question asks
    about, and never names the question's ("ATR's chief executive" for "Ryanair's chief
    executive", "the third round" for "the fourth round")."""
    for owner, thing in _OWNED.findall(question):
        if re.search(rf"\b[A-Z][\w-]*['’]s? {re.escape(thing)}\b", quote) and not _names(quote, owner):
            return True
    for number, thing in _NUMBERED.findall(question):
        if (re.search(rf"\b(?:{ORDINAL_WORDS}) {re.escape(thing)}\b", quote, re.IGNORECASE)
                and not re.search(rf"\b{number}\b", quote, re.IGNORECASE)):
            return True
    return False


def _names(text: str, name: str) -> bool:
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


def lacks_asked_fact(question: str, quote: str) -> bool:
    """Whether the question asks for a measurable kind of fact (a sum, a share, an age, a span of
    time, a measure, a time of day, a score, a count) that ``quote`` does not state: then no sentence
    about the question's subject holds it, since the quote takes in the sentence beside it that
    does. Names, places, dates and reasons take too many forms to be sure one is absent."""
    kind = asked_type(question)
    if kind is None or kind.name not in MEASURABLE:
        return False
    return not facts(kind, quote, _question_words(question))


def fact_stands_apart(question: str, quote: str, subject: Collection[str], words_each_side: int) -> bool:
    """Whether the question asks for a measurable kind of fact and each one ``quote`` states stands
    more than ``words_each_side`` words from every word of the question beyond its asking phrase
    ("how many") and its document's subject (``subject``: :func:`subject_terms`). The answer
    stands among the words that ask for it ("2,000 people came to the concert"); a figure far from
    them is most often one of a neighbouring event ("the hall seats 2,000", for "How many people
    came to the concert?")."""
    kind = asked_type(question)
    if kind is None or kind.name not in MEASURABLE:
        return False
    phrase = kind.asks.search(question)
    ignored = [*subject, *terms(phrase.group() if phrase else "")]
    asking = {verb_stem(term) for term in terms(question)} - {verb_stem(term) for term in ignored}
    around = list(fact_surroundings(kind, quote, _question_words(question), words_each_side))
    return bool(asking and around) and not any(asking.intersection(map(verb_stem, terms(text))) for text in around)


def _question_words(question: str) -> set[str]:
    """The question's words and terms: a fact made of these alone is one the question already states."""
    return set(terms(question)) | set(words(question))


def quote_passage(quote: Quote, hits: Sequence[Hit]) -> Hit | None:
    """The first of ``hits`` that holds all of ``quote``."""
    return next((hit for hit in hits if hit.holds(quote)), None)


def phrase_overlap(question: str, text: str) -> float | None:
    """Share of the question's pairs of adjacent terms (``qa.text.words.terms``) that are adjacent in
    ``text`` too; None when the question has fewer than two terms."""
    wanted = _pairs(terms(question))
    return len(wanted & _pairs(terms(text))) / len(wanted) if wanted else None


def _pairs(words: Sequence[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(words))


def missing_numbers(question: str, text: str) -> float:
    """Share of the numbers in ``question`` (years, counts; "1,000" = "1000") that ``text`` does
    not hold; 0.0 when the question has none."""
    wanted = numbers(question)
    return len(wanted - numbers(text)) / len(wanted) if wanted else 0.0


def choose_quotes(
    question: str,
    ranked: Sequence[tuple[Hit, Sequence[ScoredSentence]]],
    document_text: Callable[[str], str],
    scoring: Scoring = DEFAULT_SCORING,
) -> list[Quote]:
    """The best quotes from the top passages, best first, each scored (no threshold applied)."""
    candidates, texts = [], []
    for candidate in _candidates(ranked[: scoring.quote_passages]):
        document = document_text(candidate.hit.source)
        text = document[candidate.sentence.start : candidate.sentence.end]
        # A headline is in every citation as the title: quoting it says nothing (unless it is all there is).
        if text.strip() != candidate.hit.title.strip() or not document[candidate.sentence.end :].strip():
            candidates.append(candidate)
            texts.append(text)
    if not candidates:
        return []
    documents = {(c.hit.source, c.hit.title) for c in candidates}
    subject = {source: subject_terms(title, document_text(source)) for source, title in documents}
    features = sentence_features(question, candidates, texts, [subject[c.hit.source] for c in candidates], scoring)
    scores = [f.score(scoring) for f in features]
    tells = [f.answer_type == 1.0 for f in features] if scoring.complete_with_fact else [True] * len(features)
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    best = scores[order[0]]
    quotes: list[Quote] = []
    for i in order:
        if len(quotes) == scoring.max_quotes or scores[i] < best - scoring.quote_margin:
            break
        first, last = _with_fact(candidates, tells, scores, *_with_neighbour(candidates, texts, scores, i, scoring))
        quote = _quote(candidates[first], scores[i], document_text(candidates[i].hit.source), candidates[last],
                       scoring.short_sentence_words)
        if not any(q.source == quote.source and q.start < quote.end and quote.start < q.end for q in quotes):
            quotes.append(quote)
    return quotes


def _with_neighbour(candidates: Sequence[Candidate], texts: Sequence[str], scores: Sequence[float],
                    i: int, scoring: Scoring) -> tuple[int, int]:
    """The candidate range to quote for candidate ``i``: it, and its better neighbour if that scores close.

    A sentence that opens with a pronoun is quoted with the one before it (``quote_antecedent``),
    which names what the pronoun stands for; its words were scored with it anyway, so that one's
    closeness is no evidence of its own: only the sentence after is considered otherwise.
    """
    def beside(j: int) -> bool:
        return 0 <= j < len(candidates) and candidates[j].hit is candidates[i].hit

    refers_back = REFERS_BACK.match(texts[i])
    if refers_back and scoring.quote_antecedent and beside(i - 1):
        return i - 1, i
    sides = (i + 1,) if refers_back else (i - 1, i + 1)
    same = [j for j in sides if beside(j) and scores[j] >= scores[i] - scoring.neighbour_margin]
    if not same:
        return i, i
    j = max(same, key=lambda j: scores[j])
    return min(i, j), max(i, j)


def _with_fact(candidates: Sequence[Candidate], tells: Sequence[bool], scores: Sequence[float], first: int,
               last: int) -> tuple[int, int]:
    """The range ``first..last``, with the sentence just before or after it when the range does not
    tell the kind of fact the question asks for and that sentence does (``tells``): the sentence
    worded most like the question is often the one beside the answer."""
    if any(tells[first : last + 1]) or last - first >= 2:
        return first, last
    hit = candidates[first].hit
    telling = [j for j in (first - 1, last + 1) if 0 <= j < len(candidates) and candidates[j].hit is hit and tells[j]]
    if not telling:
        return first, last
    j = max(telling, key=lambda j: scores[j])
    return min(first, j), max(last, j)


def _candidates(ranked: Sequence[tuple[Hit, Sequence[ScoredSentence]]]) -> list[Candidate]:
    seen: set[tuple[str, int]] = set()
    candidates = []
    for rank, (hit, sentences) in enumerate(ranked):
        for i, sentence in enumerate(sentences):
            if (hit.source, sentence.start) not in seen:
                seen.add((hit.source, sentence.start))
                following = sentences[i + 1] if i + 1 < len(sentences) else None
                candidates.append(Candidate(hit, rank, sentence, following))
    return candidates


def _quote(candidate: Candidate, score: float, text: str, last: Candidate, short_words: int) -> Quote:
    """Quote the candidate sentences through ``last``, with the next one when ``last`` is too short to stand alone."""
    start, end = candidate.sentence.start, last.sentence.end
    sentence = text[last.sentence.start : end]
    if last.following and (len(sentence.split()) < short_words or sentence.endswith(":")):
        end = last.following.end
    hit = candidate.hit
    return Quote(text[start:end], hit.source, hit.title, hit.page, start, end, round(score, 4), date=hit.date,
                 author=hit.author, url=hit.url, page_label=hit.page_label)
