"""Files -> Documents: finding the files under the paths given, and one reader per format
(:mod:`qa.read.formats`) in one dispatch dict.

The indexer parses files in the reader process (``qa.read.parse_process``), which calls :func:`read_document`.
Files over a size limit are skipped before a byte is read, which keeps memory bounded: one
document's text, sentences and vectors are held at once, so the limit bounds what indexing one
file can take. Links that lead out of a folder given are not followed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.config import MAX_PDF_BYTES, max_text_bytes
from qa.errors import PathNotFound, UnsupportedDocument
from qa.read.formats import Reading, read_docx, read_epub, read_html, read_markdown, read_odt, read_pdf, read_text
from qa.results import Document, Skipped
from qa.text.words import has_words

logger = logging.getLogger(__name__)


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
                skipped.append(_not_read(root))
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
    """The largest file of this type that is read: MAX_PDF_BYTES for PDFs and other packaged
    documents (Word, EPUB, OpenDocument: their images count), else max_text_bytes()."""
    return MAX_PDF_BYTES if _suffix(path) in PACKAGED_SUFFIXES else max_text or max_text_bytes()


def _not_read(path: Path) -> Skipped:
    return Skipped(shown_path(path), f"unsupported file type {path.suffix or '(none)'}, not read "
                                     f"(qa reads {' '.join(DOCUMENT_SUFFIXES)})")


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
        setting = "" if _suffix(path) in PACKAGED_SUFFIXES else " ($QA_MAX_TEXT_MB)"
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
            if name.startswith(".") or leaves(path):
                continue
            if _suffix(path) in LOADERS:
                yield path
            else:
                skipped.append(_not_read(path))


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
    reading = LOADERS[_suffix(file.path)](data, shown_path(file.path.stem))
    del data
    document = Document(file.source, reading.title, reading.text, shown_path(file.path.resolve()), reading.pages,
                        reading.metadata, reading.respaced_pages)
    if not has_words(document.text):
        raise UnsupportedDocument("no text found (no letters or digits)")
    if len(document.text) > max_text:
        raise UnsupportedDocument(f"too much text ({len(document.text) / 1e6:.3g} million characters; the limit "
                                  f"is {max_text / 1e6:.3g} million ($QA_MAX_TEXT_MB)); split it into smaller files")
    return document


LOADERS: dict[str, Callable[[bytes, str], Reading]] = {
    ".txt": read_text,
    ".text": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".epub": read_epub,
    ".odt": read_odt,
}
"""The reader of each supported file suffix (see :mod:`qa.read.formats`)."""
DOCUMENT_SUFFIXES = tuple(LOADERS)
"""The file types the indexer reads."""
PACKAGED_SUFFIXES = frozenset({".pdf", ".docx", ".epub", ".odt"})
"""The file types whose size limit is MAX_PDF_BYTES: documents with their images packed in."""
