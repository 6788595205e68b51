"""Helpers for the chat page tests: tiny real documents, starting `qa chat`, reading HTML as
a browser shows it. The fixtures built on them are in ui_fixtures.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "docs" / "nato-cluster-munitions.txt"
PDF = ROOT / "tests" / "data" / "lighthouse.pdf"  # two pages; page 2 says when it was automated
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
]
OFFLINE_ENV = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
SERVER_START_SECONDS = 180

PELICAN_NOTES = (
    "Pelican field notes\n\n"
    "The harbour pelicans nest on the north pier every April. "
    "Each pelican eats about four pounds of fish a day.\n"
)
# Ways a document could try to run code or inject markup into the page. If any of it ran,
# window.pwned would be set; the sentence also has facts to ask about.
HOSTILE_TITLE = '<b>Sneaky</b> notes <img src=x onerror="pwned=4">'
HOSTILE_SENTENCE = (
    "The vault combination is PELICAN-42 <script>pwned=1</script> "
    '<img src=x onerror="pwned=2"> [open the vault](javascript:pwned=3) **not bold** {{7*7}} $x^2$ ${7*7}.'
)
HOSTILE_NOTES = f"{HOSTILE_TITLE}\n\n{HOSTILE_SENTENCE}\n"


def write_corpus(folder: Path) -> Path:
    """The bundled article, the lighthouse PDF and the pelican notes in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    shutil.copy(PDF, folder / PDF.name)
    (folder / "pelicans.md").write_text(PELICAN_NOTES, encoding="utf-8")
    return folder


class Visible(HTMLParser):
    """What a browser shows: the text (``<br>`` as a newline) and the text inside ``<mark>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text, self.marked, self.tags = [], [], []
        self._in_mark = self._in_sup = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "br":
            self.handle_data("\n")
        self._in_mark |= tag == "mark"
        self._in_sup |= tag == "sup"

    def handle_endtag(self, tag):
        if tag == "mark":
            self._in_mark = False
        if tag == "sup":
            self._in_sup = False

    def handle_data(self, data):
        if self._in_sup:
            return
        self.text.append(data)
        if self._in_mark:
            self.marked.append(data)


def visible(markup: str) -> Visible:
    parser = Visible()
    parser.feed(markup)
    parser.close()
    return parser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, log: Path, seconds: float) -> float:
    """Seconds until ``url`` answers 200; fails with the server's log if it never does."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        if process.poll() is not None:
            pytest.fail(f"`qa chat` exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"`qa chat` did not answer within {seconds} s:\n{log.read_text()[-3000:]}")


def start_chat(folder: Path, *extra: str) -> tuple[subprocess.Popen, str, Path]:
    """Run `qa chat` on a free port with its index and documents in ``folder``."""
    port = free_port()
    log = folder / "server.log"
    env = {**os.environ, **OFFLINE_ENV, "PYTHONPATH": str(ROOT)}
    env.pop("QA_INDEX_DIR", None)
    command = [sys.executable, "-m", "qa", "chat", "--index-dir", str(folder / "index"),
               "--docs-dir", str(folder / "docs"), "--port", str(port), *extra]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}/", log


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def outside_requests(urls: list[str]) -> list[str]:
    """The requested URLs that went anywhere but 127.0.0.1."""
    return [u for u in urls if urlsplit(u).scheme not in ("data", "blob", "about")
            and urlsplit(u).hostname != "127.0.0.1"]
