"""Retrieved passages -> the sentences that answer, quoted verbatim, and how surely they answer.

Every sentence of the top passages is a candidate (a headline, already the citation's title, and
a heading, when a body sentence is there, are not). The answer model (``qa.answer.model``) ranks
them on their features (``qa.answer.features``); a quote takes in the sentence beside it when the
model rates that one nearly as likely, when the quote opens with a pronoun (the sentence before
names what it is about), and when the quote lacks the kind of fact asked for that the sentence
beside it tells. The answer model's answerability, from the best candidate's features, is the
answer's confidence: below its threshold the documents do not answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.answer.features import SENTENCE_FEATURES, answer_vector, sentence_matrix
from qa.answer.model import QuoteScorer
from qa.answer.question import Question
from qa.answer.timeline import near_best
from qa.results import Hit, Quote, ScoredSentence
from qa.scoring import DEFAULT_SCORING, Scoring
from qa.text.words import REFERS_BACK

_SENTENCE_END = re.compile(r"[.!?…:;\"'”’)\]]\s*$")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, in document coordinates."""

    hit: Hit
    rank: int
    sentence: ScoredSentence
    following: ScoredSentence | None


@dataclass(frozen=True)
class Candidates:
    """A question's candidate sentences with their texts, their documents' texts and their features."""

    question: Question
    items: list[Candidate]
    texts: list[str]
    documents: list[str]
    features: np.ndarray


@dataclass(frozen=True)
class Choice:
    """The quotes chosen for a question, best first, and every candidate's probability of holding the answer."""

    candidates: Candidates
    scores: np.ndarray
    quotes: list[Quote]


def candidate_sentences(question: Question, ranked: Sequence[tuple[Hit, Sequence[ScoredSentence]]],
                        document_text: Callable[[str], str], passages: int = DEFAULT_SCORING.quote_passages
                        ) -> Candidates:
    """The sentences of the best ``passages`` passages that may be quoted, with their features."""
    items, texts, documents = [], [], []
    for candidate in _candidates(ranked[:passages]):
        document = document_text(candidate.hit.source)
        text = document[candidate.sentence.start : candidate.sentence.end]
        # A headline is in every citation as the title: quoting it says nothing (unless it is all there is).
        if text.strip() != candidate.hit.title.strip() or not document[candidate.sentence.end :].strip():
            items.append(candidate)
            texts.append(text)
            documents.append(document)
    body = [i for i, (c, text) in enumerate(zip(items, texts)) if not is_heading(text, documents[i], c.sentence)]
    if body and len(body) < len(items):
        items, texts, documents = [items[i] for i in body], [texts[i] for i in body], [documents[i] for i in body]
    features = sentence_matrix(question, [(c.hit, c.rank, c.sentence) for c in items], texts, documents)
    return Candidates(question, items, texts, documents, features)


def is_heading(text: str, document: str, sentence: ScoredSentence) -> bool:
    """Whether a sentence is a heading, a caption or a label: a line of its own, of at most 12
    words, with no sentence-ending punctuation. It is context, never the answer."""
    alone = (sentence.start == 0 or document[sentence.start - 1] == "\n") and (
        sentence.end == len(document) or document[sentence.end : sentence.end + 1] in ("\n", ""))
    return alone and len(text.split()) <= 12 and not _SENTENCE_END.search(text)


def choose_quotes(candidates: Candidates, scorer: QuoteScorer, scoring: Scoring = DEFAULT_SCORING) -> Choice:
    """The best quotes among ``candidates`` by ``scorer``, best first, each scored with the
    ranker's probability that it holds the answer (no threshold applied)."""
    if not candidates.items:
        return Choice(candidates, np.zeros(0), [])
    scores = scorer.rank(candidates.features)
    chances = scores.tolist()
    items, texts = candidates.items, candidates.texts
    column = SENTENCE_FEATURES.index("unique_fact")
    tells = [bool(row[column]) for row in candidates.features]
    order = sorted(range(len(items)), key=lambda i: -chances[i])
    best = chances[order[0]]
    quotes: list[Quote] = []
    for i in order:
        if len(quotes) == scoring.max_quotes or not near_best(chances[i], best, scoring.quote_margin):
            break
        first, last = _with_fact(items, tells, chances,
                                 *_with_neighbour(items, texts, chances, i, scorer.neighbour_margin))
        quote = _quote(items[first], chances[i], candidates.documents[i], items[last], scoring.short_sentence_words)
        if not any(q.source == quote.source and q.start < quote.end and quote.start < q.end for q in quotes):
            quotes.append(quote)
    return Choice(candidates, scores, quotes)


def answer_confidence(choice: Choice, hits: Sequence[Hit], scorer: QuoteScorer) -> float:
    """The probability that the documents answer the question, by ``scorer``'s answerability
    model on the best quote's features; 0.0 without quotes."""
    vector = answer_features(choice, hits)
    return 0.0 if vector is None else scorer.answerable(vector)


def answer_features(choice: Choice, hits: Sequence[Hit]) -> np.ndarray | None:
    """The ``ANSWER_FEATURES`` of the best quote (from its passage among ``hits``); None without quotes."""
    if not choice.quotes:
        return None
    candidates, quote = choice.candidates, choice.quotes[0]
    best = int(np.argmax(choice.scores))
    passage = quote_passage(quote, hits)
    return answer_vector(candidates.question, candidates.features, choice.scores, best, quote.text,
                         passage.text if passage else quote.text, candidates.documents[best], quote.title)


def quote_passage(quote: Quote, hits: Sequence[Hit]) -> Hit | None:
    """The first of ``hits`` that holds all of ``quote``."""
    return next((hit for hit in hits if hit.holds(quote)), None)


def _with_neighbour(candidates: Sequence[Candidate], texts: Sequence[str], scores: Sequence[float],
                    i: int, margin: float) -> tuple[int, int]:
    """The candidate range to quote for candidate ``i``: it, and its better neighbour if that
    scores within ``margin`` of it.

    A sentence that opens with a pronoun is quoted with the one before it,
    which names what the pronoun stands for; its words were scored with it anyway, so that one's
    closeness is no evidence of its own: only the sentence after is considered otherwise.
    """
    def beside(j: int) -> bool:
        return 0 <= j < len(candidates) and candidates[j].hit is candidates[i].hit

    refers_back = REFERS_BACK.match(texts[i])
    if refers_back and beside(i - 1):
        return i - 1, i
    sides = (i + 1,) if refers_back else (i - 1, i + 1)
    same = [j for j in sides if beside(j) and scores[j] >= scores[i] - margin]
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
