"""What else was tried for the answer model, each trial out of fold on the training files (folds
grouped by article, as ``qa fit`` makes them), beside the design that ships.

    python benchmarks/answer_model_trials.py ../shared/train/bbc-news/*.json ../shared/train/squad2-fragment/*.json

Boosted trees need ``pip install lightgbm``; token states come from the model run in torch.

- Sentence ranking (the share of answerable questions whose first-ranked candidate holds a gold
  answer): the shipped listwise linear ranker; boosted trees (LightGBM lambdarank) in its place;
  the linear ranker with more features: token alignment, each of the question's word pieces'
  best cosine with the sentence's (mean and least), in the model's input embeddings (static) or
  in its output token states (contextual: only the 8 candidates the linear ranker likes best,
  as it would be at run time, where the script times them) or asymmetric (the question's
  output states against each of the sentence's word pieces embedded alone, for every
  candidate); the cosine of the sentence read with the one before it in its document.
- Answerability (unanswerable questions refused, on the indexed articles and about articles held
  out of the index, at the threshold that answers 95% of each file's answerable questions): the
  shipped logistic model; boosted trees; the on-topic unanswerable questions weighted 2x and 4x.
- Passages (passage hit@1): the passage of the likeliest sentence first, as ``ask`` lists it,
  against a fitted listwise ranker of the passages on their sentences' probabilities, their
  retrieval score and rank.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from qa.answer.model import sigmoid
from qa.embed.model import Embedder
from qa.evaluation.fit import (
    ANSWERED,
    FOLDS,
    Example,
    _datasets,
    _of,
    article_folds,
    balanced_weights,
    collect,
    fit,
    fit_answerability,
    fit_ranker,
    fold_models,
    out_of_fold,
)
from qa.evaluation.metrics import contains_answer
from qa.text.sentences import split_sentences
from qa.text.words import STOPWORDS

CONTEXTUAL_CANDIDATES = 8
Scores = list[np.ndarray]
Fitter = Callable[[list[Example], np.ndarray], Callable[[np.ndarray], np.ndarray]]


def with_features(example: Example, features: np.ndarray, labels: np.ndarray | None = None) -> Example:
    candidates = dataclasses.replace(example.candidates, features=features)
    return dataclasses.replace(example, candidates=candidates, labels=example.labels if labels is None else labels)


def scored_out_of_fold(examples: list[Example], fitter: Fitter) -> Scores:
    """Each example's candidate scores by the model fitted on the folds without its article."""
    models = fold_models(examples, article_folds(examples, FOLDS), balanced_weights(examples), fitter)
    return [model(e.candidates.features) for e, model in zip(examples, models)]


