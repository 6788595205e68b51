"""Retrieved passages -> the sentences that answer, quoted verbatim, or "not found".

Every sentence of the top passages is a candidate. Its score mixes its own cosine to the
question, the score of the passage it came from, how much of the question's vocabulary it
contains (questions are usually worded like the sentence that answers them), and, for "who",
"when" and "how many" questions, whether it holds a name, date or number that the question does
not. A neighbouring sentence that scores nearly as well is quoted with it, and a sentence that
opens with a pronoun is quoted with the one before, which names what it is about. The answer is
"not found" when the confidence (the best quote's score averaged with the best cosine of any
candidate sentence and with the share of the question's phrases found in the quote's passage,
less a little for each number of the question that passage lacks) falls below a threshold. The
weights and the not-found threshold were set by measurement on held-out data: see
``benchmarks/calibrate.py``, ``benchmarks/ablation.py`` and the README's "Quality" section.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.lexical import terms
from qa.results import Hit, Quote, ScoredSentence

QUOTE_PASSAGES = 5
"""Sentences are drawn from this many of the best passages."""
MAX_QUOTES = 3
WEIGHT_SENTENCE = 0.6
WEIGHT_PASSAGE = 0.6
WEIGHT_OVERLAP = 0.7
WEIGHT_ANSWER_TYPE = 0.1
_WEIGHT_TOTAL = WEIGHT_SENTENCE + WEIGHT_PASSAGE + WEIGHT_OVERLAP + WEIGHT_ANSWER_TYPE
QUOTE_MARGIN = 0.04
"""Further quotes must score within this margin of the best one."""
NEIGHBOUR_MARGIN = 0.15
"""A quote takes in the sentence before or after it when that one scores within this margin: the
answer often sits beside the sentence that is worded like the question (xquad-dev: quote hit@1
+0.05 for +9 words at 0.12; see README "Quality"). A wider margin trades words for hits; 0.15 was
chosen on the questions of xquad-dev's first 12 articles (quote hit@1 0.862 -> 0.865, words
37.5 -> 40.3), keeping the first quote well under 45 words on average."""
QUOTE_ANTECEDENT = True
"""A quoted sentence that opens with a pronoun takes in the sentence before it, so the quote says
what it is about (xquad-dev: quote hit@1 +0.013 for +2.3 words; see README "Quality")."""
WEIGHT_BEST_SIMILARITY = 1.0
"""Weight of the best candidate sentence's cosine beside the best quote's score in the confidence
(0 = the quote's score alone). The dense evidence alone separates questions the documents answer
from others better than the quote's mix of features does (xquad-dev, first 12 articles held out,
with the fixed-window passages of the time: balanced accuracy 0.968 -> 0.977 at weight 0.75 to
1; a weight of 2 reaches 0.983 there, but the differences are two or three questions); 1 weighs
the two equally."""
WEIGHT_PHRASES = 0.3
"""Weight of :func:`phrase_overlap` between the question and the passage of the best quote in the
confidence (0 = left out). Questions asked of a text repeat its phrases, not only its words, so
phrases tell an answering passage from one that is merely on the subject. On xquad-dev with 12
articles held out, the most held-out questions refused while answering 98% of the others went
0.938 -> 0.966 with the first 12 held out and 0.962 -> 0.983 with the last 12
(``benchmarks/calibrate.py``, with and without ``--last``); 0.3 did best on the first split
among 0.2, 0.3 and 0.5."""
WEIGHT_MISSING_NUMBERS = 0.05
"""Taken off the confidence in proportion to :func:`missing_numbers`: a question about 1754 is
not answered by a passage that never mentions 1754. On xquad-dev with the first 12 articles held
out, 0.05 did best among 0.03, 0.05, 0.1 and 0.2 (balanced accuracy 0.976 -> 0.979; most
held-out questions refused while answering 98% of the others 0.966 -> 0.972)."""
NOT_FOUND_THRESHOLD = 0.32
"""Confidence (see :func:`answer_confidence`) below which the documents are taken not to answer.

