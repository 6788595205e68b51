"""Quotes chosen by the fitted answer model: verbatim, whole sentences, and refused when nothing answers."""

import json
import shutil

import numpy as np
import pytest

from qa import Retriever
from qa.answer.model import shipped_model
from qa.answer.question import parse_question
from qa.answer.quotes import answer_confidence, candidate_sentences, choose_quotes
from qa.format_history import RECALIBRATE, version
from qa.index.calibration import save_calibration
from qa.results import Hit, ScoredSentence
from qa.text.sentences import split_sentences

TEXT = ("The Kestrel Lighthouse stands on a granite headland. It was built in 1871 by the engineer Margit Olsen. "
        "Its lamp can be seen from 22 nautical miles away.")


def ranked(text, similarities, title="Lighthouse", score=0.5):
    spans = [ScoredSentence(s.start, s.end, sim) for s, sim in zip(split_sentences(text), similarities)]
    return [(Hit(text, "l.txt", title, None, 0, len(text), score), spans)]


def choose(question, passages, text=TEXT):
    candidates = candidate_sentences(parse_question(question), passages, lambda _: text)
    return choose_quotes(candidates, shipped_model())


def test_quotes_are_verbatim_sentences_scored_as_probabilities():
    choice = choose("How far away can the lamp be seen?", ranked(TEXT, [0.1, 0.1, 0.7]))
    first = choice.quotes[0]
    assert first.text == TEXT[first.start : first.end] and "22 nautical miles" in first.text
    assert 0 < first.score <= 1
    assert [q.score for q in choice.quotes] == sorted((q.score for q in choice.quotes), reverse=True)


def test_the_model_picks_the_sentence_that_holds_the_asked_fact():
    # Worded most like the question, the first sentence holds no name: the second names the builder.
    quote = choose("Who built the Kestrel Lighthouse on the granite headland?", ranked(TEXT, [0.7, 0.5, 0.1])).quotes[0]
    assert "Margit Olsen" in quote.text


def test_a_sentence_opening_with_a_pronoun_is_quoted_with_the_one_before():
    quote = choose("When was the lighthouse built?", ranked(TEXT, [0.1, 0.7, 0.1])).quotes[0]
    assert quote.text.startswith("The Kestrel Lighthouse stands") and "1871" in quote.text


def test_the_title_is_never_quoted():
    text = "Lighthouse keepers go home\n\nThe last keeper of the Kestrel Lighthouse left in 1990."
    quotes = choose("When did the lighthouse keepers go home?",
                    ranked(text, [0.9, 0.5], title="Lighthouse keepers go home"), text).quotes
    assert [q.text for q in quotes] == ["The last keeper of the Kestrel Lighthouse left in 1990."]


def test_a_heading_is_not_quoted_when_a_body_sentence_is_there():
    text = ("Keeping the light\n\nWhy is the lamp red\n\nThe lamp is red so that ships can tell it from the harbour "
            "lights. It turns twice a minute.")
    quotes = choose("Why is the lamp red?", ranked(text, [0.3, 0.95, 0.6, 0.2], title="Keeping the light"), text).quotes
    assert quotes and all("Why is the lamp red" not in q.text for q in quotes)
    assert quotes[0].text.startswith("The lamp is red so that")
    alone = "Why is the lamp red\n"
    assert choose("Why is the lamp red?", ranked(alone, [0.9], title="Lamps"), alone).quotes, "a heading alone may be quoted"


def test_the_confidence_is_the_answerability_probability():
    passages = ranked(TEXT, [0.2, 0.9, 0.3])
    choice = choose("Who built the Kestrel Lighthouse?", passages)
    confidence = answer_confidence(choice, [hit for hit, _ in passages], shipped_model())
    assert 0 < confidence < 1
    weaker = choose("Who built the Kestrel Lighthouse?", ranked(TEXT, [0.0, 0.1, 0.0]))
    assert answer_confidence(weaker, [hit for hit, _ in passages], shipped_model()) < confidence
    empty = choose("Who?", [])
    assert empty.quotes == [] and answer_confidence(empty, [], shipped_model()) == 0.0


