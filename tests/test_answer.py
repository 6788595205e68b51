import json
import shutil
from dataclasses import replace

import pytest

from qa import Retriever
from qa.answer.quotes import (
    Candidate,
    answer_confidence,
    choose_quotes,
    fact_stands_apart,
    missing_numbers,
    phrase_overlap,
    sentence_features,
    subject_terms,
    tells_of_another,
    term_overlap,
    verb_stem,
)
from qa.format_history import RECALIBRATE, version
from qa.index.calibration import save_calibration
from qa.results import Hit, ScoredSentence
from qa.scoring import DEFAULT_SCORING, built_in_threshold
from qa.text.sentences import split_sentences
from qa.text.words import terms

TEXT = ("The Kestrel Lighthouse stands on a granite headland. It was built in 1871 by the engineer Margit Olsen. "
        "Its lamp can be seen from 22 nautical miles away.")


def sentences(similarities):
    spans, start = [], 0
    for part, similarity in zip(TEXT.split(". "), similarities):
        end = start + len(part) + (0 if part.endswith(".") else 1)
        spans.append(ScoredSentence(start, end, similarity))
        start = end + 1
    return spans


def ranked(similarities, score=0.5):
    return [(Hit(TEXT, "l.txt", "Lighthouse", None, 0, len(TEXT), score), sentences(similarities))]


def test_answer_types_want_something_the_question_does_not_hold():
    question = "Who built the Kestrel Lighthouse?"
    spans = sentences([0.5, 0.5, 0.5])
    hit = ranked([0.5, 0.5, 0.5])[0][0]
    candidates = [Candidate(hit, 0, s, None) for s in spans]
    texts = [TEXT[s.start : s.end] for s in spans]
    answer_type = [features.answer_type for features in sentence_features(question, candidates, texts)]
    # "Kestrel Lighthouse" is in the question; only "Margit Olsen" is a new name, and told once.
    assert answer_type == [0.0, 1.0, 0.0]


def test_quotes_are_verbatim_and_take_in_a_close_neighbour():
    question = "Which lighthouse stands on a granite headland?"
    first = choose_quotes(question, ranked([0.6, 0.6, 0.1]), lambda _: TEXT)[0]
    assert first.text == TEXT[first.start : first.end]
    assert first.text == "The Kestrel Lighthouse stands on a granite headland. It was built in 1871 by the engineer Margit Olsen."
    alone = choose_quotes(question, ranked([0.7, 0.0, 0.0]), lambda _: TEXT)[0]
    assert alone.text == "The Kestrel Lighthouse stands on a granite headland."


def test_a_sentence_opening_with_a_pronoun_is_quoted_with_the_one_before():
    quote = choose_quotes("When was the lighthouse built?", ranked([0.1, 0.7, 0.1]), lambda _: TEXT)[0]
    assert quote.text == ("The Kestrel Lighthouse stands on a granite headland. "
                          "It was built in 1871 by the engineer Margit Olsen.")


def test_confidence_averages_the_best_quote_with_the_best_sentence_cosine():
    question = "Who built the lighthouse?"  # one pair of terms, (built, lighthouse), not side by side in TEXT
    candidates = ranked([0.2, 0.9, 0.3])
    quotes = choose_quotes(question, candidates, lambda _: TEXT)
    dense = (quotes[0].score + 0.9) / 2
    assert answer_confidence(question, quotes, candidates) == pytest.approx(dense / (1 + DEFAULT_SCORING.phrases_weight))
    weaker = ranked([0.2, 0.5, 0.3])
    assert answer_confidence(question, choose_quotes(question, weaker, lambda _: TEXT), weaker) < (
        answer_confidence(question, quotes, candidates))
    assert answer_confidence(question, [], candidates) == 0.0


def test_phrases_of_the_question_found_in_the_quoted_passage_raise_confidence():
    assert phrase_overlap("Who built the Kestrel Lighthouse?", TEXT) == 0.5  # "Kestrel Lighthouse", not "built Kestrel"
    assert phrase_overlap("Which engineer built it in 1871?", TEXT) == 0.5  # "built (in) 1871"
    assert phrase_overlap("Lighthouse?", TEXT) is None
    candidates = ranked([0.2, 0.9, 0.3])
    quotes = choose_quotes("Who built the Kestrel Lighthouse?", candidates, lambda _: TEXT)
    with_phrase = answer_confidence("Who built the Kestrel Lighthouse?", quotes, candidates)
    without = answer_confidence("Lighthouse Kestrel builder?", quotes, candidates)
    assert with_phrase - without == pytest.approx(DEFAULT_SCORING.phrases_weight * 0.5 / (1 + DEFAULT_SCORING.phrases_weight))
    one_word = answer_confidence("Lighthouse?", quotes, candidates)
    assert one_word == pytest.approx((quotes[0].score + 0.9) / 2), "no phrases to look for: the dense evidence alone"