def trees(examples: list[Example], weights: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    import lightgbm

    kept = [(e, w) for e, w in zip(examples, weights) if e.labels.any()]
    model = lightgbm.LGBMRanker(objective="lambdarank", num_leaves=4, n_estimators=300, learning_rate=0.05,
                                min_child_samples=50, verbose=-1)
    model.fit(np.vstack([e.candidates.features for e, _ in kept]), np.concatenate([e.labels for e, _ in kept]).astype(int),
              group=[len(e.labels) for e, _ in kept], sample_weight=np.repeat([w for _, w in kept],
                                                                                [len(e.labels) for e, _ in kept]))
    return lambda x: np.asarray(model.predict(x))


def first_hits(examples: list[Example], scores: Scores) -> dict[str, float]:
    """Per data set, the share of answerable questions whose best-scored candidate holds an answer."""
    return {name: float(np.mean([len(s) > 0 and e.labels[np.argmax(s)] for e, s in zip(examples, scores)
                                 if e.dataset == name and e.answerable]))
            for name in _datasets(examples) if any(e.answerable and e.dataset == name for e in examples)}


def fitted_figures(examples: list[Example]) -> dict[str, str]:
    """``qa fit``'s out-of-fold quote hit@1 / answered / refused per data set."""
    _, report = fit(examples)
    return {name: " / ".join(f"{value:.3f}" for key in ("quote_hit_at_1", "answered", "refused_unanswerable")
                             if (value := figures[key]) is not None) for name, figures in report.by_dataset.items()}


def token_alignment(question: np.ndarray, sentence: np.ndarray) -> tuple[float, float]:
    """The mean and least, over the question's token vectors, of each one's best cosine in the sentence's."""
    if not len(question) or not len(sentence):
        return 0.0, 0.0
    best = (question @ sentence.T).max(axis=1)
    return float(best.mean()), float(best.min())


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def static_alignment(examples: list[Example], model) -> list[np.ndarray]:
    """Token alignment of every candidate in the model's input embeddings."""
    table = unit(model[0].auto_model.embeddings.word_embeddings.weight.detach().float().numpy())
    tokenizer = model.tokenizer
    columns = []
    for example in examples:
        question = table[_question_ids(tokenizer, example.candidates.question.text)]
        rows = [token_alignment(question, table[tokenizer(text, add_special_tokens=False)["input_ids"]])
                for text in example.candidates.texts]
        columns.append(np.array(rows).reshape(-1, 2))
    return columns


def question_states(model, examples: list[Example]) -> dict[str, np.ndarray]:
    """The model's output states of each question's content word pieces, unit length."""
    questions = sorted({e.candidates.question.text for e in examples})
    states = {}
    for question, rows in zip(questions, model.encode(questions, output_value="token_embeddings", batch_size=64)):
        tokens = model.tokenizer.convert_ids_to_tokens(model.tokenizer(question)["input_ids"])
        states[question] = unit(rows.float().numpy())[[i for i, token in enumerate(tokens) if _is_content(token)]]
    return states


def contextual_alignment(examples: list[Example], model, first: Scores) -> list[np.ndarray]:
    """Token alignment in the model's output token states, for each question's ``CONTEXTUAL_CANDIDATES``
    best candidates by ``first`` (the rest get the least of those)."""
    asked = question_states(model, examples)
    tops = [np.argsort(-s)[:CONTEXTUAL_CANDIDATES] for s in first]
    texts = sorted({e.candidates.texts[j] for e, top in zip(examples, tops) for j in top})
    states = dict(zip(texts, model.encode(texts, output_value="token_embeddings", batch_size=64)))
    columns = []
    for example, top in zip(examples, tops):
        vectors = asked[example.candidates.question.text]
        column = np.zeros((len(example.labels), 2))
        for j in top:
            column[j] = token_alignment(vectors, unit(states[example.candidates.texts[j]].float().numpy()[1:-1]))
        column[np.setdiff1d(np.arange(len(column)), top)] = column[top].min(axis=0) if len(top) else 0.0
        columns.append(column)
    return columns


def asymmetric_alignment(examples: list[Example], model) -> list[np.ndarray]:
    """Token alignment of every candidate: the question's output token states against each of
    the sentence's word pieces embedded alone (a table of the vocabulary, made once per model)."""
    tokenizer = model.tokenizer
    vocabulary = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    table = model.encode([token.removeprefix("##") for token in vocabulary], batch_size=256,
                         normalize_embeddings=True)
    asked = question_states(model, examples)
    columns = []
    for example in examples:
        question = asked[example.candidates.question.text]
        rows = [token_alignment(question, table[tokenizer(text, add_special_tokens=False)["input_ids"]])
                for text in example.candidates.texts]
        columns.append(np.array(rows).reshape(-1, 2))
    return columns


def reading_cost(examples: list[Example], embedder: Embedder, first: Scores, sentences: int,
                 questions: int = 200) -> float:
    """Median milliseconds to run the model over a question's ``sentences`` best candidates by
    ``first`` (the embedder's runtime; pooling is the only step token states would not need)."""
    import time

    embedder.encode(["warm up"])
    times = []
    for example, score in list(zip(examples, first))[:questions]:
        texts = [example.candidates.texts[j] for j in np.argsort(-score)[:sentences]]
        started = time.perf_counter()
        embedder.encode(texts)
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def window_similarity(examples: list[Example], embedder: Embedder) -> list[np.ndarray]:
    """The cosine of each candidate read with the sentence before it in its document."""
    windows = [[_with_sentence_before(e.candidates.documents[j], c.sentence.start, c.sentence.end)
                for j, c in enumerate(e.candidates.items)] for e in examples]
    texts = sorted({text for rows in windows for text in rows})
    vectors = dict(zip(texts, embedder.encode(texts)))
    columns = []
    for example, rows in zip(examples, windows):
        question = embedder.encode_question(example.candidates.question.text)
        similarity = np.array([vectors[text] @ question for text in rows])
        columns.append(np.column_stack([similarity, similarity - similarity.max(initial=0.0)]))
    return columns


@lru_cache(maxsize=4096)
def _sentence_starts(document: str) -> tuple[int, ...]:
    return tuple(span.start for span in split_sentences(document))


def _with_sentence_before(document: str, start: int, end: int) -> str:
    starts = _sentence_starts(document)
    before = bisect.bisect_left(starts, start) - 1
    return document[starts[before] if before >= 0 else start : end]


def _question_ids(tokenizer, question: str) -> list[int]:
    ids = tokenizer(question, add_special_tokens=False)["input_ids"]
    kept = [i for i, token in zip(ids, tokenizer.convert_ids_to_tokens(ids)) if _is_content(token)]
    return kept or ids


def _is_content(token: str) -> bool:
    return token.isalnum() and token not in STOPWORDS


def refusals(examples: list[Example], probabilities: np.ndarray) -> dict[str, float]:
    """Per data set, the unanswerable questions refused at the threshold that answers ``ANSWERED``
    of every data set's answerable ones."""
    answerable = np.array([e.answerable for e in examples])
    threshold = min(float(np.quantile(probabilities[_of(examples, n) & answerable], 1 - ANSWERED))
                    for n in _datasets(examples) if (_of(examples, n) & answerable).any())
    return {n: float((probabilities < threshold)[_of(examples, n) & ~answerable].mean())
            for n in _datasets(examples) if (_of(examples, n) & ~answerable).any()}


def answerability_oof(examples: list[Example], vectors: np.ndarray, fitter, weights: np.ndarray) -> np.ndarray:
    answerable = np.array([e.answerable for e in examples])
    probabilities = np.zeros(len(examples))
    for train, test in article_folds(examples, FOLDS):
        probabilities[test] = fitter(vectors[train], answerable[train], weights[train])(vectors[test])
    return probabilities


def logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    model = fit_answerability(x, y, weights)
    return lambda z: sigmoid(model(z))


def boosted_answerability(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    import lightgbm

    model = lightgbm.LGBMClassifier(num_leaves=4, n_estimators=200, learning_rate=0.05, min_child_samples=40,
                                    verbose=-1).fit(x, y, sample_weight=weights)
    return lambda z: np.asarray(model.predict_proba(z))[:, 1]


def passage_hits(examples: list[Example], scores: Scores) -> tuple[dict[str, float], dict[str, float]]:
    """Passage hit@1 with the likeliest sentence's passage first, and with a fitted passage ranker."""
    passages = []
    for example, score in zip(examples, scores):
        probability = np.exp(score - score.max(initial=0.0))
        probability /= max(probability.sum(), 1e-12)
        rows, labels = [], []
        for rank, hit in enumerate(example.hits):
            mine = probability[[j for j, c in enumerate(example.candidates.items) if c.hit is hit]]
            rows.append([mine.max(initial=0.0), mine.sum(), hit.score, rank])
            labels.append(example.answerable and contains_answer(hit.text, example.answers))
        passages.append(with_features(example, np.array(rows).reshape(-1, 4), np.array(labels, dtype=bool)))
    likeliest = [p.candidates.features[:, 0] for p in passages]
    return first_hits(passages, likeliest), first_hits(passages, scored_out_of_fold(passages, fit_ranker))


def table(title: str, rows: dict[str, dict[str, float]] | dict[str, dict[str, str]]) -> None:
    print(f"\n{title}")
    for name, figures in rows.items():
        print(f"  {name:44} " + "; ".join(f"{d}: {v if isinstance(v, str) else f'{v:.3f}'}" for d, v in figures.items()),
              flush=True)


def main(datasets: Sequence[str]) -> None:
    embedder = Embedder()
    examples = collect(datasets, embedder, progress=False)
    model = Embedder(embedder.name, runtime="torch").model
    weights = balanced_weights(examples)
    held = out_of_fold(examples, article_folds(examples, FOLDS), weights)
    shipped = [ranker(e.candidates.features) for e, ranker in zip(examples, held.rankers)]
    extended = {
        "token alignment, static": static_alignment(examples, model),
        "token alignment, contextual (8 best)": contextual_alignment(examples, model, shipped),
        "token alignment, asymmetric": asymmetric_alignment(examples, model),
        "cosine with the sentence before": window_similarity(examples, embedder),
    }
    ranking = {"shipped linear ranker": first_hits(examples, shipped)}
    try:
        ranking["boosted trees (lambdarank)"] = first_hits(examples, scored_out_of_fold(examples, trees))
    except ImportError:
        print("lightgbm is not installed: no boosted trees")
    quoting = {"shipped design": fitted_figures(examples)}
    for name, columns in extended.items():
        more = [with_features(e, np.hstack([e.candidates.features, c])) for e, c in zip(examples, columns)]
        ranking[f"linear + {name}"] = first_hits(more, scored_out_of_fold(more, fit_ranker))
        quoting[f"+ {name}"] = fitted_figures(more)
    table("first candidate holds the answer (out of fold)", ranking)
    print(f"\nrunning the model over the best 4 / 8 candidates ({embedder.runtime}): "
          f"{reading_cost(examples, embedder, shipped, 4):.1f} / {reading_cost(examples, embedder, shipped, 8):.1f} "
          "ms p50 a question")
    table("quote hit@1 / answered / unanswerable refused, fitted as qa fit fits (out of fold)", quoting)

    vectors = held.answer_vectors
    on_topic = np.array([not e.answerable and "held out" not in e.dataset for e in examples])
    answering = {"shipped logistic": refusals(examples, answerability_oof(examples, vectors, logistic, weights))}
    for factor in (2.0, 4.0):
        heavier = weights * np.where(on_topic, factor, 1.0)
        answering[f"on-topic unanswerable weighted {factor:g}x"] = refusals(
            examples, answerability_oof(examples, vectors, logistic, heavier))
    try:
        answering["boosted trees"] = refusals(examples, answerability_oof(examples, vectors, boosted_answerability,
                                                                          weights))
    except ImportError:
        pass
    table("unanswerable refused, answering 95% of the answerable (out of fold)", answering)

    likeliest, fitted = passage_hits(examples, shipped)
    table("passage hit@1 (out of fold)", {"likeliest sentence's passage (ask)": likeliest,
                                          "fitted passage ranker": fitted})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+")
    main(parser.parse_args().datasets)