Set with benchmarks/calibrate.py on xquad-dev with the first 12 of its 24 articles held out (the
best balanced accuracy there: answered 0.979, refused 0.978); `qa eval --holdout 12` holds out
the last 12, so the reported rates are measured on articles the threshold was not set on.
"""
NOT_FOUND_THRESHOLDS = {"sentence-transformers/all-MiniLM-L6-v2": NOT_FOUND_THRESHOLD}
"""Built-in calibrations per model; an index's manifest may hold its own (``qa.evaluate.save_calibration``)."""
CONFIDENCE_SCALE = 4
"""Version of :func:`answer_confidence`'s formula, stored with a calibrated threshold: a threshold
set for another formula (1 = the best quote's score alone, 2 = without phrases, 3 = without
numbers) is ignored."""
SHORT_SENTENCE_WORDS = 6

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_ANSWER_TYPES = (
    (re.compile(r"\bwhen\b|\b(?:what|which) (?:year|century|decade|date|month)", re.IGNORECASE),
     re.compile(rf"\b(?:1\d{{3}}|20\d{{2}})s?\b|\b(?:{_MONTHS})\b|\bcentur", re.IGNORECASE)),
    (re.compile(r"\bhow (?:many|much|long|far|old|large|big|tall|fast|high|deep)\b|\bwhat (?:percentage|number)", re.IGNORECASE),
     re.compile(r"\d[\d,.]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|thousand|"
                r"million|billion|dozen)\b", re.IGNORECASE)),
    # A name: a capitalised word inside the sentence (the first word is capitalised anyway).
    (re.compile(r"\bwho(?:m|se)?\b", re.IGNORECASE), re.compile(r"(?<=\s)[A-Z][\w'-]*")),
)
_REFERS_BACK = re.compile(r"\W*(?:It|Its|He|His|She|Her|They|Their|This|These|Those|The latter)\b")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, in document coordinates."""

    hit: Hit
    rank: int
    sentence: ScoredSentence
    following: ScoredSentence | None


def expected_answer(question: str) -> re.Pattern | None:
    """For a when / how-many question, a pattern that the answering sentence is likely to match."""
    for asks, answer in _ANSWER_TYPES:
        if asks.search(question):
            return answer
    return None


def term_overlap(question_terms: Sequence[str], sentence: str, weight: Callable[[str], float]) -> float:
    """Weighted share of the question's distinct terms that occur in ``sentence`` (0..1)."""
    wanted = set(question_terms)
    if not wanted:
        return 0.0
    present = wanted.intersection(terms(sentence))
    total = sum(weight(t) for t in wanted)
    return sum(weight(t) for t in present) / total if total else 0.0


def rarity_weights(texts: Sequence[str]) -> Callable[[str], float]:
    """An IDF-like weight over ``texts``: terms found in fewer of them count more."""
    frequency: dict[str, int] = {}
    for text in texts:
        for term in set(terms(text)):
            frequency[term] = frequency.get(term, 0) + 1
    n = len(texts)
    return lambda term: math.log(1 + (n + 1) / (frequency.get(term, 0) + 0.5))


@dataclass(frozen=True)
class SentenceFeatures:
    """What a candidate sentence's score is made of.

    - similarity: the sentence's cosine to the question;
    - passage_score: its passage's retrieval score;
    - overlap: rarity-weighted share of the question's words in the sentence (a sentence that
      opens with a pronoun is read with the sentence before it, which names what it is about);
    - answer_type: for who / when / how-many questions, 1.0 when the sentence holds a name, date
      or number that the question does not.
    """

    similarity: float
    passage_score: float
    overlap: float
    answer_type: float

    @property
    def score(self) -> float:
        return (WEIGHT_SENTENCE * self.similarity + WEIGHT_PASSAGE * self.passage_score
                + WEIGHT_OVERLAP * self.overlap + WEIGHT_ANSWER_TYPE * self.answer_type) / _WEIGHT_TOTAL


def sentence_features(question: str, candidates: Sequence[Candidate], texts: Sequence[str]) -> list[SentenceFeatures]:
    """The features of each candidate sentence (``texts`` are the sentences' texts)."""
    weight = rarity_weights(texts)
    wanted = terms(question)
    question_words = set(wanted) | {t.lower() for t in _TOKEN.findall(question)}
    answer_type = expected_answer(question)
    features = []
    for i, (c, text) in enumerate(zip(candidates, texts)):
        same_before = i > 0 and candidates[i - 1].hit is c.hit
        wording = texts[i - 1] + " " + text if same_before and _REFERS_BACK.match(text) else text
        features.append(SentenceFeatures(
            c.sentence.similarity,
            c.hit.score,
            term_overlap(wanted, wording, weight),
            float(bool(answer_type and _holds_new(answer_type, text, question_words))),
        ))
    return features


