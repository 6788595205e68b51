"""Measure retrieval and answer quality on a public dataset through the public API (`qa eval`).

Two formats:

- BEIR (a folder with ``corpus.jsonl``, ``queries.jsonl``, ``qrels/test.tsv``): every corpus
  entry (title, blank line, text) becomes one document; a document ranks by its best passage;
  nDCG@10, Recall@100 and MRR@10 come from ``pytrec_eval``, the TREC reference implementation.
- SQuAD v1 or v2 (``{"data": [{"title", "paragraphs": [{"context", "qas"}]}]}``): each article is
  one document (paragraphs joined by blank lines); on the answerable questions, passage hit@k,
  quote hit@1 (the first quote contains a gold answer, on word boundaries), words in the first
  quote and the answered rate. SQuAD 2.0's ``is_impossible`` questions, about the indexed
  articles but answered by none, must be refused; so must, with ``holdout=N``, the questions of
  the last N articles, which are left out of the index.

The index of a dataset is built once per dataset, model and hold-out, and reused.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

from qa.embed import Embedder, canonical_model_name
from qa.errors import InvalidInput
from qa.indexer import build_index
from qa.retriever import Retriever
from qa.scoring import CONFIDENCE_SCALE, DEFAULT_SCORING, Scoring

DEFAULT_WORK_DIR = ".cache/qa-eval"
"""Where `qa eval` keeps the index it builds for each dataset and model."""
BEIR_DEPTH = 100
"""Documents retrieved per BEIR query (Recall@100 needs 100)."""


@dataclass(frozen=True)
class Question:
    """A question, the article it was asked of, and its gold answer texts."""

    text: str
    article: str
    answers: tuple[str, ...]
    impossible: bool = False
    """SQuAD 2.0: no article answers it, so it must be refused."""


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


def dataset_format(path: str | os.PathLike) -> str:
    """"beir" or "squad"; raises InvalidInput for anything else."""
    path = Path(path)
    if path.is_dir() and (path / "corpus.jsonl").is_file():
        return "beir"
    if path.is_file() and path.suffix == ".json":
        return "squad"
    raise InvalidInput(
        f"{path} is not a dataset: give a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) "
        "or a SQuAD-format .json file."
    )


def evaluate(dataset: str | os.PathLike, *, index_dir: str | os.PathLike | None = None, holdout: int = 0,
             model: str | None = None, progress: bool = True, embedder: Embedder | None = None,
             work_dir: str | os.PathLike = DEFAULT_WORK_DIR, scoring: Scoring = DEFAULT_SCORING,
             runtime: str | None = None) -> BeirReport | SquadReport:
    """Measure the current configuration on ``dataset`` (BEIR folder or SQuAD file).

    Example:
        >>> evaluate("../shared/eval/scifact").ndcg_at_10
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


def _cache_dir(work_dir: str | os.PathLike, dataset: Path, files: list[Path], embedder: Embedder,
               suffix: str = "") -> Path:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder.name)
    if embedder.runtime != "torch":  # torch indexes keep the names they had before runtimes
        name += f"-{embedder.runtime}"
    return Path(work_dir).resolve() / f"{dataset.stem}-{digest.hexdigest()[:12]}-{name}{suffix}"


# --- BEIR ---------------------------------------------------------------------------------------

