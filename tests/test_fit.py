"""Fitting the answer model: reproducible from labelled data, saved and loaded to the same scores,
and a guard that its quality on part of the training news does not fall."""

import json
from pathlib import Path

import numpy as np
import pytest

from qa.answer.model import AnswerModelError, load_answer_model
from qa.evaluation.fit import collect, fit
from qa.evaluation.run import evaluate_squad

TRAIN = Path(__file__).resolve().parent.parent.parent / "shared" / "train" / "bbc-news" / "bbc-news.train-a.json"
needs_training_data = pytest.mark.skipif(not TRAIN.is_file(), reason="needs ../shared/train (the labelled data)")


def slice_of(path: Path, articles: int, out: Path) -> Path:
    """The first ``articles`` articles of a SQuAD file (with and without questions), as a file of its own."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data["data"] = data["data"][:articles]
    out.write_text(json.dumps(data), encoding="utf-8")
    return out


PLACES = ("the northern ridge", "the salt marsh", "the east weir", "the pine wood", "the old quarry")


def field_reports(out: Path, count: int = 30) -> Path:
    """A SQuAD 2.0 file of ``count`` field reports written here, each an article with two questions
    it answers and one it does not (who led the team: no report says)."""
    articles = []
    for n in range(1, count + 1):
        word, place = f"{('SHREW', 'OTTER', 'HERON', 'VOLE')[n % 4]}-{n + 30}", PLACES[n % 5]
        context = (f"Field report {n}\n\nThe survey team filed field report {n} from {place} after a week of "
                   f"counting birds. The code word of field report {n} is {word}. Rain fell on {n % 6 + 1} days.")
        qas = [{"id": f"{n}a", "question": f"What is the code word of field report {n}?", "is_impossible": False,
                "answers": [{"text": word, "answer_start": context.index(word)}]},
               {"id": f"{n}b", "question": f"Where was field report {n} filed from?", "is_impossible": False,
                "answers": [{"text": place, "answer_start": context.index(place)}]},
               {"id": f"{n}c", "question": f"Who led the survey team of field report {n}?", "is_impossible": True,
                "answers": []}]
        articles.append({"title": f"Field report {n}", "paragraphs": [{"context": context, "qas": qas}]})
    out.write_text(json.dumps({"version": "v2.0", "data": articles}), encoding="utf-8")
    return out


def test_a_fitted_model_is_saved_and_loaded_to_the_same_scores(tmp_path, embedder):
    data = field_reports(tmp_path / "reports.json")
    examples = collect([data], embedder, progress=False, work_dir=tmp_path / "work")
    assert any(e.answerable for e in examples) and any(not e.answerable for e in examples)
    model, report = fit(examples, folds=3, about={"test": True})
    figures = report.by_dataset["reports.json"]
    assert 0.3 < figures["quote_hit_at_1"] <= 1 and figures["answered"] >= 0.9
    model.save(tmp_path / "model.json")
    loaded = load_answer_model(tmp_path / "model.json")
    assert loaded.threshold == model.threshold and loaded.neighbour_margin == model.neighbour_margin
    for example in examples[:20]:
        features = example.candidates.features
        assert np.allclose(loaded.rank(features), model.rank(features))
        vector = np.linspace(0, 1, len(model.answerability.features))
        assert loaded.answerable(vector) == pytest.approx(model.answerable(vector))

    saved = json.loads((tmp_path / "model.json").read_text())
    saved["ranker"]["features"][0] = "something else"
    (tmp_path / "other.json").write_text(json.dumps(saved))
    with pytest.raises(AnswerModelError, match="other features"):
        load_answer_model(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(AnswerModelError, match="can't be read"):
        load_answer_model(tmp_path / "broken.json")


QUALITY_FLOOR = {"quote_hit_at_1": 0.85, "answered_rate": 0.95, "refused_unanswerable_rate": 0.12}
"""What the shipped model reaches on the first 120 articles of bbc-news train-a (68 answerable and
25 unanswerable questions: 0.868, 0.985 and 0.16 when it was fitted, 2026-12-07), less about one
question each for the runtimes' rounding."""


@needs_training_data
@pytest.mark.slow
def test_quality_on_training_news_does_not_fall(tmp_path, embedder):
    data = slice_of(TRAIN, 120, tmp_path / "guard.json")
    report = evaluate_squad(data, progress=False, embedder=embedder, work_dir=tmp_path / "work")
    for measure, floor in QUALITY_FLOOR.items():
        assert getattr(report, measure) >= floor, (measure, getattr(report, measure))
