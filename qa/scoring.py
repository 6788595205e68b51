"""Every weight, margin and threshold of retrieval and quoting, as one value.

``Retriever.load(index, scoring=replace(DEFAULT_SCORING, lexical_weight=0.0))`` changes a setting
without touching a module; ``benchmarks/ablation.py`` measures each idea that way. Each field says
how its value was set ("Set:"); the runs are in benchmarks/README.md. xquad-dev, bbc-news and
SciFact are the data sets of the README's quality table; "the calibration split" is xquad-dev
with its first 12 articles held out.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_FOUND_THRESHOLDS = {
    ("sentence-transformers/all-MiniLM-L6-v2", "fp32"): 0.33,
    ("sentence-transformers/all-MiniLM-L6-v2", "onnx-int8"): 0.325,
}
"""Built-in not-found thresholds per model and runtime (torch and onnx both make fp32 vectors),
for this confidence formula. Set: benchmarks/calibrate.py on the calibration split; an index's
manifest may hold its own (``qa.index.calibration.save_calibration``)."""
FALLBACK_THRESHOLD = 0.33
"""The not-found threshold for a model without a calibration of its own."""


def built_in_threshold(model: str, runtime: str) -> float:
    """The built-in not-found threshold for vectors of ``model`` made by ``runtime``."""
    precision = "fp32" if runtime in ("torch", "onnx") else runtime
    return NOT_FOUND_THRESHOLDS.get((model, precision), FALLBACK_THRESHOLD)


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

    # Quotes (qa.answer.quotes)
    quote_passages: int = 5
    """Sentences are drawn from this many of the best passages. Set with ``max_quotes`` and
    ``quote_margin`` by the first versions of quoting, on xquad-dev."""
    max_quotes: int = 3
    sentence_weight: float = 0.6
    """A sentence's own cosine to the question, in its quote score. Set by hand with
    ``passage_weight`` and ``overlap_weight`` on xquad-dev; a learned ranker over 17 features did
    no better."""
    passage_weight: float = 0.6
    """Its passage's retrieval score."""
    overlap_weight: float = 0.7
    """The rarity-weighted share of the question's words it holds."""
    answer_type_weight: float = 0.1
    """Holding the kind of fact a who / when / how-many question asks for. Set: higher weights
    help bbc-news and cost xquad-dev."""
    subject_weight: float = 0.25
    """In the overlap, a question word found in the title or opening sentence of the sentence's
    document (its subject, which its sentences keep repeating) counts this much against 1 for the
    words that ask, so that the sentence holding those wins over an opening that restates the
    subject (1.0 = all words alike). Set: the best of 1 / 0.5 / 0.3 / 0.25 / 0.2 on bbc-news and
    xquad-dev."""
    named_role_weight: float = 0.05
    """Added to the score of a sentence that, for a who-question, names someone new right beside
    one of the question's words ("race director Ann Kerr"). Set: the best of 0.03 / 0.05 / 0.1."""
    quote_margin: float = 0.04
    """Further quotes must score within this margin of the best one."""
    neighbour_margin: float = 0.15
    """A quote takes in the sentence before or after it when that one scores within this margin.
    Set: words against hits on the questions of the first 12 xquad-dev articles (0.12 / 0.15 / 0.18)."""
    quote_antecedent: bool = True
    """A quoted sentence that opens with a pronoun takes in the sentence before it."""
    complete_with_fact: bool = True
    """A quote that lacks the kind of fact the question asks for takes in the sentence beside it
    that tells one."""
    short_sentence_words: int = 6
    """A quote ending in a shorter sentence (or a colon) takes in the next one."""

    # Not found (qa.answer.quotes.answer_confidence)
    best_similarity_weight: float = 1.0
    """The best candidate sentence's cosine beside the best quote's score (0 = the quote's score
    alone). Set: the ablation row "confidence = mean of best quote score and best sentence cosine"
    (benchmarks/README.md)."""
    phrases_weight: float = 0.3
    """The share of the question's phrases found in the best quote's passage. Set: the best of
    0.2 / 0.3 / 0.5 on the calibration split."""
    missing_numbers_weight: float = 0.05
    """Taken off per share of the question's numbers that the best quote's passage lacks. Set: the
    best of 0.03 / 0.05 / 0.1 / 0.2 on the calibration split."""
    missing_fact_weight: float = 0.3
    """Taken off when the question asks for a measurable kind of fact that the best quote lacks.
    Set: enough to take such an answer's confidence below the threshold (issue 12)."""
    other_subject_weight: float = 0.3
    """Taken off when the best quote tells of another subject than the question's: another place,
    another name's or number's thing (``qa.answer.quotes.tells_of_another``). Set as
    ``missing_fact_weight``."""
    fact_apart_weight: float = 0.1
    """Taken off when each fact of the measurable kind asked for in the best quote stands more than
    ``fact_apart_words`` words from every question word beyond its document's subject
    (``qa.answer.quotes.fact_stands_apart``). Set: the least weight that refuses 0.60 of bbc-news's
    unanswerable questions; 0.15 and more cost xquad-dev answers."""
    fact_apart_words: int = 10
    """How near a fact of the asked kind must stand to one of the question's own words, in words.
    Set: 6-10 refuse 0.60 on bbc-news, 12 and 15 0.567; 6 cost one xquad-dev answer."""
    not_found_threshold: float | None = None
    """Below this confidence the answer is "not found"; None = the index's calibrated threshold,
    else the built-in one for its model (:data:`NOT_FOUND_THRESHOLDS`)."""

    # Dates (qa.answer.timeline)
    recency_margin: float = 0.1
    """Quotes within this margin of the best are of similar strength: a question about the current
    state is answered from the newest of them, and those of different dates that disagree are
    all shown, in date order. Set: issue 16 (benchmarks/README.md, "News: dates, filters, copies
    and sources")."""


DEFAULT_SCORING = Scoring()
