"""The answer model's signals: each a feature of a (question, sentence) pair, written for any question of its form."""

import numpy as np

from qa.answer.features import (
    SENTENCE_FEATURES,
    fact_stands_apart,
    missing_numbers,
    phrase_overlap,
    sentence_matrix,
    subject_terms,
    tells_of_another,
    verb_stem,
)
from qa.answer.question import parse_question
from qa.results import Hit, ScoredSentence
from qa.text.sentences import split_sentences
from qa.text.words import terms

TEXT = ("The Kestrel Lighthouse stands on a granite headland. It was built in 1871 by the engineer Margit Olsen. "
        "Its lamp can be seen from 22 nautical miles away.")


def features(question: str, text: str, title: str = "Lighthouse", similarity: float = 0.5) -> dict[str, list[float]]:
    """Each feature's value for each sentence of ``text``, as one passage."""
    hit = Hit(text, "t.txt", title, None, 0, len(text), 0.5)
    spans = [ScoredSentence(s.start, s.end, similarity) for s in split_sentences(text)]
    matrix = sentence_matrix(parse_question(question), [(hit, 0, s) for s in spans],
                             [text[s.start : s.end] for s in spans], [text] * len(spans))
    return {name: matrix[:, j].tolist() for j, name in enumerate(SENTENCE_FEATURES)}


def q(text: str):
    return parse_question(text)


def test_a_fact_of_the_asked_kind_counts_when_the_question_does_not_hold_it():
    found = features("Who built the Kestrel Lighthouse?", TEXT)
    # "Kestrel Lighthouse" is in the question; only "Margit Olsen" is a new name, and told once.
    assert found["fact"] == [0.0, 1.0, 0.0] and found["unique_fact"] == [0.0, 1.0, 0.0]
    assert found["fact_beside"] == [1.0, 0.0, 1.0]
    assert found["fact_named"] == [0.0, 1.0, 0.0] and found["fact_measurable"] == [0.0, 0.0, 0.0]
    assert features("How far away can the lamp be seen?", TEXT)["fact_measurable"] == [0.0, 0.0, 1.0]


def test_a_who_question_marks_the_name_beside_the_asked_role():
    text = ("Harbour Festival returns\n\nSinger Maja Holm opened the Harbour Festival on Saturday. The lantern parade "
            "will be led by parade marshal Jonas Vik.")
    found = features("Who is the parade marshal at the Harbour Festival?", text, title="Harbour Festival returns")
    assert found["named_role"][-2:] == [0.0, 1.0]  # "parade marshal Jonas Vik"; "Singer Maja Holm" is not


def test_the_numbers_a_question_names_must_stand_in_the_sentence():
    text = "The code word of field report 5 is SHREW-38. The code word of field report 15 is OTTER-12."
    found = features("What is the code word of field report 15?", text)
    assert found["identifiers_missing"] == [1.0, 0.0]
    assert features("What is the code word of the report?", text)["identifiers_missing"] == [0.0, 0.0]


def test_the_focus_words_beyond_the_subject_and_the_opening():
    text = ("Harbour Festival returns\n\nThe Harbour Festival returned to Port Elin on Saturday with music on three "
            "stages. A lantern parade along the quay will close the festival on Sunday evening.")
    found = features("What will close the Harbour Festival in Port Elin?", text, title="Harbour Festival returns")
    # The opening holds four of the question's words, all of them its subject; the answer holds "close".
    assert found["opening"][-2:] == [1.0, 0.0]
    assert found["focus_overlap"][-2:] == [0.0, 1.0]
    assert found["rarest_present"][-1] == 1.0


def test_the_gaps_are_to_the_best_candidate():
    hit = Hit(TEXT, "t.txt", "Lighthouse", None, 0, len(TEXT), 0.5)
    spans = [ScoredSentence(s.start, s.end, sim) for s, sim in zip(split_sentences(TEXT), (0.2, 0.7, 0.4))]
    matrix = sentence_matrix(q("Who built it?"), [(hit, 0, s) for s in spans], [TEXT[s.start:s.end] for s in spans],
                             [TEXT] * 3)
    gap = matrix[:, SENTENCE_FEATURES.index("similarity_gap")]
    assert np.allclose(gap, [-0.5, 0.0, -0.3])


