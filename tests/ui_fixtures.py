"""Fixtures for the chat page tests: a real index, a running `qa chat` and a headless Chromium
that can reach nothing but 127.0.0.1.

Test modules load them with ``pytest_plugins = ["ui_fixtures"]`` (one instance per session).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ui_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    HOSTILE_NOTES,
    HOSTILE_PAGE,
    SERVER_START_SECONDS,
    start_chat,
    stop,
    wait_for_server,
    write_corpus,
)


@pytest.fixture(scope="session")
def ui_index(tmp_path_factory, embedder) -> Path:
    """A real index of the test corpus and the hostile notes and page (``embedder`` is conftest's)."""
    from qa import build_index

    folder = tmp_path_factory.mktemp("ui-index")
    docs = write_corpus(folder / "docs")
    (docs / "sneaky.txt").write_text(HOSTILE_NOTES, encoding="utf-8")
    (docs / "herons.html").write_text(HOSTILE_PAGE, encoding="utf-8")
    build_index([docs], folder / "index", progress=False, embedder=embedder)
    return folder / "index"


@pytest.fixture(scope="session")
def ui_retriever(ui_index, embedder):
    from qa import Retriever

    return Retriever.load(ui_index, embedder=embedder)


@pytest.fixture(scope="session")
def chat_server(tmp_path_factory):
    """`qa chat` started with no index yet, so that it indexes its documents folder first.

    Yields the page URL, the documents folder and the seconds until the server answered.
    """
    folder = tmp_path_factory.mktemp("chat-server")
    write_corpus(folder / "docs")
    process, url, log = start_chat(folder)
    try:
        seconds = wait_for_server(url, process, log, SERVER_START_SECONDS)
        yield url, folder / "docs", seconds
    finally:
        stop(process)


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium driven by Playwright (one sync_playwright per process)."""
    if not Path(CHROMIUM).exists():
        message = f"No Chromium at {CHROMIUM}: `apt-get install -y chromium`, or set QA_CHROMIUM."
        if os.environ.get("QA_REQUIRE_BROWSER"):  # CI sets it: there the browser tests must run
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def open_page(chromium, url: str, name: str, options: dict):
    """A fresh tab on the chat page (``tab.requested`` lists every URL it asked for); a
    screenshot of the page as the test left it is saved under test-artifacts/."""
    context = chromium.new_context(**options)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    tab = context.new_page()
    tab.requested = []
    tab.on("request", lambda r: tab.requested.append(r.url))
    tab.goto(url)
    tab.wait_for_selector("#question textarea")
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(chromium, chat_server, request):
    """The chat page at a desktop size, 1366x900."""
    yield from open_page(chromium, chat_server[0], request.node.name, DESKTOP)


@pytest.fixture
def phone(chromium, chat_server, request):
    """The chat page at a phone's size, 390x844, with touch."""
    yield from open_page(chromium, chat_server[0], request.node.name, PHONE)
