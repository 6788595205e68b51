"""Follow-up questions understood without an LLM: context carried from the previous turn."""

from __future__ import annotations

import pytest

from ui.followup import MAX_CARRIED, interpret, interpret_history, key_terms, leans_on_context

FIRST = "What is NATO's position on cluster munitions?"


def test_key_terms_drop_question_words_and_repeats():
    assert key_terms("What is NATO's position on cluster munitions? Cluster!") == [
        "NATO", "position", "cluster", "munitions"]
    assert key_terms("When did they stop making the MK-20?") == ["stop", "making", "MK-20"]


@pytest.mark.parametrize("question", [
    "What about Russia?", "And Ukraine?", "When did they stop making it?", "Why?", "Russia?",
    "How about the US", "Who sold them?",
])
def test_questions_that_lean_on_context(question):
    assert leans_on_context(question)


@pytest.mark.parametrize("question", [
    FIRST, "How many countries have banned cluster munitions?",
    "What did Human Rights Watch say about their use of cluster munitions in Ukraine?",
])
def test_questions_that_stand_alone(question):
    assert not leans_on_context(question)


def test_first_question_is_searched_as_asked():
    understood = interpret(f"  {FIRST} ")
    assert (understood.query, understood.is_followup) == (FIRST, False)


def test_standalone_question_after_another_is_not_rewritten():
    second = "How many countries have banned cluster munitions?"
    assert interpret(second, interpret(FIRST)).query == second


def test_what_about_a_name_swaps_the_previous_name_and_keeps_the_topic():
    understood = interpret("What about Russia?", interpret(FIRST))
    assert understood.query == "What about Russia? position cluster munitions"
    assert understood.carried == ("position", "cluster", "munitions")


def test_what_about_a_thing_keeps_the_whole_previous_question():
    understood = interpret("What about civilians?", interpret(FIRST))
    assert understood.carried == ("NATO", "position", "cluster", "munitions")


def test_a_second_what_about_swaps_the_subject_again():
    second = interpret("What about civilians?", interpret(FIRST))
    third = interpret("And Ukraine?", second)
    assert third.query == "And Ukraine? position cluster munitions"
    assert "civilians" not in third.carried


def test_pronoun_follow_up_carries_everything_searched_before():
    before = interpret("What about the MK-20?", interpret("Who produced cluster bombs?"))
    understood = interpret("When did they stop making it?", before)
    assert understood.carried[:1] == ("MK-20",)
    assert "produced" in understood.carried and "making" not in understood.carried


def test_carried_terms_are_capped():
    long = "Tell me about alpha beta gamma delta epsilon zeta eta theta iota kappa"
    assert len(interpret("Why?", interpret(long)).carried) == MAX_CARRIED


def test_nothing_to_carry_leaves_the_question_alone():
    assert interpret("What about it?", interpret("What?")).query == "What about it?"


def test_history_is_replayed_in_order():
    assert interpret_history([FIRST, "What about civilians?"], "And Ukraine?").query == (
        "And Ukraine? position cluster munitions")
    assert interpret_history([], "What about Russia?").query == "What about Russia?"
