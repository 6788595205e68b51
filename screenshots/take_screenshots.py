"""Take the README's screenshots of the chat page: an answered question at a desktop size
(1366x900) and a phone's (390x844).

Runs `qa chat` on a copy of the bundled docs/ in a temporary folder and drives headless
Chromium (see tests/ui_support.py); writes chat-desktop.png and chat-phone.png next to this file.

    python screenshots/take_screenshots.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from ui_support import (
    ARTICLE,
    CHROMIUM,
    CHROMIUM_FLAGS,
    SERVER_START_SECONDS,
    ask_in_page,
    start_chat,
    stop,
    wait_for_server,
)

QUESTION = "Which administration is sending cluster munitions to Ukraine?"
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "docs").mkdir()
        shutil.copy(ARTICLE, folder / "docs" / ARTICLE.name)
        process, url, log = start_chat(folder)
        try:
            wait_for_server(url, process, log, SERVER_START_SECONDS)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                for name, viewport in SIZES.items():
                    context = browser.new_context(viewport=viewport, is_mobile=name == "phone")
                    page = context.new_page()
                    page.goto(url)
                    page.wait_for_selector("#question textarea")
                    ask_in_page(page, QUESTION)
                    page.wait_for_timeout(800)  # the page scrolls once the answer is laid out
                    page.screenshot(path=str(HERE / f"chat-{name}.png"))
                    print(HERE / f"chat-{name}.png")
                    context.close()
                browser.close()
        finally:
            stop(process)


if __name__ == "__main__":
    main()
