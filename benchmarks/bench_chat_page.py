"""How fast the chat page is for a person: seconds from `qa chat` to a page they can type into,
to their first answer, and from pressing Enter to a visible answer (median of 10).

Runs `qa chat` on an index of the bundled article in a temporary folder and drives headless
Chromium like a user. Prints numbers; asserts nothing.

    python benchmarks/bench_chat_page.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from ui_support import ARTICLE, BOT, CHROMIUM, CHROMIUM_FLAGS, ROOT, outside_requests, start_chat, stop

from ui.app import EXAMPLES

RUNS = 10


def ask(page, question: str) -> float:
    """Seconds from pressing Enter to the answer message being visible."""
    before = page.locator(BOT).count()
    page.fill("#question textarea", question)
    started = time.perf_counter()
    page.press("#question textarea", "Enter")
    page.locator(BOT).nth(before).wait_for(state="visible", timeout=120_000)
    return time.perf_counter() - started


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        folder = Path(folder)
        (folder / "docs").mkdir()
        (folder / "docs" / ARTICLE.name).write_bytes(ARTICLE.read_bytes())
        subprocess.run([sys.executable, "-m", "qa", "index", str(folder / "docs"), "--index-dir",
                        str(folder / "index"), "--no-progress"], cwd=ROOT, check=True, capture_output=True)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))

        launched = time.perf_counter()
        process, url, log = start_chat(folder)
        try:
            while "Chat page:" not in log.read_text():  # a person opens the page once its URL shows
                if process.poll() is not None:
                    sys.exit(log.read_text())
                time.sleep(0.05)
            printed = time.perf_counter() - launched
            page.goto(url)
            page.locator("#question textarea").wait_for(state="visible")
            usable = time.perf_counter() - launched
            first = ask(page, EXAMPLES[0])
            to_first_answer = time.perf_counter() - launched
            timings = [ask(page, EXAMPLES[i % len(EXAMPLES)]) for i in range(RUNS)]
        finally:
            stop(process)
            browser.close()
    print(f"qa chat -> URL printed: {printed:.1f} s; -> page ready to type into: {usable:.1f} s")
    print(f"qa chat -> first answer visible (asked at once): {to_first_answer:.1f} s (Enter -> answer {first:.1f} s)")
    print(f"Enter -> answer visible, median of {RUNS}: {statistics.median(timings):.2f} s "
          f"(min {min(timings):.2f}, max {max(timings):.2f})")
    print(f"requests outside 127.0.0.1: {len(outside_requests(requested))}")


if __name__ == "__main__":
    main()