def test_numbers_of_the_question_missing_from_the_quoted_passage_lower_confidence():
    assert missing_numbers("What happened in 1871?", TEXT) == 0.0
    assert missing_numbers("What happened in 1872?", TEXT) == 1.0
    assert missing_numbers("Was it built in 1,871 or in 1880?", TEXT) == 0.5
    assert missing_numbers("Can the lamp be seen 2 miles away?", TEXT) == 1.0, "a number, not digits inside 22"
    assert missing_numbers("Who built it?", TEXT) == 0.0
    candidates = ranked([0.2, 0.9, 0.3])
    quotes = choose_quotes("Who built the lighthouse in 1871?", candidates, lambda _: TEXT)
    held = answer_confidence("Who built the lighthouse in 1871?", quotes, candidates)
    lacking = answer_confidence("Who built the lighthouse in 1872?", quotes, candidates)
    assert held - lacking == pytest.approx(DEFAULT_SCORING.missing_numbers_weight)


def test_scores_rise_with_similarity_and_shared_words():
    low = choose_quotes("How far away can the lamp be seen?", ranked([0.1, 0.1, 0.3]), lambda _: TEXT)[0]
    high = choose_quotes("How far away can the lamp be seen?", ranked([0.1, 0.1, 0.7]), lambda _: TEXT)[0]
    assert "22 nautical miles" in low.text and "22 nautical miles" in high.text
    assert 0 < low.score < high.score <= 1


