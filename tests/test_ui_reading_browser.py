"""Reading an answer in the browser, at desktop and phone sizes: every source card can be read,
copy gives plain text, [n] shows its source, "Open original" opens the text at the quote."""

from __future__ import annotations

import pytest
from ui_support import BOT, NATO, NATO_QUOTE, ORCHARD_QUESTION, ask_in_page, readable

pytest_plugins = ["ui_fixtures"]

pytestmark = pytest.mark.browser
PANCAKES = "What is the recipe for pancakes?"
TEXTRON = "When did Textron stop producing the MK-20?"


def test_the_last_source_card_can_be_scrolled_into_view_and_read(page):
    ask_in_page(page, NATO)
    ask_in_page(page, PANCAKES)
    cards = page.locator("#sources .qa-source")
    assert cards.count() == 5
    assert readable(page, "#sources .qa-source", container="#sources", scroll=True)


def test_on_a_phone_each_answer_carries_its_sources_collapsed(phone):
    first = ask_in_page(phone, NATO)
    second = ask_in_page(phone, PANCAKES)
    assert not phone.locator("#sources").is_visible()
    for answer, count in ((first, 1), (second, 5)):
        sources = answer.locator("details.qa-message-sources")
        assert sources.get_attribute("open") is None
        assert sources.locator("summary").inner_text() == f"Sources ({count})"
    second.locator("details.qa-message-sources summary").click()
    assert readable(phone, f"{BOT} .qa-source", container="#chat [role=log]", scroll=True)
    assert [m.text_content() for m in first.locator("mark").all()] == [NATO_QUOTE]  # (collapsed)


def test_on_a_phone_a_new_answer_shows_from_its_first_line(phone):
    ask_in_page(phone, NATO)
    ask_in_page(phone, PANCAKES)
    answer = ask_in_page(phone, ORCHARD_QUESTION)
    phone.wait_for_timeout(500)  # the page scrolls once the message is laid out
    log = phone.locator("#chat [role=log]").bounding_box()
    message = answer.bounding_box()
    assert message["height"] > log["height"]  # taller than the chat box: either its top or its end shows
    assert log["y"] <= message["y"] <= log["y"] + log["height"] / 2
    assert readable(phone, f"{BOT} blockquote", container="#chat [role=log]")


def test_copy_puts_the_quote_and_its_citation_on_the_clipboard_as_plain_text(page):
    answer = ask_in_page(page, NATO)
    title = answer.locator(".qa-cite .qa-title").get_attribute("title")
    answer.locator("button.qa-copy").click()
    page.wait_for_function("document.querySelector('button.qa-copy').innerText == 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"\u201c{NATO_QUOTE}\u201d \u2014 {title}, nato-cluster-munitions.txt"


def test_clicking_a_marker_shows_and_highlights_its_source_card(page):
    first = ask_in_page(page, NATO)
    ask_in_page(page, PANCAKES)
    ask_in_page(page, "When was the lighthouse automated?")
    first.locator("a.qa-ref").first.click()
    page.wait_for_selector("#sources .qa-turn-0 .qa-source.qa-holds-1.qa-flash")
    assert page.locator("#sources .qa-flash mark").all_inner_texts() == [NATO_QUOTE]
    page.wait_for_timeout(500)  # nothing else scrolls it away
    assert readable(page, "#sources .qa-flash", container="#sources")


def test_on_a_phone_a_marker_opens_the_answer_s_sources_at_its_card(phone):
    answer = ask_in_page(phone, NATO)
    answer.locator("a.qa-ref").first.click()
    card = answer.locator("details.qa-message-sources[open] .qa-source.qa-holds-1.qa-flash")
    card.wait_for()
    assert card.locator("mark").all_inner_texts() == [NATO_QUOTE]
    phone.wait_for_timeout(500)  # nothing else scrolls it away
    log = phone.locator("#chat [role=log]").bounding_box()
    assert log["y"] <= card.bounding_box()["y"] <= log["y"] + log["height"] / 3
    assert readable(phone, f"{BOT} .qa-flash", container="#chat [role=log]")


@pytest.mark.parametrize("size", ["page", "phone"])
def test_open_original_shows_the_text_at_the_passage_with_the_quote_marked(size, request, chat_server):
    tab = request.getfixturevalue(size)
    answer = ask_in_page(tab, TEXTRON)
    quote = answer.locator("blockquote").inner_text().rsplit(" [1]", 1)[0]
    link = answer.locator(".qa-open").first if size == "phone" else tab.locator("#sources .qa-open").first
    assert link.get_attribute("target") == "_blank"
    view = tab.context.new_page()
    response = view.goto(chat_server[0] + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"].startswith("text/html")
    assert view.locator("mark").first.inner_text() == quote
    assert view.evaluate("window.scrollY") > 0  # the quote is far down the article
    assert readable(view, "mark")
    assert view.locator(".passage mark").count() == 1
    view.close()


def test_on_a_phone_nothing_of_gradio_s_covers_the_answer_text(phone):
    answer = ask_in_page(phone, ORCHARD_QUESTION)  # taller than the chat box: Gradio offers its scroll-down arrow
    phone.wait_for_timeout(800)
    covering = phone.evaluate("""(answer) => {
        const lines = [...answer.querySelectorAll('blockquote, p')].flatMap(e => [...e.getClientRects()]);
        return [...document.querySelectorAll('#chat button')].filter(b => b.offsetParent && !answer.contains(b))
            .map(b => b.getBoundingClientRect()).filter(r => r.width && lines.some(l =>
                r.left < l.right && l.left < r.right && r.top < l.bottom && l.top < r.bottom)).length;
    }""", answer.element_handle())
    assert covering == 0
