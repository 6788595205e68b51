"""Every weight, margin and threshold of retrieval and quoting, as one value.

``Retriever.load(index, scoring=replace(DEFAULT_SCORING, lexical_weight=0.0))`` changes a setting
without touching a module. The weights that choose quotes and decide "not found" are not here:
they are fitted (``qa.answer.model``, ``qa fit``). Each field says how its value was set ("Set:");
the runs are in benchmarks/README.md. xquad-dev, bbc-news and
SciFact are the data sets of the README's quality table; "the calibration split" is xquad-dev
with its first 12 articles held out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scoring:
    """How passages are ranked, quotes chosen and "not found" decided."""

    # Retrieval (qa.search.searcher)
    candidates: int = 50
    """Passages and sentences fetched from each vector index (and from BM25) before re-scoring.
    Set: passage hit@5 0.995-0.997 on xquad-dev with it."""
    passage_similarity_weight: float = 0.3
    """A passage's own cosine beside its best sentence's, in its dense score. Set with
    sentence-level dense retrieval (SciFact nDCG@10 0.701 dense alone, against 0.645 for
    whole-abstract vectors)."""
    dense_weight: float = 1.0
    """The dense score in a passage's score (0 = BM25 alone, for measuring)."""
    lexical_weight: float = 0.7
    """The normalised BM25 score beside the dense score (0 = dense alone). Set: the best of
    0.5 / 0.7 / 1 / 2 on SciFact and xquad-dev (benchmarks/ablation.py)."""
    quote_passage_first: bool = True
    """``ask`` lists the passage holding the best quote first (a switch for measuring)."""

    # Quotes (qa.answer.quotes): which sentence answers, and whether any does, is the answer model's
    quote_passages: int = 5
    """Sentences are drawn from this many of the best passages. Set with ``max_quotes`` and
    ``quote_margin`` by the first versions of quoting, on xquad-dev."""
    max_quotes: int = 3
    quote_margin: float = 0.1
    """Further quotes must be within this share of the best one's probability of holding the
    answer (``qa.answer.timeline.near_best``). Set by hand, near the old 0.04 of a 0.6 score: it
    decides the second and third quotes, never the first."""
    short_sentence_words: int = 6
    """A quote ending in a shorter sentence (or a colon) takes in the next one."""
    not_found_threshold: float | None = None
    """Below this confidence the answer is "not found"; None = the index's calibrated threshold,
    else the answer model's own (fitted: ``qa.answer.model``)."""

    # Dates (qa.answer.timeline)
    recency_margin: float = 0.5
    """Quotes within this share of the best one's probability of holding the answer (at least half
    of it) are of similar strength: a question about the current state is answered from the newest
    of them, and those of different dates that disagree are all shown, in date order. Set by hand
    on the flood reports of tests/data/news (two outlets' figures, 0.20 and 0.14), as issue 16 set
    the old margin of 0.1 on a 0.6 score."""


DEFAULT_SCORING = Scoring()
