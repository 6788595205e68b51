"""The kind of fact a question asks for, and the facts of that kind a sentence states."""

import pytest

from qa.answer.question_kinds import MEASURABLE, asked_type, facts, named_beside
from qa.text.words import terms, words


def told(question: str, sentence: str) -> set[str]:
    kind = asked_type(question)
    return facts(kind, sentence, set(terms(question)) | set(words(question)))


@pytest.mark.parametrize(("question", "kind"), [
    ("How much did the club pay for the striker?", "money"),
    ("How much time was left on the clock?", "duration"),
    ("What share of the vote did she win?", "share"),
    ("How old is the new commissioner?", "age"),
    ("How long did the siege last?", "duration"),
    ("How far did the river flood the valley?", "measure"),
    ("At what time will the budget be presented?", "time"),
    ("What time frame does the war cover?", None),
    ("When was the bridge opened?", "date"),
    ("In which year did the law change?", "date"),
    ("How many people live in the town?", "count"),
    ("Which number in the series is the new film?", "rank"),
    ("What was the final score of the cup tie?", "score"),
    ("Why did the shares fall?", "reason"),
    ("Where does the singer live?", "place"),
    ("Where was he when he missed the test?", "place"),  # the kind asked for first
    ("Who chairs the association?", "person"),
    ("Which football game won the award?", "name"),
    ("What do bees use the waggle dance for?", None),
])
def test_questions_ask_for_a_kind_of_fact(question, kind):
    found = asked_type(question)
    assert (found.name if found else None) == kind


def test_sentences_state_facts_the_question_does_not_already_hold():
    assert told("How much did Rangers pay for Mladenovic?", "He joined Rangers for £1.2m last year.") == {"£1.2m"}
    assert not told("How much did Rangers pay for Mladenovic?", "Rangers are set to loan Mladenovic.")
    assert told("Who chairs the Casino Association?", "Association chairman Penny Cobham was outraged.") == {
        "penny cobham"}
    assert not told("Who chairs the Casino Association?", "A spokesman for the Casino Association said so.")
    assert told("Where will the release begin?", "The release will start in South Korea on 24 December.") == {
        "south korea"}
    assert told("How old is the actress?", "The actress, who died at the age of 71, starred in nine films.")
    assert told("How many films did she star in?", "She starred in nine of the films.") >= {"nine"}


def test_a_count_is_a_cardinal_number_not_a_rank_a_date_or_a_score():
    question = "How many people saw the match?"
    assert not told(question, "The club's fourth match of the season was played at the 3rd ground.")
    assert not told(question, "The match on 3 April 2004 was moved to Leeds, where the home side won 2-1.")
    assert not told(question, "The ground was built in 1998 and rebuilt after 1999.")
    assert told(question, "A crowd of 32,000 saw the match in 1998, and nine were hurt.") == {"32,000", "nine"}
    assert told(question, "The match was seen by 2000 people.") == {"2000"}
    assert told("What was the final score of the match?", "The home side won 2-1 on 3 April.") == {"2-1"}


def test_a_number_the_question_holds_is_not_the_fact_it_asks_for():
    assert not told("How many Model 7610 phones were sold?", "Owners of the Model 7610 phone were warned.")
    assert told("How many Model 7610 phones were sold?", "In all, 12,000 Model 7610 phones were sold.") == {"12,000"}


@pytest.mark.parametrize("question, phrase", [
    ("How much money did the council spend on the new bridge?", "How much"),
    ("What fee will the club pay for him?", "What fee"),
    ("How big is the museum's yearly budget?", "How big"),
    ("For how many years did she rule?", "For how many years"),
    ("What share of the vote did the party win?", "What share"),
])
def test_a_kind_is_asked_for_by_its_phrase_alone(question, phrase):
    # The rest of the question says what about: fact_stands_apart looks for those words near the fact.
    assert asked_type(question).asks.search(question).group() == phrase


def test_only_kinds_of_few_forms_are_trusted_to_be_absent():
    assert {"money", "share", "age", "duration", "measure", "time", "score", "count"} == MEASURABLE


def test_a_new_name_beside_a_word_of_a_who_question_names_the_asked_role():
    def beside(sentence, question="Who is the race director of the Lakeside Marathon?"):
        question_words = set(terms(question)) | set(words(question))
        return named_beside(asked_type(question), sentence, question_words, set(terms(question)))

    assert beside('"She trained hard all winter," said race director Tomas Lind.')
    assert beside("Tomas Lind, director of the race, set the course.")
    assert not beside("Ella Berg won the Lakeside Marathon in record time.")  # a new name, beside no word asked
    assert not beside("The race director of the Lakeside Marathon resigned.")  # no name
    assert not beside("Said race director Tomas Lind: the race starts at nine.", "When does the race start?")
    assert not beside("Number 7 Tomas Lind scored twice.", "Who wore number 7 in the final?")  # a number is no role
