import pytest

from qa import IndexMismatch, InvalidInput, Retriever

QUESTIONS = [
    "Which administration is sending cluster munitions to Ukraine?",
    "How many submunitions does the MK-20 disperse?",
    "When did Textron stop producing MK-20s?",
    "When was the Kestrel Lighthouse built?",
    "Who built the lighthouse?",
    "How far away can the lamp be seen?",
    "How many eggs can a queen bee lay in a day?",
    "How do bees tell each other where flowers are?",
    "Who decoded the waggle dance?",
    "How many residents were evacuated?",
    "How fast were the lava flows moving?",
    "Why are there two tides a day?",
    "When do spring tides happen?",
]


def test_example_question_quotes_the_biden_sentence(retriever):
    answer = retriever.ask("Which administration is sending cluster munitions to Ukraine?")
    assert answer.answered
    assert "Biden administration" in answer.quotes[0].text
    assert answer.quotes[0].source == "nato-cluster-munitions.txt"


@pytest.mark.parametrize(
    ("question", "expected", "source"),
    [
        ("When was the Kestrel Lighthouse built?", "1871", "lighthouse.pdf"),
        ("How many residents were evacuated from the villages?", "3,200", "volcano.html"),
        ("Who decoded the waggle dance?", "von Frisch", "honeybees.md"),
        ("When do spring tides happen?", "new and full moon", "tides.txt"),
    ],
)
def test_answers_quote_the_sentence_that_answers(retriever, question, expected, source):
    answer = retriever.ask(question)
    assert answer.answered
    assert expected in answer.quotes[0].text
    assert answer.quotes[0].source == source


def test_a_quote_opening_with_a_pronoun_names_what_it_is_about(retriever):
    quote = retriever.ask("Who built the lighthouse?").quotes[0]
    assert "Margit Olsen" in quote.text
    assert quote.text.startswith("The Kestrel Lighthouse"), "'It was built...' is quoted with the sentence it refers to"


def test_pdf_quotes_cite_their_page(retriever):
    quote = retriever.ask("When was the lighthouse automated?").quotes[0]
    assert "1986" in quote.text and quote.page == 2


@pytest.mark.parametrize("question", QUESTIONS)
def test_quotes_and_hits_are_verbatim_slices_of_their_document(retriever, question):
    answer = retriever.ask(question)
    for item in [*answer.quotes, *answer.hits]:
        assert item.text == retriever.document_text(item.source)[item.start : item.end]
    assert 1 <= len(answer.quotes) <= 3
    for quote in answer.quotes:
        assert len(quote.text.split()) <= 120


@pytest.mark.parametrize(
    "question",
    ["What is the boiling point of mercury?", "Who won the 1998 football World Cup?", "How do I bake sourdough bread?"],
)
def test_unrelated_questions_are_not_answered(retriever, question):
    answer = retriever.ask(question)
    assert not answer.answered
    assert answer.quotes == []
    assert answer.hits, "the closest passages are still shown as weak matches"


def test_search_returns_k_hits_best_first(retriever):
    hits = retriever.search("volcano eruption ash", k=3)
    assert len(hits) == 3
    assert hits[0].source == "volcano.html"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_bad_arguments_raise_invalid_input(retriever):
    with pytest.raises(InvalidInput, match="empty"):
        retriever.ask("   ")
    with pytest.raises(InvalidInput, match="k must be"):
        retriever.search("bees", k=0)
    with pytest.raises(InvalidInput, match="at most 2,000"):
        retriever.ask("How tall is the lighthouse? " * 100)
    with pytest.raises(InvalidInput, match="must be text"):
        retriever.ask(None)


def test_undecodable_bytes_and_control_characters_in_a_question_are_answered(retriever):
    # What argv or a JSON body carries for bytes that are not UTF-8: lone surrogates.
    answer = retriever.ask("\udcff\udcfe When was the Kestrel \x1b[2J Lighthouse built? \ud800")
    assert answer.answered and "1871" in answer.quotes[0].text
    assert answer.question.startswith("\ufffd\ufffd When was the Kestrel") and "\x1b" not in answer.question


def test_loading_with_another_model_is_refused(index_dir):
    with pytest.raises(IndexMismatch, match="built with model"):
        Retriever.load(index_dir, model="some/other-model")


def test_documents_lists_what_is_indexed(retriever):
    documents = {d.source: d for d in retriever.documents()}
    assert documents["lighthouse.pdf"].pages == 2
    assert documents["volcano.html"].metadata["author"] == "Lena Ortiz"
    assert all(d.passages >= 1 for d in documents.values())