def load_beir(folder: str | os.PathLike, split: str = "test") -> tuple[dict[str, tuple[str, str]], dict[str, str],
                                                                        dict[str, dict[str, int]]]:
    """(corpus id -> (title, text), query id -> text, qrels query id -> {corpus id: relevance})."""
    folder = Path(folder)
    corpus = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                corpus[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                continue  # the header
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                if str(row["_id"]) in qrels:
                    queries[str(row["_id"])] = row["text"]
    return corpus, queries, qrels


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


def _document_file(corpus_id: str) -> str:
    # Ids become file names; anything unsafe in a name is spelled out so two ids never collide.
    return re.sub(r"[^A-Za-z0-9_.-]", lambda m: f"%{ord(m.group()):x}", corpus_id) + ".txt"


def prepare_beir_index(folder: str | os.PathLike, index_dir: str | os.PathLike | None = None,
                       progress: bool = True, *, embedder: Embedder, work_dir: str | os.PathLike = DEFAULT_WORK_DIR
                       ) -> tuple[Path, dict[str, str], float]:
    """Write each corpus entry as a text file and index them (cached); returns (index, source -> id, seconds)."""
    folder = Path(folder)
    corpus, _, _ = load_beir(folder)
    base = _cache_dir(work_dir, folder, [folder / "corpus.jsonl"], embedder)
    docs = base / "docs"
    index_dir = Path(index_dir) if index_dir else base / "index"
    docs.mkdir(parents=True, exist_ok=True)
    ids = {}
    for corpus_id, (title, text) in corpus.items():
        name = _document_file(corpus_id)
        ids[name] = corpus_id
        target = docs / name
        if not target.exists():
            target.write_text(f"{title}\n\n{text}" if title else text, encoding="utf-8")
    report = build_index([docs], index_dir, progress=progress, embedder=embedder)
    return index_dir, ids, report.seconds if report.added or report.updated or report.removed else 0.0


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


# --- SQuAD --------------------------------------------------------------------------------------

def load_squad(path: str | os.PathLike) -> dict[str, tuple[str, list[Question]]]:
    """Articles of a SQuAD v1 or v2 file: title -> (text, questions)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    articles = {}
    for article in data:
        title = article["title"]
        text = "\n\n".join(p["context"] for p in article["paragraphs"])
        questions = [
            Question(qa["question"], title, tuple(a["text"] for a in qa["answers"]), bool(qa.get("is_impossible")))
            for p in article["paragraphs"]
            for qa in p["qas"]
        ]
        articles[title] = (text, questions)
    return articles


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Whether ``text`` contains any gold answer on word boundaries ("12" is not in "2012"),
    ignoring case and spacing."""
    haystack = _normalise(text)
    return any(re.search(rf"(?<!\w){re.escape(_normalise(answer))}(?!\w)", haystack) for answer in answers if answer)


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", title).strip("_") or "article"


def prepare_squad_index(path: str | os.PathLike, index_dir: str | os.PathLike | None = None, holdout: int = 0,
                        progress: bool = True, *, embedder: Embedder, work_dir: str | os.PathLike = DEFAULT_WORK_DIR
                        ) -> tuple[Path, dict, float]:
    """Write the indexed articles as text files and index them (cached); returns (index, articles, seconds)."""
    articles = load_squad(path)
    if holdout >= len(articles):
        raise InvalidInput(f"Holding out {holdout} articles would leave none of the {len(articles)} in the index.")
    indexed = list(articles)[: len(articles) - holdout]
    base = _cache_dir(work_dir, Path(path), [Path(path)], embedder, f"-holdout{holdout}")
    docs = base / "docs"
    index_dir = Path(index_dir) if index_dir else base / "index"
    docs.mkdir(parents=True, exist_ok=True)
    for title in indexed:
        target = docs / f"{_slug(title)}.txt"
        if not target.exists():
            target.write_text(articles[title][0], encoding="utf-8")
    report = build_index([docs], index_dir, progress=progress, embedder=embedder)
    return index_dir, articles, report.seconds if report.added or report.updated or report.removed else 0.0


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


def save_calibration(index_dir: str | os.PathLike, threshold: float, *, model: str, note: str = "") -> None:
    """Store a not-found threshold for this confidence formula in the index's manifest (see
    ``qa.manifest.save_calibration``)."""
    from qa.manifest import save_calibration as save

    save(index_dir, threshold, model=canonical_model_name(model), scale=CONFIDENCE_SCALE, note=note)
