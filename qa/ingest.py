"""Files -> Documents: finding the files under the paths given, and one loader per format.

The indexer parses files in the reader process (``qa.reader``), which calls :func:`read_document`.
Files over a size limit are skipped before a byte is read, which keeps memory bounded: one
document's text, sentences and vectors are held at once, so the limit bounds what indexing one
file can take. Links that lead out of a folder given are not followed.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from qa.config import MAX_PDF_BYTES, max_text_bytes
from qa.errors import PathNotFound, UnsupportedDocument
from qa.results import Document, PageSpan, Skipped

logger = logging.getLogger(__name__)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_MD_FRONT_TITLE = re.compile(r"\A---\n(?:.*\n)*?title:\s*['\"]?(.+?)['\"]?\s*\n(?:.*\n)*?---\n")


@dataclass(frozen=True)
class SourceFile:
    """A file found under one of the paths given to the indexer."""

    path: Path
    source: str
    root: str


def find_files(paths: Iterable[str | os.PathLike], *, follow_links: bool = False
               ) -> tuple[list[SourceFile], list[Skipped]]:
    """Every supported file under ``paths`` (recursively), with its stable id.

    The id is the file's path relative to the folder given, or its name for a file given
    directly. A link inside a folder that leads out of it is skipped, unless ``follow_links``.
    Raises PathNotFound for a path that does not exist.
    """
    found: list[SourceFile] = []
    skipped: list[Skipped] = []
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise PathNotFound(f"No such file or folder: {given}")
        root_key = str(root.resolve())
        if not root.is_dir():
            if _suffix(root) not in LOADERS:
                skipped.append(Skipped(shown_path(root), f"unsupported file type {root.suffix or '(none)'}"))
            elif _readable(root, skipped):
                found.append(SourceFile(root, shown_path(root.name), root_key))
            continue
        # A name that is not valid UTF-8 still gets a printable id; the file is read by its real name.
        found.extend(sorted((SourceFile(path, shown_path(path.relative_to(root).as_posix()), root_key)
                             for path in _walk(root, skipped, follow_links) if _readable(path, skipped)),
                            key=lambda f: f.source))
    return found, skipped


def shown_path(path: str | os.PathLike) -> str:
    """A path as text that can be printed and stored: bytes that are not UTF-8 become U+FFFD."""
    return os.fsencode(path).decode("utf-8", errors="replace")


def size_limit(path: Path, max_text: int | None = None) -> int:
    """The largest file of this type that is read: MAX_PDF_BYTES for PDFs, else max_text_bytes()."""
    return MAX_PDF_BYTES if _suffix(path) == ".pdf" else max_text or max_text_bytes()


def _readable(path: Path, skipped: list[Skipped]) -> bool:
    """Whether ``path`` is a regular file under its size limit; if not, why goes to ``skipped``."""
    try:
        _checked_size(path)
    except UnsupportedDocument as err:
        skipped.append(Skipped(shown_path(path), str(err)))
        return False
    return True


def _checked_size(path: Path, max_text: int | None = None) -> int:
    """The size of ``path``; UnsupportedDocument if it is no regular file or over its size limit."""
    try:
        info = path.stat()
    except OSError as err:  # a dangling link, a link loop, no permission on the folder
        raise UnsupportedDocument(f"can't read file: {err.strerror}") from err
    if not stat.S_ISREG(info.st_mode):
        # A pipe would block the reader forever; a device could be endless.
        raise UnsupportedDocument("not a regular file (a pipe, device or socket)")
    limit = size_limit(path, max_text)
    if info.st_size > limit:
        setting = "" if _suffix(path) == ".pdf" else " ($QA_MAX_TEXT_MB)"
        raise UnsupportedDocument(f"file too large ({info.st_size / 2**20:.3g} MiB; the limit is "
                                  f"{limit / 2**20:.3g} MiB{setting}); split it into smaller files")
    return info.st_size


def _walk(root: Path, skipped: list[Skipped], follow_links: bool) -> Iterator[Path]:
    """Supported files under ``root`` in a stable order, following no link out of a loop, nor out
    of ``root`` unless ``follow_links``."""
    seen: set[str] = set()
    inside = os.path.realpath(root)

    def unreadable(err: OSError) -> None:
        skipped.append(Skipped(shown_path(err.filename), f"can't list folder: {err.strerror}"))

    def leaves(path: Path) -> bool:
        if follow_links or not path.is_symlink():
            return False
        real = os.path.realpath(path)
        if real == inside or real.startswith(inside.rstrip(os.sep) + os.sep):
            return False
        skipped.append(Skipped(shown_path(path), "a link that leads out of the folder given; not followed"))
        return True

    for folder, dirs, files in os.walk(root, followlinks=True, onerror=unreadable):
        real = os.path.realpath(folder)
        if real in seen:
            skipped.append(Skipped(shown_path(folder), "folder link loop, not followed"))
            dirs.clear()
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not leaves(Path(folder, d)))
        for name in sorted(files):
            path = Path(folder, name)
            if not name.startswith(".") and _suffix(path) in LOADERS and not leaves(path):
                yield path


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_document(file: SourceFile, *, max_text: int | None = None) -> Document:
    """Read one file into a Document in this process, without a time limit.

    ``max_text`` (default max_text_bytes()) limits a text file's bytes and any document's characters.
    """
    max_text = max_text or max_text_bytes()
    if _checked_size(file.path, max_text) == 0:
        raise UnsupportedDocument("empty file")
    try:
        data = file.path.read_bytes()
    except OSError as err:
        raise UnsupportedDocument(f"can't read file: {err.strerror}") from err
    document = LOADERS[_suffix(file.path)](data, file)
    del data
    if not document.text.strip():
        raise UnsupportedDocument("no text found")
    if len(document.text) > max_text:
        raise UnsupportedDocument(f"too much text ({len(document.text) / 1e6:.3g} million characters; the limit "
                                  f"is {max_text / 1e6:.3g} million ($QA_MAX_TEXT_MB)); split it into smaller files")
    return document


def decode_text(data: bytes) -> str:
    """Bytes -> str: a BOM, else UTF-8, else the detected encoding; newlines normalised to \\n."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _normalise_newlines(data.decode(encoding))
    if b"\x00" in data[:8192]:
        raise UnsupportedDocument("binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        # UTF-8 with a few damaged bytes keeps its good characters; a whole file in another
        # encoding (every accented letter invalid) goes to the encoding detector instead.
        damaged = text.count("\ufffd")
        valid = len(_NON_ASCII.findall(text))
        if valid and valid >= damaged:
            return _normalise_newlines(text)
        from charset_normalizer import from_bytes

        matches = from_bytes(data[: 1 << 20])
        best = matches.best()
        if best is None:
            raise UnsupportedDocument("binary file or unknown text encoding") from None
        # Short Western-European text fits many code pages about equally well (a few accented
        # letters decide); Windows-1252 is by far the likeliest, so it wins near-ties.
        western = any(m.encoding == "cp1252" and m.chaos <= best.chaos + 0.1 for m in matches)
        text = data.decode("cp1252" if western else best.encoding, errors="replace")
    return _normalise_newlines(text)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


TITLE_CHARS = 100


def _first_line_title(text: str, fallback: str) -> str:
    """The first non-empty line, shortened at a word boundary to about TITLE_CHARS characters."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            if len(line) <= TITLE_CHARS:
                return line
            return line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:.") + "\u2026"
    return fallback


def _load_text(data: bytes, file: SourceFile) -> Document:
    text = decode_text(data)
    return Document(file.source, _first_line_title(text, file.path.stem), text, shown_path(file.path.resolve()))


def _load_markdown(data: bytes, file: SourceFile) -> Document:
    text = decode_text(data)
    match = _MD_FRONT_TITLE.match(text) or _MD_HEADING.search(text)
    title = match.group(1).strip() if match else _first_line_title(text, file.path.stem)
    return Document(file.source, title, text, shown_path(file.path.resolve()))


def _load_html(data: bytes, file: SourceFile) -> Document:
    import trafilatura

    html = decode_text(data)
    try:
        extracted = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    except (RecursionError, ValueError):
        extracted = None
    if extracted is None or not (extracted.text or "").strip():
        # lxml gives up on pathological pages (thousands of nested tags); keep their visible text.
        return _load_visible_html(html, file)
    # trafilatura puts one paragraph per line; blank lines make them paragraphs for the splitter.
    text = "\n\n".join(line.strip() for line in extracted.text.split("\n") if line.strip())
    metadata = {
        key: str(value)
        for key in ("author", "date", "url", "sitename", "description")
        if (value := getattr(extracted, key, None))
    }
    title = (extracted.title or "").strip() or _first_line_title(text, file.path.stem)
    return Document(file.source, title, text, shown_path(file.path.resolve()), metadata=metadata)


class _VisibleText(HTMLParser):
    """The text a browser would show, one line per block element; no tree, so any depth parses."""

    HIDDEN = {"script", "style", "noscript", "template", "svg", "head", "nav", "iframe", "object"}
    BLOCKS = {"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section",
              "article", "blockquote", "pre", "header", "footer", "ul", "ol", "table", "hr", "dd", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.HIDDEN:
            self._hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._hidden:
            self.parts.append(data)


def _load_visible_html(html: str, file: SourceFile) -> Document:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    text = "\n\n".join(line for line in lines if line)
    if not text:
        raise UnsupportedDocument("no text found in HTML")
    title = " ".join("".join(parser.title).split()) or _first_line_title(text, file.path.stem)
    return Document(file.source, title, text, shown_path(file.path.resolve()))


def _load_pdf(data: bytes, file: SourceFile) -> Document:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnsupportedDocument("encrypted PDF (password protected)")
        pages: list[PageSpan] = []
        parts: list[str] = []
        offset = 0
        for number, page in enumerate(reader.pages, start=1):
            page_text = _normalise_newlines(page.extract_text() or "").strip()
            if not page_text:
                continue
            if parts:
                parts.append("\n\n")
                offset += 2
            pages.append(PageSpan(number, offset, offset + len(page_text)))
            parts.append(page_text)
            offset += len(page_text)
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except UnsupportedDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as err:
        raise UnsupportedDocument(f"not a readable PDF ({type(err).__name__})") from err
    text = "".join(parts)
    if not text.strip():
        raise UnsupportedDocument("PDF has no text layer (scanned images?)")
    title = str(meta_title).strip() or _first_line_title(text, file.path.stem)
    return Document(file.source, title, text, shown_path(file.path.resolve()), pages=tuple(pages))


LOADERS: dict[str, Callable[[bytes, SourceFile], Document]] = {
    ".txt": _load_text,
    ".text": _load_text,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
}


