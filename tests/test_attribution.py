"""Who said it: a list item is quoted with the sentence that introduces its list, a quotation
whose speaker is only "he" with the sentence that names him; every piece is verbatim."""

from conftest import BUNDLED_ARTICLE

from qa.answer.attribution import attribution

ARTICLE = BUNDLED_ARTICLE.read_text(encoding="utf-8")


def context_of(quote: str) -> str | None:
    start = ARTICLE.index(quote)
    span = attribution(ARTICLE, start, start + len(quote))
    return ARTICLE[span.start : span.end] if span else None


def test_a_list_item_comes_with_the_lead_in_and_the_sentence_its_pronoun_leans_on():
    lead = context_of("The US should not transfer cluster munitions to Ukraine.")
    assert lead.endswith("Human Rights Watch (HRW) issued a scathing report. It concluded:")
    assert context_of("Cluster munitions used by Russia and Ukraine are harming civilians now") == lead


def test_a_quotation_whose_speaker_is_only_he_comes_with_the_sentence_that_names_him():
    speaker = context_of('"And Russia used cluster munitions to invade another country.')
    assert speaker is not None and "Stoltenberg has said" in speaker


def test_a_sentence_that_needs_no_attribution_gets_none():
    assert context_of("The cluster bombs are expected to be announced as part of the next $800 million arms "
                      "package.") is None
    assert context_of("NATO Secretary General Jens Stoltenberg doesn't see a problem") is None


def test_answers_carry_the_attribution_verbatim(retriever):
    answer = retriever.ask("Should the US transfer cluster munitions to Ukraine?")
    quote = answer.quotes[0]
    assert "should not transfer cluster munitions" in quote.text
    text = retriever.document_text(quote.source)
    assert quote.context.text == text[quote.context.start : quote.context.end]
    assert quote.context.end <= quote.start and "Human Rights Watch" in quote.context.text


def test_the_terminal_and_the_page_show_the_attribution_before_the_quote(retriever):
    from qa.terminal import Terminal, format_answer
    from ui.render import render_answer

    answer = retriever.ask("Should the US transfer cluster munitions to Ukraine?")
    lines = format_answer(answer, Terminal(color=False, width=100)).splitlines()
    # The lead-in opens the quote's own line: a list answer reads as one line, not a heading above [1].
    assert lines[0].startswith("[1] \u2026") and "It concluded: \u201cThe US should not" in lines[0]
    assert len(lines[0].split("\u201c")[0]) <= len("[1] ") + 100 // 2 + 1  # half the width at most
    page = render_answer(answer)
    assert page.index('class="qa-context"') < page.index('class="qa-quote"')
