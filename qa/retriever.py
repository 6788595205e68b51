"""Retriever: the one object other programs use to search an index and get quoted answers."""

from __future__ import annotations

import re
from dataclasses import replace

from qa.answer.attribution import attribution
from qa.answer.model import QuoteScorer, shipped_model
from qa.answer.question import parse_question
from qa.answer.quotes import Choice, answer_confidence, candidate_sentences, choose_quotes, quote_passage
from qa.answer.timeline import arrange, dates_of, near_best
from qa.errors import InvalidInput
from qa.results import Answer, Context, Hit, Quote
from qa.search.filters import DocumentFilter, document_filter
from qa.search.searcher import (
    DEFAULT_K,
    MAX_QUESTION_CHARS,
    Dates,
    Ranked,
    Ranking,
    Searcher,
    Sources,
    checked,
    repeats,
    with_copies,
)

__all__ = ["DEFAULT_K", "MAX_QUESTION_CHARS", "Retriever"]

_WHAT_SOURCES_SAY = re.compile(
    r"^\W*what\s+(?:do|does|did)\s+(?:the\s+|my\s+|these\s+|all\s+the\s+)?(?:sources?|documents?|articles?|"
    r"reports?|papers?|files?)\s+(?:say|said|report|write|tell\s+(?:me|us))\s+(?:about|on|of|regarding)\s+(?=\w)",
    re.IGNORECASE)
SOURCES_TRIED = 3
"""``per_source=N`` looks for quotes in at most this many times N documents, best first."""