def test_calibrated_threshold_is_stored_with_its_model(index_dir, embedder, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    retriever = Retriever.load(copy, embedder=embedder)
    assert retriever.not_found_threshold == built_in_threshold(embedder.name, embedder.runtime)
    question = "Which administration is sending cluster munitions to Ukraine?"
    assert retriever.ask(question).answered

    save_calibration(copy, 0.99, model=embedder.name, note="test")
    assert json.loads((copy / "manifest.json").read_text())["not_found"]["threshold"] == 0.99
    retriever.reload()
    assert retriever.not_found_threshold == 0.99
    assert not retriever.ask(question).answered, "nothing scores 0.99"

    save_calibration(copy, 0.99, model="some/other-model")
    retriever.reload()
    assert retriever.not_found_threshold == built_in_threshold(embedder.name, embedder.runtime), "another model's value is ignored"

    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["not_found"] = {"model": embedder.name, "threshold": 0.99}  # stored for the quote score alone
    (copy / "manifest.json").write_text(json.dumps(manifest))
    retriever.reload()
    assert retriever.not_found_threshold == built_in_threshold(embedder.name, embedder.runtime), "another formula's value is ignored"
    assert len(retriever.missed_changes) == version(RECALIBRATE) - 1
    assert all(": re-calibrate with benchmarks/calibrate.py --save" in line for line in retriever.missed_changes)
    with pytest.raises(ValueError, match="between 0 and 1"):
        save_calibration(copy, 1.5, model=embedder.name)


def test_a_quote_that_lacks_the_asked_fact_takes_in_the_sentence_beside_it_that_tells_it():
    # The first sentence is worded most like the question, but only the second holds a year.
    quote = choose_quotes("When was the Kestrel Lighthouse on the granite headland built?",
                          ranked([0.8, 0.2, 0.1]), lambda _: TEXT)[0]
    assert "1871" in quote.text and quote.text.startswith("The Kestrel Lighthouse stands")


def test_a_measurable_fact_no_quote_holds_lowers_the_confidence(retriever):
    quotes = choose_quotes("How far away can the lamp be seen?", ranked([0.1, 0.1, 0.7]), lambda _: TEXT)
    trusting = replace(DEFAULT_SCORING, missing_fact_weight=0.0)
    for question, lacks in (("How far away can the lamp be seen?", False), ("How much does the lamp cost?", True),
                            ("How old is the lighthouse keeper?", True)):
        drop = (answer_confidence(question, quotes, ranked([0.1, 0.1, 0.7]), trusting)
                - answer_confidence(question, quotes, ranked([0.1, 0.1, 0.7])))
        assert drop == pytest.approx(DEFAULT_SCORING.missing_fact_weight if lacks else 0.0), question
    answer = retriever.ask("How much does one MK-20 bomb cost?")  # the article gives no price
    assert not answer.answered and answer.hits


def test_a_quote_about_another_place_or_owner_lowers_the_confidence(retriever, index_dir, embedder):
    # The question is set in a place the quote's document never names ("Britain" names "British").
    assert tells_of_another("How far away can the lamp be seen in Norway?", TEXT, TEXT)
    assert not tells_of_another("How far away can the lamp be seen at the Kestrel Lighthouse?", TEXT, TEXT)
    assert not tells_of_another("When does the film open in British cinemas?", "It opens in May.",
                                "It opens in Britain in May.")
    assert not tells_of_another("Who sits in the SP?", "Members sit there.", "Members sit in the Scottish Parliament.")
    # The quote gives another name's or another number's thing.
    quote = "Margit Olsen, Kestrel's chief engineer, drew the plans."
    assert tells_of_another("Who is Halden's chief engineer?", quote, quote)
    assert not tells_of_another("Who is Kestrel's chief engineer?", quote, quote)
    assert not tells_of_another("Who is Halden's chief engineer?", "The firm's chief engineer drew the plans.", quote)
    quote = "Margit Olsen won the third round of the regatta, and the first."
    assert tells_of_another("Whom will Olsen race in the fourth round?", quote, quote)
    assert not tells_of_another("Whom did Olsen race in the third round?", quote, quote)
    assert not tells_of_another("Whom did Olsen race in the first round?", quote, quote)
    # The measurable fact asked for is set in another place.
    quote = "The trust employs 40 keepers in Scotland alone, and runs lighthouses in Wales."
    assert tells_of_another("How many keepers does the trust employ in Wales?", quote, quote)
    assert not tells_of_another("How many keepers does the trust employ in Scotland?", quote, quote)

    question = "How far away can the lamp be seen in Norway?"
    quotes = choose_quotes(question, ranked([0.1, 0.1, 0.7]), lambda _: TEXT)
    drop = (answer_confidence(question, quotes, ranked([0.1, 0.1, 0.7]))
            - answer_confidence(question, quotes, ranked([0.1, 0.1, 0.7]), document_text=lambda _: TEXT))
    assert drop == pytest.approx(DEFAULT_SCORING.other_subject_weight)
    question = "When do spring tides happen in Peru?"  # the article on tides names no place
    assert not retriever.ask(question).answered
    trusting = replace(DEFAULT_SCORING, other_subject_weight=0.0)
    assert Retriever.load(index_dir, embedder=embedder, scoring=trusting).ask(question).answered


def test_a_figure_far_from_the_words_that_ask_lowers_the_confidence(retriever, index_dir, embedder):
    question = "How many people came to the Ostby concert?"
    assert fact_stands_apart(question, "The hall seats 2,000.", (), 10)
    assert not fact_stands_apart(question, "About 2,000 people came to the concert.", (), 10)
    # Words of the document's subject can't tell one event from another; "how many" asks, it tells nothing.
    assert not fact_stands_apart(question, "Ostby's hall seats 2,000.", (), 10)
    assert fact_stands_apart(question, "Ostby's hall seats 2,000.", ("ostby",), 10)
    assert fact_stands_apart(question, "Many say the hall seats 2,000.", (), 10)
    # Near is within the given number of words on either side.
    quote = "About 2,000 of them, we are told, came to the concert."
    assert not fact_stands_apart(question, quote, (), 10)
    assert fact_stands_apart(question, quote, (), 2)
    # Only measurable kinds, and only when the quote states one (lacks_asked_fact covers the rest).
    assert not fact_stands_apart("Who came to the Ostby concert?", "The hall seats Anna Berg.", (), 10)
    assert not fact_stands_apart(question, "The hall was full.", (), 10)

    question = "How many visitors climb the lighthouse each year?"  # the lamp's 22 miles is no count of them
    quotes = choose_quotes(question, ranked([0.1, 0.1, 0.7]), lambda _: TEXT)
    trusting = replace(DEFAULT_SCORING, fact_apart_weight=0.0)
    drop = (answer_confidence(question, quotes, ranked([0.1, 0.1, 0.7]), trusting, document_text=lambda _: TEXT)
            - answer_confidence(question, quotes, ranked([0.1, 0.1, 0.7]), document_text=lambda _: TEXT))
    assert drop == pytest.approx(DEFAULT_SCORING.fact_apart_weight)
    question = "How many tourists visited Mount Ardent last year?"  # the article counts evacuated residents
    assert not retriever.ask(question).answered
    assert Retriever.load(index_dir, embedder=embedder, scoring=trusting).ask(question).answered


def test_the_title_is_never_quoted():
    text = "Lighthouse keepers go home\n\nThe last keeper of the Kestrel Lighthouse left in 1990."
    spans = [ScoredSentence(0, 26, 0.9), ScoredSentence(28, len(text), 0.5)]
    hit = Hit(text, "k.txt", "Lighthouse keepers go home", None, 0, len(text), 0.6)
    quotes = choose_quotes("When did the lighthouse keepers go home?", [(hit, spans)], lambda _: text)
    assert [q.text for q in quotes] == ["The last keeper of the Kestrel Lighthouse left in 1990."]


FESTIVAL = ("Harbour Festival returns\n\nThe Harbour Festival returned to Port Elin on Saturday with music on three "
            "stages. A lantern parade along the quay will close the festival on Sunday evening. Tickets sold out "
            "within a week.")


def festival_ranked():
    spans = [ScoredSentence(s.start, s.end, 0.5) for s in split_sentences(FESTIVAL)]
    hit = Hit(FESTIVAL, "f.txt", "Harbour Festival returns", None, 0, len(FESTIVAL), 0.5)
    return [(hit, spans)]


def test_the_subject_is_the_title_and_opening_sentence():
    assert subject_terms("Harbour Festival returns", FESTIVAL) == frozenset(
        terms("Harbour Festival returns The Harbour Festival returned to Port Elin on Saturday with music on three "
              "stages."))


def test_the_words_that_ask_outweigh_the_words_of_the_subject():
    # The opening holds four of the question's five words, all of them the story's subject; the
    # answer holds the one word that asks ("close").
    question = "What will close the Harbour Festival in Port Elin?"
    alone = replace(DEFAULT_SCORING, neighbour_margin=0.0)  # each sentence quoted alone
    quote = choose_quotes(question, festival_ranked(), lambda _: FESTIVAL, alone)[0]
    assert quote.text == "A lantern parade along the quay will close the festival on Sunday evening."
    alike = replace(alone, subject_weight=1.0)
    assert choose_quotes(question, festival_ranked(), lambda _: FESTIVAL, alike)[0].text.startswith("The Harbour")


def test_a_who_question_prefers_the_name_beside_the_asked_role():
    question = "Who is the parade marshal at the Harbour Festival?"
    text = ("Harbour Festival returns\n\nSinger Maja Holm opened the Harbour Festival on Saturday. The lantern parade "
            "will be led by parade marshal Jonas Vik.")
    spans = [ScoredSentence(s.start, s.end, 0.5) for s in split_sentences(text)][1:]
    hit = Hit(text, "f.txt", "Harbour Festival returns", None, 0, len(text), 0.5)
    candidates = [Candidate(hit, 0, s, None) for s in spans]
    features = sentence_features(question, candidates, [text[s.start : s.end] for s in spans])
    assert [f.named_role for f in features] == [0.0, 1.0]  # "parade marshal Jonas Vik"; "Singer Maja Holm" is not
    scored = [f.score(DEFAULT_SCORING) - f.score(replace(DEFAULT_SCORING, named_role_weight=0.0)) for f in features]
    assert scored == pytest.approx([0.0, DEFAULT_SCORING.named_role_weight]) and scored[1] > 0


def test_the_overlap_finds_the_ed_and_ing_forms_of_the_question_words():
    def alike(_):
        return 1.0

    assert term_overlap(terms("Who was expecting the parcel?"), terms("The parcel was expected on Monday."), alike) == 1.0
    assert term_overlap(terms("When was the bridge opened?"), terms("The bridge opens in May."), alike) == 1.0
    assert verb_stem("expecting") == verb_stem("expected") == "expect"
    assert [verb_stem(word) for word in ("need", "bring", "speed")] == ["need", "bring", "speed"]  # too short to cut
