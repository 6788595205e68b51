"""Measure answer quality on a SQuAD-format dataset through the public API.

Each article becomes one document (its paragraphs joined by blank lines). With ``holdout=N``
the last N articles are left out of the index and their questions must be refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from qa.indexer import build_index
from qa.retriever import Retriever


@dataclass(frozen=True)
class Question:
    """A question, the article it was asked of, and its gold answer texts."""

    text: str
    article: str
    answers: tuple[str, ...]


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


@dataclass
class SquadReport:
    """Quality on a SQuAD-format dataset."""

    questions: int = 0
    passage_hit_at_1: float = 0.0
    passage_hit_at_5: float = 0.0
    quote_hit_at_1: float = 0.0
    mean_quote_words: float = 0.0
    answered_rate: float = 0.0
    refused_rate: float | None = None
    held_out_questions: int = 0
    queries_per_second: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list, repr=False)


def load_squad(path: str | os.PathLike) -> dict[str, tuple[str, list[Question]]]:
    """Articles of a SQuAD v1 file: title -> (text, questions)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    articles = {}
    for article in data:
        title = article["title"]
        text = "\n\n".join(p["context"] for p in article["paragraphs"])
        questions = [
            Question(qa["question"], title, tuple(a["text"] for a in qa["answers"]))
            for p in article["paragraphs"]
            for qa in p["qas"]
        ]
        articles[title] = (text, questions)
    return articles


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Whether ``text`` contains any gold answer, ignoring case and spacing."""
    haystack = _normalise(text)
    return any(_normalise(answer) in haystack for answer in answers)


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", title).strip("_") or "article"


def prepare_squad_index(path: str | os.PathLike, work_dir: str | os.PathLike, holdout: int = 0,
                        model: str | None = None, progress: bool = True) -> tuple[Path, dict]:
    """Write the indexed articles as text files under ``work_dir`` and index them (cached)."""
    articles = load_squad(path)
    indexed = list(articles)[: len(articles) - holdout]
    key = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    base = Path(work_dir) / f"squad-{key}-holdout{holdout}"
    docs, index_dir = base / "docs", base / "index"
    docs.mkdir(parents=True, exist_ok=True)
    for title in indexed:
        target = docs / f"{_slug(title)}.txt"
        if not target.exists():
            target.write_text(articles[title][0], encoding="utf-8")
    build_index([docs], index_dir, model=model, progress=progress)
    return index_dir, articles


def evaluate_squad(path: str | os.PathLike, work_dir: str | os.PathLike, *, holdout: int = 0,
                   model: str | None = None, k: int = 5, progress: bool = True) -> SquadReport:
    """Ask every question of the dataset and measure passages, quotes and the not-found decision."""
    index_dir, articles = prepare_squad_index(path, work_dir, holdout, model, progress)
    retriever = Retriever.load(index_dir)
    covered_titles = set(list(articles)[: len(articles) - holdout])
    outcomes = []
    started = time.perf_counter()
    for title, (_, questions) in articles.items():
        for question in questions:
            outcomes.append(_ask(retriever, question, title in covered_titles, k))
    elapsed = time.perf_counter() - started
    return summarise(outcomes, elapsed)


def _ask(retriever: Retriever, question: Question, covered: bool, k: int) -> Outcome:
    answer = retriever.ask(question.text, k=k)
    rank = next((i for i, h in enumerate(answer.hits) if contains_answer(h.text, question.answers)), None)
    first = answer.quotes[0] if answer.quotes else None
    return Outcome(
        question, covered, answer.answered, answer.confidence, rank,
        quote_hit=bool(first and contains_answer(first.text, question.answers)),
        quote_words=len(first.text.split()) if first else 0,
    )


def summarise(outcomes: list[Outcome], elapsed: float) -> SquadReport:
    """Aggregate per-question outcomes into a report."""
    covered = [o for o in outcomes if o.covered]
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
        queries_per_second=len(outcomes) / elapsed if elapsed else 0.0,
        outcomes=outcomes,
    )
