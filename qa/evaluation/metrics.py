"""What `qa eval` measures: per-question outcomes, the reports they add up to, BEIR's measures."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from qa.evaluation.datasets import Question


@dataclass(frozen=True)
class Outcome:
    """What the retriever did with one question."""

    question: Question
    covered: bool
    answered: bool
    best_score: float
    passage_rank: int | None
    quote_hit: bool
    quote_words: int


class _Report:
    def to_json(self) -> dict:
        """The measures; per-question details (the fields not shown in repr) are left out."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.repr}


@dataclass
class SquadReport(_Report):
    """Quality on a SQuAD-format dataset."""

    dataset: str = ""
    questions: int = 0
    passage_hit_at_1: float = 0.0
    passage_hit_at_5: float = 0.0
    quote_hit_at_1: float = 0.0
    mean_quote_words: float = 0.0
    answered_rate: float = 0.0
    refused_rate: float | None = None
    held_out_questions: int = 0
    refused_unanswerable_rate: float | None = None
    unanswerable_questions: int = 0
    not_found_threshold: float = 0.0
    queries_per_second: float = 0.0
    index_seconds: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list, repr=False)

    def rows(self) -> list[tuple[str, str]]:
        """(measure, value) pairs for a table."""
        rows = [
            ("questions", str(self.questions)),
            ("passage hit@1", f"{self.passage_hit_at_1:.3f}"),
            ("passage hit@5", f"{self.passage_hit_at_5:.3f}"),
            ("quote hit@1", f"{self.quote_hit_at_1:.3f}"),
            ("mean words in the first quote", f"{self.mean_quote_words:.1f}"),
            ("answered (covered questions)", f"{self.answered_rate:.3f}"),
        ]
        if self.refused_unanswerable_rate is not None:
            rows.append((f"refused, on the same articles ({self.unanswerable_questions} unanswerable)",
                         f"{self.refused_unanswerable_rate:.3f}"))
        if self.refused_rate is not None:
            rows.append((f"refused ({self.held_out_questions} held-out questions)", f"{self.refused_rate:.3f}"))
        rows += [("not-found threshold", f"{self.not_found_threshold:.3f}"),
                 ("queries per second", f"{self.queries_per_second:.1f}")]
        return rows


@dataclass
class BeirReport(_Report):
    """Retrieval quality on a BEIR-format dataset (means over the judged queries)."""

    dataset: str = ""
    queries: int = 0
    documents: int = 0
    ndcg_at_10: float = 0.0
    recall_at_100: float = 0.0
    mrr_at_10: float = 0.0
    queries_per_second: float = 0.0
    index_seconds: float = 0.0
    per_query: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)

    def rows(self) -> list[tuple[str, str]]:
        """(measure, value) pairs for a table."""
        return [
            ("queries", str(self.queries)),
            ("documents", str(self.documents)),
            ("nDCG@10", f"{self.ndcg_at_10:.3f}"),
            ("Recall@100", f"{self.recall_at_100:.3f}"),
            ("MRR@10", f"{self.mrr_at_10:.3f}"),
            ("queries per second", f"{self.queries_per_second:.1f}"),
        ]


def beir_metrics(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per-query nDCG@10, Recall@100 and MRR@10 by pytrec_eval (queries without judgements are skipped)."""
    import pytrec_eval

    qrels = {q: docs for q, docs in qrels.items() if docs}
    run = {q: run.get(q, {}) or {"": 0.0} for q in qrels}
    top10 = {q: dict(sorted(docs.items(), key=lambda d: (-d[1], d[0]))[:10]) for q, docs in run.items()}
    scores = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(run)
    reciprocal = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)
    return {
        q: {"ndcg@10": scores[q]["ndcg_cut_10"], "recall@100": scores[q]["recall_100"],
            "mrr@10": reciprocal[q]["recip_rank"]}
        for q in qrels
    }


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Whether ``text`` contains any gold answer on word boundaries ("12" is not in "2012"),
    ignoring case and spacing."""
    haystack = _normalise(text)
    return any(re.search(rf"(?<!\w){re.escape(_normalise(answer))}(?!\w)", haystack) for answer in answers if answer)


def summarise(outcomes: list[Outcome], elapsed: float) -> SquadReport:
    """Aggregate per-question outcomes into a report."""
    covered = [o for o in outcomes if o.covered and not o.question.impossible]
    unanswerable = [o for o in outcomes if o.covered and o.question.impossible]
    held_out = [o for o in outcomes if not o.covered]
    answered = [o for o in covered if o.answered]
    n = max(len(covered), 1)
    return SquadReport(
        questions=len(covered),
        passage_hit_at_1=sum(o.passage_rank == 0 for o in covered) / n,
        passage_hit_at_5=sum(o.passage_rank is not None and o.passage_rank < 5 for o in covered) / n,
        quote_hit_at_1=sum(o.quote_hit for o in covered) / n,
        mean_quote_words=sum(o.quote_words for o in answered) / max(len(answered), 1),
        answered_rate=len(answered) / n,
        refused_rate=(sum(not o.answered for o in held_out) / len(held_out)) if held_out else None,
        held_out_questions=len(held_out),
        refused_unanswerable_rate=(sum(not o.answered for o in unanswerable) / len(unanswerable)
                                   if unanswerable else None),
        unanswerable_questions=len(unanswerable),
        queries_per_second=len(outcomes) / elapsed if elapsed else 0.0,
        outcomes=outcomes,
    )
