"""Retrieved passages -> the sentences that answer, quoted verbatim, or "not found".

Every sentence of the top passages is a candidate. Its score mixes its own cosine to the
question, the score of the passage it came from, how much of the question's vocabulary it
contains (questions are usually worded like the sentence that answers them), and, for "when"
and "how many" questions, whether it holds a date or a number. The weights and
the not-found threshold were set by measurement on held-out data: see
``benchmarks/calibrate.py`` and the README's "Quality" section.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
NOT_FOUND_THRESHOLD = 0.40
"""Best quote score below which the documents are taken not to answer.

Set with benchmarks/calibrate.py on xquad-dev, 12 of 24 articles held out: answered 0.966 of the
covered questions, refused 0.986 of the held-out ones (the best balanced accuracy).
"""
SHORT_SENTENCE_WORDS = 6

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_ANSWER_TYPES = (
    (re.compile(r"\bwhen\b|\b(?:what|which) (?:year|century|decade|date|month)", re.I),
     re.compile(rf"\b(?:1\d{{3}}|20\d{{2}})s?\b|\b(?:{_MONTHS})\b|\bcentur", re.I)),
    (re.compile(r"\bhow (?:many|much|long|far|old|large|big|tall|fast|high|deep)\b|\bwhat (?:percentage|number)", re.I),
     re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|thousand|"
                r"million|billion|dozen)\b", re.I)),
)
_REFERS_BACK = re.compile(r"\W*(?:It|Its|He|His|She|Her|They|Their|This|These|Those|The latter)\b")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being do does did
    done has have had having what which who whom whose when where why how that this these those it its
    there their they them he him his she her we our you your i me my not no so than then into onto
    about over under after before during between through up down out off again further once can could
    would should will shall may might must also any some such only own same too very just s t""".split()
)


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, in document coordinates."""

    hit: Hit
    rank: int
    sentence: ScoredSentence
    following: ScoredSentence | None


def content_terms(text: str) -> list[str]:
    """Lower-cased words of ``text`` without stop words, with a plural 's' dropped."""
    terms = []
    for token in _TOKEN.findall(text.lower()):
        if token in _STOPWORDS:
            continue
        if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        terms.append(token)
    return terms


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
    present = wanted.intersection(content_terms(sentence))
    total = sum(weight(t) for t in wanted)
    return sum(weight(t) for t in present) / total if total else 0.0


def rarity_weights(texts: Sequence[str]) -> Callable[[str], float]:
    """An IDF-like weight over ``texts``: terms found in fewer of them count more."""
    frequency: dict[str, int] = {}
    for text in texts:
        for term in set(content_terms(text)):
            frequency[term] = frequency.get(term, 0) + 1
    n = len(texts)
    return lambda term: math.log(1 + (n + 1) / (frequency.get(term, 0) + 0.5))


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
    weight = rarity_weights(texts)
    # A sentence that opens with a pronoun is about what the sentence before it names.
    worded = [
        (texts[i - 1] + " " + text) if i and candidates[i - 1].hit is candidates[i].hit and _REFERS_BACK.match(text)
        else text
        for i, text in enumerate(texts)
    ]
    terms = content_terms(question)
    answer_type = expected_answer(question)
    scores = [
        (WEIGHT_SENTENCE * c.sentence.similarity + WEIGHT_PASSAGE * c.hit.score
         + WEIGHT_OVERLAP * term_overlap(terms, wording, weight)
         + WEIGHT_ANSWER_TYPE * bool(answer_type and answer_type.search(text))) / _WEIGHT_TOTAL
        for c, text, wording in zip(candidates, texts, worded)
    ]
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    best = scores[order[0]]
    quotes: list[Quote] = []
    for i in order:
        if len(quotes) == MAX_QUOTES or scores[i] < best - QUOTE_MARGIN:
            break
        quote = _quote(candidates[i], scores[i], document_text(candidates[i].hit.source))
        if not any(q.source == quote.source and q.start < quote.end and quote.start < q.end for q in quotes):
            quotes.append(quote)
    return quotes


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


def _quote(candidate: Candidate, score: float, text: str) -> Quote:
    """Quote the candidate sentence, with the next one when it is too short to stand alone."""
    start, end = candidate.sentence.start, candidate.sentence.end
    sentence = text[start:end]
    if candidate.following and (len(sentence.split()) < SHORT_SENTENCE_WORDS or sentence.endswith(":")):
        end = candidate.following.end
    hit = candidate.hit
    return Quote(text[start:end], hit.source, hit.title, hit.page, start, end, round(score, 4))
