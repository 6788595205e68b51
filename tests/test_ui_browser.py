"""End to end: `qa chat` in a subprocess, driven in headless Chromium that can only reach 127.0.0.1,
and driven over HTTP with gradio_client. Screenshots go to test-artifacts/."""

from __future__ import annotations

import hashlib
import os

import pytest
from ui_support import (
    ANSWER_MS,
    BOT,
    HOSTILE_NOTES,
    HOSTILE_SENTENCE,
    HOSTILE_TITLE,
    NATO,
    NATO_QUOTE,
    OFFLINE_ENV,
    ask_in_page,
    low_contrast,
    outside_requests,
)

from qa import Retriever
from ui.render import NOT_FOUND

pytest_plugins = ["ui_fixtures"]


def pop_scores(answer: dict) -> list[float]:
    """Remove and return the scores of an answer's quotes and passages."""
    return [item.pop("score") for key in ("quotes", "passages") for item in answer[key]]


@pytest.mark.browser
def test_ask_clear_follow_up_select_pdf_and_not_found(page, chat_server):
    answer = ask_in_page(page, NATO)
    assert NATO_QUOTE in answer.inner_text()
    assert page.locator("#sources mark").all_inner_texts() == [NATO_QUOTE]

    page.click("#clear")
    page.wait_for_function(f"document.querySelectorAll('{BOT}').length == 0")
    assert "appear here" in page.locator("#sources").inner_text()
    answer = ask_in_page(page, NATO)
    follow_up = ask_in_page(page, "What about Russia?")
    assert "Searched for: What about Russia? position cluster munitions" in follow_up.inner_text()
    assert any("Russia" in quote for quote in page.locator("#sources mark").all_inner_texts())

    answer.click()  # the first answer's sources come back
    page.wait_for_function("document.querySelector('#sources').innerText.includes(\"For: What is NATO\")")
    assert page.locator("#sources mark").all_inner_texts() == [NATO_QUOTE]

    ask_in_page(page, "When was the lighthouse automated?")
    pdf_link = page.locator("#sources a.qa-open").first.get_attribute("href")
    assert pdf_link == "documents/lighthouse.pdf#page=2"
    assert page.request.get(chat_server[0] + pdf_link).headers["content-type"] == "application/pdf"

    not_found = ask_in_page(page, "What is the recipe for pancakes?")
    assert not_found.inner_text().startswith(NOT_FOUND)
    assert page.locator("#sources .qa-weak").count() > 0 and page.locator("#sources mark").count() == 0
    assert outside_requests(page.requested) == []


@pytest.mark.browser
def test_an_empty_question_does_nothing(page):
    ask_in_page(page, NATO)
    for send in (lambda: page.press("#question textarea", "Enter"), lambda: page.click("#ask")):
        page.fill("#question textarea", "   ")
        send()
    # The page answers in order: once the next real question is answered, an empty one would have been.
    answer = ask_in_page(page, "When was the lighthouse automated?")
    assert page.locator(BOT).count() == 2 and page.locator('[data-testid="user"]').count() == 2
    assert "lighthouse" in answer.inner_text().lower()
    assert "For: When was the lighthouse automated?" in page.locator("#sources").inner_text()


@pytest.mark.browser
def test_a_follow_up_after_not_found_is_read_on_its_own(page):
    assert ask_in_page(page, "What is the recipe for pancakes?").inner_text().startswith(NOT_FOUND)
    follow_up = ask_in_page(page, "What about Russia?")
    assert "Searched for" not in follow_up.inner_text()
    assert "For: What about Russia?" in page.locator("#sources").inner_text()


@pytest.mark.browser
def test_up_recalls_the_last_question_and_escape_clears_the_box(page):
    ask_in_page(page, NATO)
    ask_in_page(page, "When was the lighthouse automated?")
    box = page.locator("#question textarea")
    box.press("ArrowUp")
    assert box.input_value() == "When was the lighthouse automated?"
    box.press("ArrowUp")
    assert box.input_value() == NATO
    box.press("Escape")
    assert box.input_value() == ""
    box.fill("half-typed")
    box.press("ArrowUp")
    assert box.input_value() == "half-typed"  # Up never replaces what is being typed


@pytest.mark.browser
def test_hostile_upload_shows_literally_and_runs_nothing(page, chat_server, tmp_path):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    upload = tmp_path / "sneaky.txt"
    upload.write_text(HOSTILE_NOTES, encoding="utf-8")
    page.get_by_text("Documents", exact=True).click()
    page.set_input_files("#upload input[type=file]", str(upload))
    page.wait_for_function("document.querySelector('#documents-report').innerText.includes('Indexed:')",
                           timeout=180_000)
    assert (chat_server[1] / "sneaky.txt").read_text(encoding="utf-8") == HOSTILE_NOTES

    answer = ask_in_page(page, "What is the vault combination?")
    page.wait_for_timeout(300)  # time for an injected onerror handler to fire, if there were one
    assert page.evaluate("typeof window.pwned") == "undefined" and dialogs == []
    assert page.locator("#chat img, #sources img, #documents img, #chat script, #sources script").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert HOSTILE_SENTENCE in answer.inner_text() and HOSTILE_TITLE in answer.inner_text()
    assert page.locator("#sources mark").all_inner_texts() == [HOSTILE_SENTENCE]
    page.wait_for_function("document.querySelector('#documents').innerText.includes('sneaky.txt')")
    assert HOSTILE_TITLE in page.locator("#documents").inner_text()

    view = page.context.new_page()
    view.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    response = view.goto(chat_server[0] + page.locator("#sources a.qa-open").first.get_attribute("href"))
    assert response.headers["content-security-policy"].startswith("sandbox")
    view.wait_for_timeout(300)
    assert view.locator("mark").all_inner_texts() == [HOSTILE_SENTENCE] and dialogs == []
    assert view.locator("img, script").count() == 0 and view.evaluate("typeof window.pwned") == "undefined"
    view.close()
    assert outside_requests(page.requested) == []


