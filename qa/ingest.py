"""Files -> Documents: txt, md, html and pdf, one loader per format and one dispatch dict."""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.errors import PathNotFound, UnsupportedDocument
from qa.results import Document, PageSpan, Skipped

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 512 * 1024 * 1024
"""Files above this size are skipped rather than read."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_MD_FRONT_TITLE = re.compile(r"\A---\n(?:.*\n)*?title:\s*['\"]?(.+?)['\"]?\s*\n(?:.*\n)*?---\n")


@dataclass(frozen=True)
class SourceFile:
    """A file found under one of the paths given to the indexer."""

    path: Path
    source: str
    root: str


def find_files(paths: Iterable[str | os.PathLike]) -> tuple[list[SourceFile], list[Skipped]]:
    """Every supported file under ``paths`` (recursively), with its stable id.

    The id is the file's path relative to the folder given, or its name for a file given
    directly. Raises PathNotFound for a path that does not exist.
    """
    found: list[SourceFile] = []
    skipped: list[Skipped] = []
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise PathNotFound(f"No such file or folder: {given}")
        root_key = str(root.resolve())
        if root.is_file():
            if _suffix(root) in LOADERS:
                found.append(SourceFile(root, root.name, root_key))
            else:
                skipped.append(Skipped(str(root), f"unsupported file type {root.suffix or '(none)'}"))
            continue
        found.extend(sorted((SourceFile(path, path.relative_to(root).as_posix(), root_key)
                             for path in _walk(root, skipped)), key=lambda f: f.source))
    return found, skipped


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[Path]:
    """Supported files under ``root`` in a stable order, following no link out of a loop."""
    seen: set[str] = set()
    def unreadable(err: OSError) -> None:
        skipped.append(Skipped(str(err.filename), f"can't list folder: {err.strerror}"))

    for folder, dirs, files in os.walk(root, followlinks=True, onerror=unreadable):
        real = os.path.realpath(folder)
        if real in seen:
            skipped.append(Skipped(folder, "folder link loop, not followed"))
            dirs.clear()
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder, name)
            if name.startswith("."):
                continue
            if _suffix(path) in LOADERS:
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


def load_document(file: SourceFile) -> Document:
    """Read one file into a Document; raises UnsupportedDocument with a one-line reason."""
    try:
        size = file.path.stat().st_size
    except OSError as err:
        raise UnsupportedDocument(f"can't read file: {err.strerror}") from err
    if size == 0:
        raise UnsupportedDocument("empty file")
    if size > MAX_FILE_BYTES:
        raise UnsupportedDocument(f"file too large ({size // 2**20} MiB > {MAX_FILE_BYTES // 2**20} MiB)")
    try:
        data = file.path.read_bytes()
    except OSError as err:
        raise UnsupportedDocument(f"can't read file: {err.strerror}") from err
    document = LOADERS[_suffix(file.path)](data, file)
    if not document.text.strip():
        raise UnsupportedDocument("no text found")
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
        from charset_normalizer import from_bytes

        matches = from_bytes(data[: 1 << 20])
        best = matches.best()
        if best is None:
            raise UnsupportedDocument("binary file or unknown text encoding") from None
        # Short Western-European text fits many code pages equally well; Windows-1252 is the likely one.
        western = any(m.encoding == "cp1252" and m.chaos <= best.chaos + 0.01 for m in matches)
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
    return Document(file.source, _first_line_title(text, file.path.stem), text, str(file.path.resolve()))


def _load_markdown(data: bytes, file: SourceFile) -> Document:
    text = decode_text(data)
    match = _MD_FRONT_TITLE.match(text) or _MD_HEADING.search(text)
    title = match.group(1).strip() if match else _first_line_title(text, file.path.stem)
    return Document(file.source, title, text, str(file.path.resolve()))


def _load_html(data: bytes, file: SourceFile) -> Document:
    import trafilatura

    html = decode_text(data)
    try:
        extracted = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    except (RecursionError, ValueError) as err:
        raise UnsupportedDocument(f"can't parse HTML: {type(err).__name__}") from err
    if extracted is None or not (extracted.text or "").strip():
        raise UnsupportedDocument("no article text found in HTML")
    # trafilatura puts one paragraph per line; blank lines make them paragraphs for the splitter.
    text = "\n\n".join(line.strip() for line in extracted.text.split("\n") if line.strip())
    metadata = {
        key: str(value)
        for key in ("author", "date", "url", "sitename", "description")
        if (value := getattr(extracted, key, None))
    }
    title = (extracted.title or "").strip() or _first_line_title(text, file.path.stem)
    return Document(file.source, title, text, str(file.path.resolve()), metadata=metadata)


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
    return Document(file.source, title, text, str(file.path.resolve()), pages=tuple(pages))


LOADERS: dict[str, Callable[[bytes, SourceFile], Document]] = {
    ".txt": _load_text,
    ".text": _load_text,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
}
