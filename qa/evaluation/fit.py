"""Fit the answer model on labelled SQuAD-format questions (``qa fit``), with cross-validation
grouped by article to choose its settings and to report how it does on articles it never saw.

The ranker is a listwise linear model: over each answerable question's candidate sentences, the
softmax of its scores is fitted to put the probability on the sentences that hold a gold answer.
The answerability model is a logistic regression on the best candidate's features, fitted on
out-of-fold ranker scores (as it meets them at run time), labelled by whether the question is
answerable. Each data set weighs the same, whatever its size.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

import numpy as np

from qa.answer.features import ANSWER_FEATURES, COUNTER_EVIDENCE, EVIDENCE, SENTENCE_FEATURES
from qa.answer.model import DEFAULT_MODEL_FILE, AnswerModel, Linear, calibrated, sigmoid
from qa.answer.question import parse_question
from qa.answer.quotes import Candidates, answer_features, candidate_sentences, choose_quotes
from qa.embed.model import Embedder
from qa.evaluation.cache import DEFAULT_WORK_DIR, prepare_squad_index
from qa.evaluation.metrics import contains_answer
from qa.progress import progress_bar
from qa.results import Hit
from qa.retriever import Retriever
from qa.scoring import DEFAULT_SCORING

FOLDS = 5
HOLD_OUT_EVERY = 5
"""Every fifth article with questions is also left out of an index of its data set, so that the
answerability model learns to refuse questions about what is not in the documents at all."""
RANKER_L2 = 1.0
"""The ranker's L2 penalty on its standardised weights."""
ANSWERABILITY_C = 1.0
"""The answerability model's inverse L2 penalty (as scikit-learn's ``C``)."""
MARGINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
"""The neighbour margins tried; the smallest whose mean out-of-fold quote hit@1 is within
``MARGIN_TOLERANCE`` of the best is kept (a wider margin quotes more words)."""
MARGIN_TOLERANCE = 0.005
ANSWERED = 0.95
"""The threshold answers at least this share of every data set's answerable questions, out of fold."""


@dataclass(frozen=True)
class Example:
    """One labelled question with its candidate sentences as the retriever finds them."""

    dataset: str
    group: str
    """Its data set's file and article: cross-validation keeps each group on one side."""
    answers: tuple[str, ...]
    candidates: Candidates
    hits: list[Hit]
    labels: np.ndarray
    """Whether each candidate sentence holds a gold answer."""

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass
class FitReport:
    """Out-of-fold figures per data set: quote hit@1, answered (answerable) and refused (unanswerable)."""

    margin: float = 0.0
    threshold: float = 0.0
    by_dataset: dict[str, dict[str, float | None]] = field(default_factory=dict)
    learning_curve: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)


def collect(datasets: Sequence[str | os.PathLike], embedder: Embedder, *, progress: bool = True,
            work_dir: str | os.PathLike = DEFAULT_WORK_DIR, hold_out_every: int = HOLD_OUT_EVERY) -> list[Example]:
    """Index each data set's articles (cached, as ``qa eval`` does) and gather every question's
    candidates; then again without every ``hold_out_every``-th article that has questions, whose
    questions, no longer answerable from the index, become a data set of their own to refuse."""
    examples = []
    for path in map(Path, datasets):
        examples += _examples(path, path.name, 0, embedder, progress, work_dir)
        if hold_out_every:
            reordered, held = _holding_out(path, hold_out_every, Path(work_dir) / "held-out")
            examples += _examples(reordered, f"{path.name}, held out", held, embedder, progress, work_dir)
    return examples