def test_the_answer_model_answers_and_refuses_on_real_text(retriever):
    answer = retriever.ask("Which administration is sending cluster munitions to Ukraine?")
    assert answer.answered and "Biden administration" in answer.quotes[0].text
    assert answer.confidence >= retriever.not_found_threshold
    refused = retriever.ask("What is the boiling point of mercury?")
    assert not refused.answered and refused.hits and refused.confidence < retriever.not_found_threshold


def test_another_scorer_can_take_the_models_place(index_dir, embedder):
    class Contrary:
        """Ranks the sentences the model likes least first, and always answers."""

        threshold = 0.5
        neighbour_margin = 0.0

        def rank(self, features):
            return 1 - shipped_model().rank(features)

        def answerable(self, features):
            return 1.0

    retriever = Retriever.load(index_dir, embedder=embedder)
    question = "Which administration is sending cluster munitions to Ukraine?"
    usual = retriever.ask(question).quotes[0].text
    retriever.scorer = Contrary()
    contrary = retriever.ask(question)
    assert contrary.answered and contrary.confidence == 1.0 and contrary.quotes[0].text != usual
    assert retriever.ask("What is the boiling point of mercury?").answered, "this scorer never refuses"


def test_calibrated_threshold_is_stored_with_its_model(index_dir, embedder, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    retriever = Retriever.load(copy, embedder=embedder)
    assert retriever.not_found_threshold == shipped_model().threshold
    question = "Which administration is sending cluster munitions to Ukraine?"
    assert retriever.ask(question).answered

    save_calibration(copy, 0.999, model=embedder.name, note="test")
    assert json.loads((copy / "manifest.json").read_text())["not_found"]["threshold"] == 0.999
    retriever.reload()
    assert retriever.not_found_threshold == 0.999
    assert not retriever.ask(question).answered, "nothing is that sure"

    save_calibration(copy, 0.999, model="some/other-model")
    retriever.reload()
    assert retriever.not_found_threshold == shipped_model().threshold, "another model's value is ignored"

    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["not_found"] = {"model": embedder.name, "threshold": 0.999}  # stored for an older confidence
    (copy / "manifest.json").write_text(json.dumps(manifest))
    retriever.reload()
    assert retriever.not_found_threshold == shipped_model().threshold, "another formula's value is ignored"
    assert len(retriever.missed_changes) == version(RECALIBRATE) - 1
    assert all(": re-calibrate with benchmarks/calibrate.py --save" in line for line in retriever.missed_changes)
    with pytest.raises(ValueError, match="between 0 and 1"):
        save_calibration(copy, 1.5, model=embedder.name)


def test_numbered_near_duplicates_are_told_apart(tmp_path, embedder):
    from qa import build_index

    docs = tmp_path / "reports"
    docs.mkdir()
    words = ["SHREW", "OTTER", "HERON", "VOLE", "MARTEN", "PLOVER", "STOAT", "WREN"]
    for n in range(1, 21):
        (docs / f"report-{n}.txt").write_text(
            f"Field report {n}\n\nThe survey team filed field report {n} from the northern ridge. "
            f"The code word of field report {n} is {words[n % 8]}-{n + 30}. The weather was fair.", encoding="utf-8")
    build_index([docs], tmp_path / "index", progress=False, embedder=embedder)
    retriever = Retriever.load(tmp_path / "index", embedder=embedder)
    wrong = 0
    for n in (3, 12, 15, 20):
        answer = retriever.ask(f"What is the code word of field report {n}?")
        assert answer.answered, n
        wrong += f"{words[n % 8]}-{n + 30}" not in answer.quotes[0].text
    assert wrong == 0
    assert np.isfinite(retriever.not_found_threshold)
