import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.read.passages import MAX_WORDS, MIN_PARAGRAPH_WORDS, TARGET_WORDS, split_passages
from qa.results import Document, PageSpan
from qa.text.sentences import split_sentences, word_count


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_abbreviations_decimals_and_titles_do_not_end_sentences():
    text = ("Dr. Smith paid $3.50 at 5 p.m. on Jan. 3 for the U.S. edition. "
            "Mr. Jones, who arrived with Mrs. Lee, said the rate was 2.5% higher. It was late.")
    assert sentences(text) == [
        "Dr. Smith paid $3.50 at 5 p.m. on Jan. 3 for the U.S. edition.",
        "Mr. Jones, who arrived with Mrs. Lee, said the rate was 2.5% higher.",
        "It was late.",
    ]


def test_quotes_stay_with_their_sentence():
    text = 'He said, "This will be for governments to decide." Then he left. "Really?" she asked.'
    assert sentences(text)[0] == 'He said, "This will be for governments to decide."'


def test_bullets_and_paragraphs_are_separate_sentences():
    text = "It concluded:\n\n  \u2022 Bees dance\n  \u2022 Ants march\n- a dash item\n1. numbered item\n\nNext paragraph"
    assert sentences(text) == ["It concluded:", "\u2022 Bees dance", "\u2022 Ants march", "- a dash item",
                               "1. numbered item", "Next paragraph"]


def test_hard_wrapped_lines_join_into_one_sentence():
    text = "The Moon's gravity pulls the ocean towards it, raising a bulge\nof water on the near side. Then more."
    assert sentences(text)[0] == "The Moon's gravity pulls the ocean towards it, raising a bulge\nof water on the near side."


def test_text_without_punctuation_is_cut_into_bounded_pieces():
    text = " ".join(["word"] * 1000)
    assert all(word_count(text, s.start, s.end) <= 80 for s in split_sentences(text))


def test_passages_group_sentences_with_one_sentence_overlap():
    text = " ".join(f"Sentence number {i} has exactly seven words here." for i in range(60))
    passages = split_passages(Document("d", "t", text, "/d"))
    assert len(passages) > 2
    for before, after in zip(passages, passages[1:]):
        assert before.sentences[-1] == after.sentences[0]
    assert all(word_count(text, p.start, p.end) <= MAX_WORDS for p in passages)


def paragraph(topic: str, sentences: int) -> str:
    """A paragraph of ``sentences`` ten-word sentences about ``topic``."""
    return " ".join(f"The {topic} report, part {i}, lists its findings in plain words." for i in range(sentences))


def passage_texts(text: str) -> list[str]:
    return [text[p.start : p.end] for p in split_passages(Document("d", "t", text, "/d"))]


def test_each_paragraph_of_ordinary_length_is_one_passage():
    paragraphs = [paragraph("river", 9), paragraph("harbour", 17), paragraph("bridge", 11)]  # 90, 170, 110 words
    assert passage_texts("\n\n".join(paragraphs)) == paragraphs


def test_short_paragraphs_join_the_next_one():
    heading, body = "Findings of the survey", paragraph("survey", 10)
    assert passage_texts(f"{heading}\n\n{body}") == [f"{heading}\n\n{body}"]
    assert word_count(heading, 0, len(heading)) < MIN_PARAGRAPH_WORDS


def test_long_paragraphs_are_cut_inside_and_the_next_paragraph_starts_afresh():
    long, short = paragraph("canal", 40), paragraph("tunnel", 9)
    text = f"{long}\n\n{short}"
    passages = split_passages(Document("d", "t", text, "/d"))
    inside = [p for p in passages if p.end <= len(long)]
    assert [text[p.start : p.end] for p in passages[len(inside) :]] == [short]
    assert len(inside) >= 3
    for before, after in itertools.pairwise(inside):
        assert before.sentences[-1] == after.sentences[0]
    assert all(TARGET_WORDS <= word_count(text, p.start, p.end) <= MAX_WORDS for p in inside[:-1])


def test_passages_never_span_two_pdf_pages():
    page1, page2 = "First page sentence one. First page sentence two.", "Second page sentence."
    text = page1 + "\n\n" + page2
    pages = (PageSpan(1, 0, len(page1)), PageSpan(2, len(page1) + 2, len(text)))
    passages = split_passages(Document("d.pdf", "t", text, "/d.pdf", pages=pages))
    assert [(p.page, text[p.start : p.end]) for p in passages] == [(1, page1), (2, page2)]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600))
def test_sentence_offsets_slice_back_and_cover_all_text(text):
    spans = split_sentences(text)
    for span in spans:
        piece = text[span.start : span.end]
        assert piece and piece == piece.strip()
    for left, right in zip(spans, spans[1:]):
        assert left.end <= right.start
    covered = "".join(text[s.start : s.end] for s in spans)
    assert "".join(covered.split()) == "".join(text.split())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80),
                min_size=1, max_size=40).map(lambda parts: ". ".join(parts)))
def test_passages_cover_every_sentence_and_are_never_empty(text):
    document = Document("d", "t", text, "/d")
    passages = split_passages(document)
    in_passages = {s for p in passages for s in p.sentences}
    assert in_passages == set(split_sentences(text))
    for p in passages:
        assert p.sentences and text[p.start : p.end].strip()
        assert p.start == p.sentences[0].start and p.end == p.sentences[-1].end


def test_sentence_offsets_agree_with_blingfires_own_wrapper():
    """qa calls Bling Fire's C function directly (qa.text.sentences.sentence_offsets; its wrapper is slow):
    if the library changes that function, this fails instead of sentences going quietly wrong."""
    import blingfire

    from qa.text.sentences import sentence_offsets

    for block in ("Dr. Olsen built it in 1871. It still stands! Does it? Yes.",
                  "Zürich's café opened in 2001. Its owner, Mr. Müller, is 71 – and still bakes.",
                  "One sentence without a full stop", ""):
        _, expected = blingfire.text_to_sentences_and_offsets(block) if block else ("", [])
        assert sentence_offsets(block) == [tuple(span) for span in expected]