def answer_confidence(question: str, quotes: Sequence[Quote],
                      ranked: Sequence[tuple[Hit, Sequence[ScoredSentence]]]) -> float:
    """How surely the documents answer, 0..1; 0.0 without quotes.

    The best quote's score averaged (by WEIGHT_BEST_SIMILARITY) with the best cosine of a sentence
    of the passages quotes are drawn from, then averaged (by WEIGHT_PHRASES) with the share of the
    question's phrases found in the passage that holds the best quote, less WEIGHT_MISSING_NUMBERS
    times the share of the question's numbers that this passage lacks.
    """
    if not quotes:
        return 0.0
    best = max((s.similarity for _, sentences in ranked[:QUOTE_PASSAGES] for s in sentences), default=0.0)
    confidence = (quotes[0].score + WEIGHT_BEST_SIMILARITY * best) / (1 + WEIGHT_BEST_SIMILARITY)
    passage = quote_passage(quotes[0], [hit for hit, _ in ranked])
    text = passage.text if passage else quotes[0].text
    phrases = phrase_overlap(question, text)
    if phrases is not None:  # a one-word question has no phrases to find
        confidence = (confidence + WEIGHT_PHRASES * phrases) / (1 + WEIGHT_PHRASES)
    return max(0.0, confidence - WEIGHT_MISSING_NUMBERS * missing_numbers(question, text))


def quote_passage(quote: Quote, hits: Sequence[Hit]) -> Hit | None:
    """The first of ``hits`` that holds all of ``quote``."""
    return next((hit for hit in hits if hit.holds(quote)), None)


def phrase_overlap(question: str, text: str) -> float | None:
    """Share of the question's pairs of adjacent terms (``qa.lexical.terms``) that are adjacent in
    ``text`` too; None when the question has fewer than two terms."""
    wanted = _pairs(terms(question))
    return len(wanted & _pairs(terms(text))) / len(wanted) if wanted else None


def _pairs(words: Sequence[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(words))


def missing_numbers(question: str, text: str) -> float:
    """Share of the numbers in ``question`` (years, counts; "1,000" = "1000") that ``text`` does
    not hold; 0.0 when the question has none."""
    wanted = _numbers(question)
    return len(wanted - _numbers(text)) / len(wanted) if wanted else 0.0


def _numbers(text: str) -> set[str]:
    return {number.replace(",", "") for number in _NUMBER.findall(text)}


def _holds_new(pattern: re.Pattern, text: str, question_terms: set[str]) -> bool:
    return any(m.group().lower() not in question_terms for m in pattern.finditer(text))


def choose_quotes(
    question: str,
    ranked: Sequence[tuple[Hit, Sequence[ScoredSentence]]],
    document_text: Callable[[str], str],
) -> list[Quote]:
    """The best quotes from the top passages, best first, each scored (no threshold applied)."""
    candidates = _candidates(ranked[:QUOTE_PASSAGES])
    if not candidates:
        return []
    texts = [document_text(c.hit.source)[c.sentence.start : c.sentence.end] for c in candidates]
    scores = [features.score for features in sentence_features(question, candidates, texts)]
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    best = scores[order[0]]
    quotes: list[Quote] = []
    for i in order:
        if len(quotes) == MAX_QUOTES or scores[i] < best - QUOTE_MARGIN:
            break
        first, last = _with_neighbour(candidates, texts, scores, i)
        quote = _quote(candidates[first], scores[i], document_text(candidates[i].hit.source), candidates[last])
        if not any(q.source == quote.source and q.start < quote.end and quote.start < q.end for q in quotes):
            quotes.append(quote)
    return quotes


def _with_neighbour(candidates: Sequence[Candidate], texts: Sequence[str], scores: Sequence[float],
                    i: int) -> tuple[int, int]:
    """The candidate range to quote for candidate ``i``: it, and its better neighbour if that scores close.

    A sentence that opens with a pronoun is quoted with the one before it (QUOTE_ANTECEDENT), which
    names what the pronoun stands for; its words were scored with it anyway, so that one's
    closeness is no evidence of its own: only the sentence after is considered otherwise.
    """
    def beside(j: int) -> bool:
        return 0 <= j < len(candidates) and candidates[j].hit is candidates[i].hit

    refers_back = _REFERS_BACK.match(texts[i])
    if refers_back and QUOTE_ANTECEDENT and beside(i - 1):
        return i - 1, i
    sides = (i + 1,) if refers_back else (i - 1, i + 1)
    same = [j for j in sides if beside(j) and scores[j] >= scores[i] - NEIGHBOUR_MARGIN]
    if not same:
        return i, i
    j = max(same, key=lambda j: scores[j])
    return min(i, j), max(i, j)


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


def _quote(candidate: Candidate, score: float, text: str, last: Candidate) -> Quote:
    """Quote the candidate sentences through ``last``, with the next one when ``last`` is too short to stand alone."""
    start, end = candidate.sentence.start, last.sentence.end
    sentence = text[last.sentence.start : end]
    if last.following and (len(sentence.split()) < SHORT_SENTENCE_WORDS or sentence.endswith(":")):
        end = last.following.end
    hit = candidate.hit
    return Quote(text[start:end], hit.source, hit.title, hit.page, start, end, round(score, 4), hit.date, hit.author,
                 hit.url, hit.page_label)