def _examples(path: Path, name: str, holdout: int, embedder: Embedder, progress: bool,
              work_dir: str | os.PathLike) -> list[Example]:
    """The examples of a data set indexed without its last ``holdout`` articles (only their questions, if any)."""
    index_dir, articles, _ = prepare_squad_index(path, None, holdout, progress, embedder=embedder, work_dir=work_dir)
    retriever = Retriever.load(index_dir, embedder=embedder)
    indexed = set(list(articles)[: len(articles) - holdout])
    questions = [(title, q) for title, (_, qs) in articles.items() for q in qs if not holdout or title not in indexed]
    examples = []
    for title, q in progress_bar(questions, progress, desc=f"Reading {name}", unit="question"):
        ranking = retriever.rank(q.text, DEFAULT_SCORING.quote_passages)
        candidates = candidate_sentences(parse_question(q.text), ranking.ranked, ranking.store.document_text)
        answers = q.answers if title in indexed else ()
        labels = np.array([bool(answers) and contains_answer(text, answers) for text in candidates.texts], dtype=bool)
        examples.append(Example(name, f"{path.name}\n{title}", answers, candidates,
                                [h for h, _ in ranking.ranked], labels))
    return examples


def _holding_out(path: Path, every: int, folder: Path) -> tuple[Path, int]:
    """A copy of the SQuAD file ``path`` with every ``every``-th article that has questions moved to
    the end, and how many were moved (``qa eval --holdout`` leaves the last ones out)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    asked = [a for a in data["data"] if any(p["qas"] for p in a["paragraphs"])]
    held = asked[every - 1 :: every]
    held_titles = {a["title"] for a in held}
    data["data"] = [a for a in data["data"] if a["title"] not in held_titles] + held
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / path.name
    copy.write_text(json.dumps(data), encoding="utf-8")
    return copy, len(held)


def fit_ranker(examples: Sequence[Example], weights: np.ndarray, l2: float = RANKER_L2) -> Linear:
    """The listwise linear ranker, fitted on the examples whose candidates hold an answer."""
    from scipy.optimize import minimize

    kept = [(e, w) for e, w in zip(examples, weights) if e.labels.any()]
    x = np.vstack([e.candidates.features for e, _ in kept])
    y = np.concatenate([e.labels for e, _ in kept]).astype(np.float64)
    sizes = np.array([len(e.labels) for e, _ in kept])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group_weight = np.array([w for _, w in kept])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / scale
    owner = np.repeat(np.arange(len(kept)), sizes)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = z @ w
        s = s - np.maximum.reduceat(s, starts)[owner]
        e = np.exp(s)
        total, held = np.add.reduceat(e, starts), np.add.reduceat(e * y, starts)
        value = -np.sum(group_weight * (np.log(held) - np.log(total))) + 0.5 * l2 * w @ w
        # d/dw of -log(held/total): expected features under all candidates less under the answering ones
        coefficient = group_weight[owner] * (e / total[owner] - e * y / held[owner])
        return value, z.T @ coefficient + l2 * w

    w = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B").x
    return Linear(SENTENCE_FEATURES, mean, scale, w)


def fit_answerability(x: np.ndarray, y: np.ndarray, weights: np.ndarray, c: float = ANSWERABILITY_C) -> Linear:
    """Logistic regression of answerable (``y``) on the best candidate's features, L2-penalised
    (``1 / c``), the weights of ``EVIDENCE`` kept at 0 or more and of ``COUNTER_EVIDENCE`` at 0 or less."""
    from scipy.optimize import minimize

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / scale
    target = y.astype(np.float64)
    weights = weights / weights.sum()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        margin = z @ w + b
        p = sigmoid(margin)
        value = np.sum(weights * (np.logaddexp(0, margin) - target * margin)) + 0.5 * w @ w / (c * len(target))
        residual = weights * (p - target)
        return value, np.append(z.T @ residual + w / (c * len(target)), residual.sum())

    bounds = [(0, None) if name in EVIDENCE else (None, 0) if name in COUNTER_EVIDENCE else (None, None)
              for name in ANSWER_FEATURES] + [(None, None)]
    theta = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds).x
    return Linear(ANSWER_FEATURES, mean, scale, theta[:-1], float(theta[-1]))


def fit_calibration(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Platt scaling: (a, b) such that ``sigmoid(a * score + b)`` is a sentence's probability of holding the answer."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e4, max_iter=1000).fit(scores[:, None], labels, sample_weight=weights)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


@dataclass(frozen=True)
class _Scorer:
    """A ranker, its calibration and a margin under test, with no answerability (fitted after)."""

    ranker: Linear
    calibration: tuple[float, float]
    neighbour_margin: float
    threshold: float = 0.0

    def rank(self, features: np.ndarray) -> np.ndarray:
        return calibrated(self.ranker, self.calibration, features)

    def answerable(self, features: np.ndarray) -> float:
        return 0.0


ModelT = TypeVar("ModelT")


def fold_models(examples: Sequence[Example], splits: Sequence[tuple[np.ndarray, np.ndarray]], weights: np.ndarray,
                fitter: Callable[[list[Example], np.ndarray], ModelT]) -> list[ModelT]:
    """For each example, the model ``fitter`` makes from the training side of the split that tests it."""
    models: list[ModelT | None] = [None] * len(examples)
    for train, test in splits:
        model = fitter([examples[i] for i in train], weights[train])
        for i in test:
            models[i] = model
    return cast(list[ModelT], models)  # every example is in one test side


@dataclass(frozen=True)
class OutOfFold:
    """How each example is quoted by the ranker fitted without its article."""

    rankers: list[Linear]
    calibration: tuple[float, float]
    margin: float
    quote_hits: np.ndarray
    """Whether each answerable example's first quote holds a gold answer."""
    answer_vectors: np.ndarray
    """Each example's ``ANSWER_FEATURES``, as the answerability model meets them at run time."""