@pytest.mark.slow
def test_api_ask_returns_the_qa_ask_json(chat_server, embedder):
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    from gradio_client import Client

    client = Client(chat_server[0], verbose=False)
    expected = Retriever.load(chat_server[1].parent / "index", embedder=embedder)
    result = client.predict("How much fish does a pelican eat?", api_name="/ask")
    wanted = expected.ask("How much fish does a pelican eat?").to_json()
    # Another process may round a score's last digit differently; all else must be identical.
    assert pop_scores(result) == pytest.approx(pop_scores(wanted), abs=1e-3) and result == wanted
    assert result["quotes"][0]["text"] == "Each pelican eats about four pounds of fish a day."

    follow_up = client.predict("What about Russia?", [NATO], api_name="/ask")
    assert follow_up["question"] == "What about Russia? position cluster munitions" and follow_up["answered"]


@pytest.mark.slow
@pytest.mark.parametrize("history", [[1, 2], [None], "What is NATO?", {"a": 1}])
def test_api_ask_with_a_malformed_history_is_a_clear_error(chat_server, history):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(chat_server[0], verbose=False)
    with pytest.raises(AppError, match="history must be a list of the earlier questions"):
        client.predict("What about Russia?", history, api_name="/ask")


@pytest.mark.browser
def test_the_document_filter_and_each_source_mode_reach_the_answer(page):
    page.click("#filters .label-wrap")
    page.click("#only-documents input")
    # The choices arrive once the page has listed the indexed documents.
    page.click("#only-documents li[data-testid=dropdown-option]:has-text('orchard.txt')")
    page.keyboard.press("Escape")
    ask_in_page(page, "How much fish does a pelican eat?")
    cards = page.locator("#sources .qa-source-head").all_inner_texts()
    assert cards and all("orchard.txt" in card for card in cards)  # pelicans.md was filtered out before ranking

    page.click("#only-documents .remove-all")
    page.get_by_label("Each source").check()
    answer = ask_in_page(page, "How much fish does a pelican eat?")
    assert answer.inner_text().startswith("Each source: one document answers; its best quote:")  # the mode reached it
    cited = " ".join(page.locator(f"{BOT} .qa-cite").all_inner_texts())
    assert "pelicans.md" in cited, answer.inner_text()  # filtered out above: the filter is gone

    page.fill("#since input, #since textarea", "2020")  # no document here says when it was published
    page.fill("#question textarea", NATO)
    page.press("#question textarea", "Enter")
    page.wait_for_selector("text=No indexed document is dated 2020-01-01 to now.")


@pytest.mark.browser
@pytest.mark.parametrize("size", ["page", "phone"])
def test_every_text_on_the_page_has_aa_contrast(size, request):
    tab = request.getfixturevalue(size)
    ask_in_page(tab, NATO)  # a quote with its citation line, and the sources panel
    ask_in_page(tab, "What is the recipe for pancakes?")  # weak matches
    for panel in ("#filters", "#documents-panel"):
        tab.click(f"{panel} > button")
    tab.wait_for_selector("#since input, #since textarea")
    assert low_contrast(tab) == []


@pytest.mark.browser
def test_a_bad_filter_value_is_shown_at_its_field_and_the_chat_stays(page):
    ask_in_page(page, NATO)
    page.click("#filters > button")
    page.fill("#since textarea, #since input", "last week")
    page.click("#filters > button")  # closed again: the refusal opens it
    page.fill("#question textarea", "How many countries have banned cluster munitions?")
    page.press("#question textarea", "Enter")
    note = page.wait_for_selector("#filter-note .qa-invalid-note", timeout=ANSWER_MS)
    assert note.inner_text() == "since must be a date such as 2023-07-01 (or 2023-07, or 2023), not 'last week'."
    assert note.is_visible() and page.locator("#since.qa-invalid").count() == 1
    assert NATO_QUOTE in page.locator(BOT).last.inner_text() and page.locator(".error").count() == 0
    assert page.input_value("#question textarea") == "How many countries have banned cluster munitions?"
    page.fill("#since textarea, #since input", "")
    ask_in_page(page, "How many countries have banned cluster munitions?")
    assert page.locator("#filter-note .qa-invalid-note").count() == 0 and page.locator("#since.qa-invalid").count() == 0


@pytest.mark.browser
def test_a_long_file_name_stays_inside_its_source_card(page, tmp_path):
    upload = tmp_path / (hashlib.sha256(b"kingfishers").hexdigest() + ".txt")  # as web pages are saved
    upload.write_text("Kingfisher notes\n\nThe kingfishers of the mill race dive for minnows at dusk.\n", encoding="utf-8")
    page.get_by_text("Documents", exact=True).click()
    page.set_input_files("#upload input[type=file]", str(upload))
    page.wait_for_function("document.querySelector('#documents-report').innerText.includes('Indexed:')",
                           timeout=180_000)
    answer = ask_in_page(page, "When do the kingfishers of the mill race dive for minnows?")
    assert upload.name in answer.inner_text() and upload.name in page.locator("#sources").inner_text()
    outside = page.evaluate("""() => [...document.querySelectorAll('.qa-source, [data-testid=bot]')].flatMap(box => {
        const edge = box.getBoundingClientRect().right + 1, found = [];
        const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const range = document.createRange(); range.selectNodeContents(node);
            if ([...range.getClientRects()].some(r => r.right > edge)) found.push(node.textContent.slice(0, 40));
        }
        return found;
    })""")
    assert outside == []
