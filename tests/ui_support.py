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
BOT = '[data-testid="bot"]'
ANSWER_MS = 120_000  # the server may still be loading its model when the first question comes
NATO = "What is NATO's position on cluster munitions?"
NATO_QUOTE = (
    'But with the Biden administration now reportedly moving forward with sending cluster munitions to '
    'Ukraine, Stoltenberg has said that "Nato does not have a position on them" as some allies have '
    "signed up to prohibit their use and some haven’t."
)

PELICAN_NOTES = (
    "Pelican field notes\n\n"
    "The harbour pelicans nest on the north pier every April. "
    "Each pelican eats about four pounds of fish a day.\n"
)
# One sentence long enough that its answer is taller than the chat box on a phone.
ORCHARD_QUESTION = "Which apple varieties did the Brackenridge orchard harvest?"
ORCHARD_NOTES = (
    "The Brackenridge orchard ledger: the autumn apple harvest, field by field and tree by tree\n\n"
    "The autumn harvest at the Brackenridge orchard brought in fourteen varieties of apple, among them "
    "Cox's Orange Pippin from the east terrace, Egremont Russet from the old walled garden, Bramley's "
    "Seedling from the long rows beside the stream, Discovery and Worcester Pearmain from the young trees "
    "planted in the spring, Ashmead's Kernel and Blenheim Orange from the hillside, Spartan and Jonagold "
    "from the nursery beds, Kidd's Orange Red from the pond field, Howgate Wonder from the south wall, and "
    "Ribston Pippin, Sunset and Falstaff from the trees around the cider barn, all of them picked by hand "
    "between the first week of September and the end of October and stored in the cool brick cellar "
    "beneath the farmhouse until they were sold at the market in town.\n"
)
# Ways a document could try to run code or inject markup into the page. If any of it ran,
# window.pwned would be set; the sentence also has facts to ask about.
HOSTILE_TITLE = '<b>Sneaky</b> notes <img src=x onerror="pwned=4">'
HOSTILE_SENTENCE = (
    "The vault combination is PELICAN-42 <script>pwned=1</script> "
    '<img src=x onerror="pwned=2"> [open the vault](javascript:pwned=3) **not bold** {{7*7}} $x^2$ ${7*7}.'
)
HOSTILE_NOTES = f"{HOSTILE_TITLE}\n\n{HOSTILE_SENTENCE}\n"
HOSTILE_PAGE = (
    "<html><head><title>Heron watch</title><script>window.pwned = 5</script></head><body><article>"
    "<h1>Heron watch</h1><p>The grey herons fish at the weir every dawn, standing still for an hour.</p>"
    '<p>Herons nest in the tall pines by the lake <img src=x onerror="pwned=6"> each March.</p>'
    "</article></body></html>"
)


def write_corpus(folder: Path) -> Path:
    """The bundled article, the lighthouse PDF, the pelican notes and the orchard ledger in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    shutil.copy(PDF, folder / PDF.name)
    (folder / "pelicans.md").write_text(PELICAN_NOTES, encoding="utf-8")
    (folder / "orchard.txt").write_text(ORCHARD_NOTES, encoding="utf-8")
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


def ask_in_page(page, question: str):
    """Type ``question``, press Enter and return the answer message once it shows."""
    before = page.locator(BOT).count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(f"document.querySelectorAll('{BOT}').length > {before}", timeout=ANSWER_MS)
    return page.locator(BOT).nth(before)


def readable(page, selector: str, container: str | None = None, *, scroll: bool = False) -> bool:
    """Whether the last element matching ``selector`` can be read: its first line is on screen,
    inside ``container``'s visible box if given, and covered by nothing.

    With ``scroll``, each end of the element is scrolled into view in turn and must then be
    readable (an element taller than the screen is read by scrolling through it).
    """
    return page.evaluate(
        """([selector, container, scroll]) => {
            const all = document.querySelectorAll(selector), el = all[all.length - 1];
            const ends = scroll ? ["start", "end"] : ["start"];
            return ends.every(end => {
                if (scroll) el.scrollIntoView({block: end});
                const lines = el.getClientRects();  // an inline element's lines, first to last
                const r = end === "start" ? lines[0] : lines[lines.length - 1];
                const box = container ? document.querySelector(container).getBoundingClientRect()
                                      : {top: 0, bottom: innerHeight};
                const y = end === "start" ? r.top + 5 : r.bottom - 5, x = r.left + Math.min(10, r.width / 2);
                return y >= Math.max(0, box.top) && y <= Math.min(innerHeight, box.bottom)
                    && el.contains(document.elementFromPoint(x, y));
            });
        }""",
        [selector, container, scroll],
    )


LOW_CONTRAST_JS = """(limit) => {
    // WCAG 2: relative luminance of an sRGB colour, and the contrast of two.
    const channel = c => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const contrast = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
                                 return (x + 0.05) / (y + 0.05); };
    const rgba = text => { const n = text.match(/[\\d.]+/g).map(Number); return [n[0], n[1], n[2], n.length > 3 ? n[3] : 1]; };
    const over = (top, [r, g, b]) => [0, 1, 2].map(i => top[i] * top[3] + [r, g, b][i] * (1 - top[3]));
    // The colour behind an element: its ancestors' backgrounds laid over white, outermost first.
    const behind = el => {
        const layers = [];
        for (let e = el; e; e = e.parentElement) layers.push(rgba(getComputedStyle(e).backgroundColor));
        return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255]);
    };
    const opacity = el => { let o = 1; for (let e = el; e; e = e.parentElement) o *= +getComputedStyle(e).opacity; return o; };
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement, text = node.textContent.trim();
        if (!text || !el || ["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(el.tagName)) continue;
        const style = getComputedStyle(el);
        const range = document.createRange(); range.selectNodeContents(node);
        const box = range.getBoundingClientRect();
        if (!box.width || !box.height || style.visibility !== "visible" || +style.opacity === 0) continue;
        const background = behind(el), colour = rgba(style.color);
        const foreground = over([colour[0], colour[1], colour[2], colour[3] * opacity(el)], background);
        const size = parseFloat(style.fontSize), bold = +style.fontWeight >= 700;
        const needed = size >= 24 || (bold && size >= 18.66) ? Math.min(3, limit) : limit;  // large text: 3:1
        const ratio = contrast(foreground, background);
        if (ratio < needed) found.push([text.slice(0, 60), Math.round(ratio * 100) / 100,
                                        foreground.map(Math.round).join(","), background.map(Math.round).join(",")]);
    }
    return found;
}"""


def low_contrast(page, limit: float = 4.5) -> list[tuple[str, float, str, str]]:
    """(text, contrast, foreground, background) of each text on the page that is shown with less
    contrast than WCAG AA asks (``limit``: 4.5:1, large text 3:1), colours as r,g,b."""
    return [tuple(item) for item in page.evaluate(LOW_CONTRAST_JS, limit)]