def out_of_fold(examples: Sequence[Example], splits: Sequence[tuple[np.ndarray, np.ndarray]],
                weights: np.ndarray) -> OutOfFold:
    """The rankers of the folds, their shared calibration, the neighbour margin chosen on their
    quotes, and the quotes' hits and answer features."""
    rankers = fold_models(examples, splits, weights, fit_ranker)
    calibration = fit_calibration(
        np.concatenate([ranker(e.candidates.features) for e, ranker in zip(examples, rankers)]),
        np.concatenate([e.labels for e in examples]), np.repeat(weights, [len(e.labels) for e in examples]))
    scorers = {m: [_Scorer(ranker, calibration, m) for ranker in rankers] for m in MARGINS}
    hits_by_margin = {m: _quote_hits(examples, scorers[m]) for m in MARGINS}
    best = max(_mean_by_dataset(examples, hits) for hits in hits_by_margin.values())
    margin = min(m for m in MARGINS if _mean_by_dataset(examples, hits_by_margin[m]) >= best - MARGIN_TOLERANCE)
    return OutOfFold(rankers, calibration, margin, hits_by_margin[margin], _answer_vectors(examples, scorers[margin]))


def fit(examples: Sequence[Example], *, folds: int = FOLDS, fraction: float = 1.0, seed: int = 0,
        about: dict | None = None) -> tuple[AnswerModel, FitReport]:
    """Fit both models on ``examples``; the report holds the out-of-fold figures (``fraction``
    keeps that share of each training fold's articles, for a learning curve)."""
    weights = balanced_weights(examples)
    rng = np.random.default_rng(seed)
    splits = [(_subsample(examples, train, fraction, rng), test) for train, test in article_folds(examples, folds)]
    held = out_of_fold(examples, splits, weights)
    vectors = held.answer_vectors
    answerable = np.array([e.answerable for e in examples])
    probabilities = np.zeros(len(examples))
    for train, test in splits:
        fold_answerability = fit_answerability(vectors[train], answerable[train], weights[train])
        probabilities[test] = sigmoid(fold_answerability(vectors[test]))
    report = FitReport(margin=held.margin)
    report.threshold = min(float(np.quantile(probabilities[_of(examples, name) & answerable], 1 - ANSWERED))
                           for name in _datasets(examples) if (_of(examples, name) & answerable).any())
    hits = held.quote_hits
    for name in _datasets(examples):
        mine = _of(examples, name)
        kept = probabilities >= report.threshold
        report.by_dataset[name] = {
            "quote_hit_at_1": _share(hits, mine & answerable),
            "answered": _share(kept, mine & answerable),
            "refused_unanswerable": _share(~kept, mine & ~answerable),
            "quote_hit_at_1_answered": _share(hits & kept, mine & answerable),
        }
    ranker = fit_ranker(list(examples), weights)
    answerability = fit_answerability(vectors, answerable, weights)
    details = dict(about or {}, out_of_fold=report.by_dataset, folds=folds, ranker_l2=RANKER_L2,
                   answerability_c=ANSWERABILITY_C, fitted=dt.date.today().isoformat())
    model = AnswerModel(ranker, held.calibration, answerability, report.threshold, report.margin, details)
    return model, report