class Retriever(Searcher):
    """Searches one index folder and answers questions with verbatim, cited quotes.

    Example:
        >>> retriever = Retriever.load("index/")
        >>> answer = retriever.ask("Who is sending cluster munitions to Ukraine?")
        >>> answer.quotes[0].text if answer.answered else "Not found in the documents."
    """

    _scorer: QuoteScorer | None = None

    @property
    def scorer(self) -> QuoteScorer:
        """What ranks the candidate sentences and gives the confidence: the answer model fitted and
        shipped with qa (``qa.answer.model``) unless another is set."""
        return self._scorer or shipped_model()

    @scorer.setter
    def scorer(self, scorer: QuoteScorer) -> None:
        self._scorer = scorer

    @property
    def not_found_threshold(self) -> float:
        """The confidence below which ``ask`` answers "not found".

        The scoring's own threshold if it sets one; else the value calibrated for this index's
        model and confidence formula and stored in its manifest (``qa.index.calibration.save_calibration``);
        else the scorer's own.
        """
        if self.scoring.not_found_threshold is not None:
            return self.scoring.not_found_threshold
        stored = self._store.manifest.not_found_threshold
        return stored if stored is not None else self.scorer.threshold

    def ask(self, question: str, k: int = DEFAULT_K, *, since: Dates = None, until: Dates = None,
            source: Sources = None, per_source: int | None = None) -> Answer:
        """Quotes that answer ``question``, or ``answered=False`` with the closest passages.

        ``since``, ``until`` and ``source`` filter the documents before ranking (see
        :meth:`search`). Text that copies of one story share is quoted once, with the copies in
        the quote's ``also_in``. A question about the current state ("now", "latest",
        "still") is answered from the newest of the quotes of similar strength, "as of" its date;
        quotes of different dates that disagree are shown oldest first (``qa.answer.timeline``).
        ``per_source=N`` quotes the best sentence of each of up to N documents instead, for
        questions such as "What do the sources say about X?" (copies count as one document).
        """
        question = checked(question, k)
        wanted = document_filter(since, until, source)
        if per_source is not None:
            return self._ask_each_source(question, k, wanted, _checked_count(per_source))
        ranking = self.rank(question, k, wanted)
        ranked, scoring = ranking.ranked, self.scoring
        choice, quotes, wider = self._choose_quotes(question, ranking)
        hits = [hit for hit, _ in ranked]
        confidence = answer_confidence(choice, hits, self.scorer)
        if confidence < self.not_found_threshold:
            return Answer(question, False, [], hits, confidence)
        quotes = _marked(quotes, ranking)
        arranged = arrange(parse_question(question), quotes, _marked(wider, ranking), scoring.recency_margin,
                           scoring.max_quotes)
        if scoring.quote_passage_first:
            # The passage that holds the first quote is the one the answer comes from: show it first.
            first = quote_passage(arranged.quotes[0], hits)
            hits.sort(key=lambda h: h is not first)
        return Answer(question, True, arranged.quotes, hits, confidence, arranged.as_of, arranged.date_order)

    def _choose_quotes(self, question: str, ranking: Ranking) -> tuple[Choice, list[Quote], list[Quote]]:
        """The choice of quotes, the answer's quotes, and the quotes of similar strength to weigh
        by date (``qa.answer.timeline``).

        When the passages come from documents of two dates or more, quotes are chosen once with
        the wider ``recency_margin`` (and three times ``max_quotes``); the answer's own are those
        of them within ``quote_margin`` of the best, at most ``max_quotes``, as ``choose_quotes``
        would choose them.
        """
        scoring = self.scoring
        candidates = candidate_sentences(parse_question(question), ranking.ranked, ranking.store.document_text,
                                         scoring.quote_passages)
        if len(dates_of([hit for hit, _ in ranking.ranked])) < 2:
            choice = choose_quotes(candidates, self.scorer, scoring)
            return choice, choice.quotes, []
        wide = replace(scoring, quote_margin=max(scoring.quote_margin, scoring.recency_margin),
                       max_quotes=3 * scoring.max_quotes)
        choice = choose_quotes(candidates, self.scorer, wide)
        wider = choice.quotes
        best = wider[0].score if wider else 0.0
        return choice, [q for q in wider if near_best(q.score, best, scoring.quote_margin)][: scoring.max_quotes], wider

    def _ask_each_source(self, question: str, k: int, wanted: DocumentFilter | None, sources: int) -> Answer:
        """The best quote of each of up to ``sources`` documents that answer, by their best passages.

        "What do the sources say about X?" is searched as "X": the words that ask for each
        source's view are in no source.
        """
        asked, question = question, _WHAT_SOURCES_SAY.sub("", question)
        scoring, threshold = self.scoring, self.not_found_threshold
        ranking = self.rank(question, max(k, scoring.candidates), wanted)
        by_source: dict[str, Ranked] = {}
        for hit, sentences in ranking.ranked:
            by_source.setdefault(hit.source, []).append((hit, sentences))
        chosen: list[Quote] = []
        passages: dict[int, Hit | None] = {}
        confidences: dict[int, float] = {}
        best = 0.0
        for ranked in list(by_source.values())[: SOURCES_TRIED * sources]:
            ranked = ranked[: scoring.quote_passages]
            candidates = candidate_sentences(parse_question(question), ranked, ranking.store.document_text)
            choice = choose_quotes(candidates, self.scorer, scoring)
            quotes = choice.quotes[:1]
            confidence = answer_confidence(choice, [hit for hit, _ in ranked], self.scorer)
            best = max(best, confidence)
            if not quotes or confidence < threshold or repeats(quotes[0], chosen, ranking.store):
                continue
            chosen.append(_mark(quotes[0], ranking))
            passages[id(chosen[-1])] = quote_passage(chosen[-1], [hit for hit, _ in ranked])
            confidences[id(chosen[-1])] = confidence
            if len(chosen) == sources:
                break
        if not chosen:
            return Answer(asked, False, [], [hit for hit, _ in ranking.ranked[:k]], best)
        # Most relevant first, whatever their dates: the reader asked for each source's view, not a story in time.
        chosen.sort(key=lambda quote: -confidences[id(quote)])
        hits = [hit for quote in chosen if (hit := passages[id(quote)])]
        return Answer(asked, True, chosen, hits, best, each_source=True)


def _attributed(quote: Quote, text: str) -> Quote:
    """``quote`` with the words before it that say whose list or words it is (``qa.answer.attribution``)."""
    span = attribution(text, quote.start, quote.end)
    return replace(quote, context=Context(text[span.start : span.end], span.start, span.end)) if span else quote


def _mark(quote: Quote, ranking: Ranking) -> Quote:
    """A quote from ``choose_quotes`` with its attribution and the copies that also hold it."""
    store = ranking.store
    attributed = _attributed(quote, store.document_text(quote.source))
    return with_copies(attributed, store, ranking.scope.sources if ranking.scope else None)


def _marked(quotes: list[Quote], ranking: Ranking) -> list[Quote]:
    """The quotes with their attributions and the copies that also hold them; a quote that repeats
    an earlier one from a copy of its document is left out: text is quoted once."""
    marked: list[Quote] = []
    for quote in quotes:
        if not repeats(quote, marked, ranking.store):
            marked.append(_mark(quote, ranking))
    return marked


def _checked_count(sources: object) -> int:
    if not isinstance(sources, int) or isinstance(sources, bool) or sources < 1:
        raise InvalidInput(f"per_source must be a whole number of at least 1, not {sources!r}.")
    return sources