def test_phrases_and_numbers_of_the_question():
    assert phrase_overlap(q("Who built the Kestrel Lighthouse?"), TEXT) == 0.5  # "Kestrel Lighthouse", not "built Kestrel"
    assert phrase_overlap(q("Which engineer built it in 1871?"), TEXT) == 0.5  # "built (in) 1871"
    assert phrase_overlap(q("Lighthouse?"), TEXT) is None
    assert missing_numbers(q("What happened in 1871?"), TEXT) == 0.0
    assert missing_numbers(q("What happened in 1872?"), TEXT) == 1.0
    assert missing_numbers(q("Was it built in 1,871 or in 1880?"), TEXT) == 0.5
    assert missing_numbers(q("Can the lamp be seen 2 miles away?"), TEXT) == 1.0, "a number, not digits inside 22"
    assert missing_numbers(q("Who built it?"), TEXT) == 0.0


def test_a_quote_about_another_place_or_owner():
    # The question is set in a place the quote's document never names ("Britain" names "British").
    assert tells_of_another(q("How far away can the lamp be seen in Norway?"), TEXT, TEXT)
    assert not tells_of_another(q("How far away can the lamp be seen at the Kestrel Lighthouse?"), TEXT, TEXT)
    assert not tells_of_another(q("When does the film open in British cinemas?"), "It opens in May.",
                                "It opens in Britain in May.")
    assert not tells_of_another(q("Who sits in the SP?"), "Members sit there.", "Members sit in the Scottish Parliament.")
    quote = "Margit Olsen, Kestrel's chief engineer, drew the plans."
    assert tells_of_another(q("Who is Halden's chief engineer?"), quote, quote)
    assert not tells_of_another(q("Who is Kestrel's chief engineer?"), quote, quote)
    quote = "Margit Olsen won the third round of the regatta, and the first."
    assert tells_of_another(q("Whom will Olsen race in the fourth round?"), quote, quote)
    assert not tells_of_another(q("Whom did Olsen race in the third round?"), quote, quote)
    quote = "The trust employs 40 keepers in Scotland alone, and runs lighthouses in Wales."
    assert tells_of_another(q("How many keepers does the trust employ in Wales?"), quote, quote)
    assert not tells_of_another(q("How many keepers does the trust employ in Scotland?"), quote, quote)


def test_a_figure_far_from_the_words_that_ask():
    question = q("How many people came to the Ostby concert?")
    assert fact_stands_apart(question, "The hall seats 2,000.", ())
    assert not fact_stands_apart(question, "About 2,000 people came to the concert.", ())
    # Words of the document's subject can't tell one event from another; "how many" asks, it tells nothing.
    assert not fact_stands_apart(question, "Ostby's hall seats 2,000.", ())
    assert fact_stands_apart(question, "Ostby's hall seats 2,000.", ("ostby",))
    assert not fact_stands_apart(q("Who came to the Ostby concert?"), "The hall seats Anna Berg.", ())
    assert not fact_stands_apart(question, "The hall was full.", ())


def test_the_subject_is_the_title_and_opening_sentence():
    text = "Harbour Festival returns\n\nThe Harbour Festival returned to Port Elin on Saturday. Tickets sold out."
    assert subject_terms("Harbour Festival returns", text) == frozenset(
        terms("Harbour Festival returns The Harbour Festival returned to Port Elin on Saturday."))


def test_word_forms_match_across_endings():
    assert verb_stem("expecting") == verb_stem("expected") == "expect"
    assert verb_stem("evacuation") == verb_stem("evacuated")
    assert [verb_stem(word) for word in ("need", "bring", "speed")] == ["need", "bring", "speed"]  # too short to cut
    found = features("Who was expecting the parcel?", "Parcel post\n\nThe parcel was expected on Monday.")
    assert found["focus_overlap"][-1] == 1.0


def test_a_question_is_parsed_once_into_its_parts():
    question = parse_question("How many keepers did Ryanair's chief hire in Wales in the fourth round of 2004 now?")
    assert question.kind.name == "count" and question.asking.lower() == "how many"
    assert "keeper" in question.focus and "many" not in question.focus
    assert question.settings == ("Wales",) and question.owned == (("Ryanair", "chief"),)
    assert question.numbered == (("fourth", "round"),) and question.identifiers == {"2004"}
    assert question.latest and not question.asks_who
    assert [name[:7] for name in question.names] == ["Ryanair", "Wales"]  # not "How", which opens it
    assert parse_question("Who won?").asks_who