def fit_files(datasets: Sequence[str | os.PathLike], *, out: str | os.PathLike = DEFAULT_MODEL_FILE,
              embedder: Embedder | None = None, progress: bool = True, learning_curve: bool = False,
              work_dir: str | os.PathLike = DEFAULT_WORK_DIR) -> FitReport:
    """Fit on the SQuAD-format files ``datasets`` and save the model to ``out``."""
    embedder = embedder or Embedder(None)
    examples = collect(datasets, embedder, progress=progress, work_dir=work_dir)
    about = {"embedding_model": embedder.name, "runtime": embedder.runtime,
             "data": [{"file": Path(p).name, "sha256": _sha256(p)} for p in datasets]}
    model, report = fit(examples, about=about)
    if learning_curve:
        for fraction in (0.25, 0.5):
            report.learning_curve[str(fraction)] = fit(examples, fraction=fraction)[1].by_dataset
        report.learning_curve["1.0"] = report.by_dataset
    model.save(out)
    return report


def _quote_hits(examples: Sequence[Example], scorers: Sequence[_Scorer]) -> np.ndarray:
    """Whether each example's first quote holds a gold answer, chosen by its fold's scorer."""
    hits = np.zeros(len(examples), dtype=bool)
    for i, (example, scorer) in enumerate(zip(examples, scorers)):
        if example.answerable:
            quotes = choose_quotes(example.candidates, scorer).quotes
            hits[i] = bool(quotes) and contains_answer(quotes[0].text, example.answers)
    return hits


def _answer_vectors(examples: Sequence[Example], scorers: Sequence[_Scorer]) -> np.ndarray:
    """Each example's answer features as its fold's scorer chooses its quote."""
    rows = []
    for example, scorer in zip(examples, scorers):
        vector = answer_features(choose_quotes(example.candidates, scorer), example.hits)
        rows.append(vector if vector is not None else np.zeros(len(ANSWER_FEATURES)))
    return np.vstack(rows)


def balanced_weights(examples: Sequence[Example]) -> np.ndarray:
    """A weight per example such that each data set weighs the same in all."""
    sizes = {name: int(_of(examples, name).sum()) for name in _datasets(examples)}
    return np.array([len(examples) / (len(sizes) * sizes[e.dataset]) for e in examples])


def article_folds(examples: Sequence[Example], folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``folds`` splits of the examples' indexes into training and test sides, each group on one side."""
    from sklearn.model_selection import GroupKFold

    groups = [e.group for e in examples]
    return list(GroupKFold(n_splits=folds).split(np.zeros(len(examples)), groups=groups))


def _subsample(examples: Sequence[Example], train: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """The training rows of a random ``fraction`` of their articles."""
    if fraction >= 1.0:
        return train
    groups = sorted({examples[i].group for i in train})
    kept = {groups[j] for j in rng.permutation(len(groups))[: max(1, round(fraction * len(groups)))]}
    return np.array([i for i in train if examples[i].group in kept])


def _datasets(examples: Sequence[Example]) -> list[str]:
    return sorted({e.dataset for e in examples})


def _of(examples: Sequence[Example], name: str) -> np.ndarray:
    return np.array([e.dataset == name for e in examples])


def _mean_by_dataset(examples: Sequence[Example], hits: np.ndarray) -> float:
    answerable = np.array([e.answerable for e in examples])
    return float(np.mean([hits[_of(examples, name) & answerable].mean() for name in _datasets(examples)
                          if (_of(examples, name) & answerable).any()]))


def _share(values: np.ndarray, where: np.ndarray) -> float | None:
    """The share of ``values`` that are true where ``where`` is; None where it never is."""
    return float(values[where].mean()) if where.any() else None


def _sha256(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

