"""`qa eval`: the current configuration measured on a BEIR folder or a SQuAD v1/v2 file (public API only).

BEIR: every corpus entry is one document, ranked by its best passage; nDCG@10, Recall@100 and
MRR@10. SQuAD: every article is one document; passage hit@k, quote hit@1, words in the first
quote and the answered rate on the answerable questions, and the refused rate on SQuAD 2.0's
unanswerable ones and, with ``holdout=N``, on the questions of the last N articles, left out of
the index.
"""

from __future__ import annotations

import os
import time

from qa.embed.model import Embedder
from qa.errors import InvalidInput
from qa.evaluation.cache import DEFAULT_WORK_DIR, prepare_beir_index, prepare_squad_index
from qa.evaluation.datasets import Question, dataset_format, load_beir
from qa.evaluation.metrics import BeirReport, Outcome, SquadReport, beir_metrics, contains_answer, summarise
from qa.retriever import Retriever
from qa.scoring import DEFAULT_SCORING, Scoring

BEIR_DEPTH = 100
"""Documents retrieved per BEIR query (Recall@100 needs 100)."""


def evaluate(dataset: str | os.PathLike, *, index_dir: str | os.PathLike | None = None, holdout: int = 0,
             model: str | None = None, progress: bool = True, embedder: Embedder | None = None,
             work_dir: str | os.PathLike = DEFAULT_WORK_DIR, scoring: Scoring = DEFAULT_SCORING,
             runtime: str | None = None) -> BeirReport | SquadReport:
    """Measure the current configuration on ``dataset`` (BEIR folder or SQuAD file).

    Example:
        >>> evaluate("scifact").ndcg_at_10  # a BEIR folder
    """
    if holdout < 0:
        raise InvalidInput(f"holdout must be 0 or more, not {holdout}.")
    if dataset_format(dataset) == "beir":
        if holdout:
            raise InvalidInput("A holdout applies to SQuAD-format datasets only.")
        return evaluate_beir(dataset, index_dir=index_dir, model=model, progress=progress, embedder=embedder,
                             work_dir=work_dir, scoring=scoring, runtime=runtime)
    return evaluate_squad(dataset, index_dir=index_dir, holdout=holdout, model=model, progress=progress,
                          embedder=embedder, work_dir=work_dir, scoring=scoring, runtime=runtime)


def evaluate_beir(folder: str | os.PathLike, *, index_dir: str | os.PathLike | None = None, model: str | None = None,
                  depth: int = BEIR_DEPTH, progress: bool = True, embedder: Embedder | None = None,
                  work_dir: str | os.PathLike = DEFAULT_WORK_DIR, scoring: Scoring = DEFAULT_SCORING,
                  runtime: str | None = None) -> BeirReport:
    """Rank the corpus for every judged query; documents rank by their best passage."""
    from qa.progress import progress_bar

    embedder = embedder or Embedder(model, runtime=runtime)
    _, queries, qrels = load_beir(folder)
    index_dir, ids, seconds = prepare_beir_index(folder, index_dir, progress, embedder=embedder, work_dir=work_dir)
    retriever = Retriever.load(index_dir, embedder=embedder, scoring=scoring)
    run: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for query_id, text in progress_bar(list(queries.items()), progress, desc="Querying", unit="query"):
        run[query_id] = retriever.rank_documents(text, depth)
    elapsed = time.perf_counter() - started
    run = {q: {ids.get(source, source): score for source, score in docs.items()} for q, docs in run.items()}
    per_query = beir_metrics(qrels, run)
    n = max(len(per_query), 1)
    return BeirReport(
        dataset=str(folder), queries=len(per_query), documents=len(ids),
        ndcg_at_10=sum(m["ndcg@10"] for m in per_query.values()) / n,
        recall_at_100=sum(m["recall@100"] for m in per_query.values()) / n,
        mrr_at_10=sum(m["mrr@10"] for m in per_query.values()) / n,
        queries_per_second=len(queries) / elapsed if elapsed else 0.0,
        index_seconds=seconds, per_query=per_query,
    )


def evaluate_squad(path: str | os.PathLike, *, index_dir: str | os.PathLike | None = None, holdout: int = 0,
                   model: str | None = None, k: int = 5, progress: bool = True,
                   embedder: Embedder | None = None, work_dir: str | os.PathLike = DEFAULT_WORK_DIR,
                   scoring: Scoring = DEFAULT_SCORING, runtime: str | None = None) -> SquadReport:
    """Ask every question of the dataset and measure passages, quotes and the not-found decision."""
    embedder = embedder or Embedder(model, runtime=runtime)
    index_dir, articles, seconds = prepare_squad_index(path, index_dir, holdout, progress, embedder=embedder, work_dir=work_dir)
    retriever = Retriever.load(index_dir, embedder=embedder, scoring=scoring)
    covered_titles = set(list(articles)[: len(articles) - holdout])
    outcomes = []
    started = time.perf_counter()
    for title, (_, questions) in articles.items():
        for question in questions:
            outcomes.append(_ask(retriever, question, title in covered_titles, k))
    elapsed = time.perf_counter() - started
    report = summarise(outcomes, elapsed)
    report.dataset, report.index_seconds = str(path), seconds
    report.not_found_threshold = retriever.not_found_threshold
    return report


def _ask(retriever: Retriever, question: Question, covered: bool, k: int) -> Outcome:
    answer = retriever.ask(question.text, k=k)
    rank = next((i for i, h in enumerate(answer.hits) if contains_answer(h.text, question.answers)), None)
    first = answer.quotes[0] if answer.quotes else None
    return Outcome(
        question, covered, answer.answered, answer.confidence, rank,
        quote_hit=bool(first and contains_answer(first.text, question.answers)),
        quote_words=len(first.text.split()) if first else 0,
    )


