"""Files -> Documents: finding the files, and one reader per format (:mod:`qa.formats`) in one dispatch dict.

Files are parsed in a separate reader process (:func:`load_document`), so a hostile file that
makes a parser hang, crash or eat memory costs that file only: after ``$QA_READ_TIMEOUT``
seconds (default :data:`READ_TIMEOUT_S`) the reader is killed and the file is skipped with a
reason, and the reader's address space is capped at :data:`READER_MEMORY_BYTES`. Files over a
size limit are skipped before a byte is read, which keeps memory bounded: one document's text,
sentences and vectors are held at once, so the limit bounds what indexing one file can take.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import select
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.errors import PathNotFound, UnsupportedDocument
from qa.formats import Reading, decode_text, read_html, read_markdown, read_pdf, read_text
from qa.results import Document, PageSpan, Skipped

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 512 * 1024 * 1024
"""PDFs above this size are skipped rather than read (a PDF's bytes are mostly images and fonts)."""
MAX_TEXT_BYTES = 16 * 1024 * 1024
"""Text, Markdown and HTML files above this size (``$QA_MAX_TEXT_MB`` MiB) are skipped unread, and
so is a document whose extracted text has more characters than this. 16 MiB of prose is about
2.7 million words, 150,000 sentences and 230 MB of vectors, embedded in minutes on a laptop CPU;
a bigger file is better split into several documents."""
READ_TIMEOUT_S = 120.0
"""A file whose parsing takes longer (``$QA_READ_TIMEOUT`` seconds) is skipped."""
READER_MEMORY_BYTES = 4 * 1024**3
"""Address-space limit of the reader process; a file that needs more is skipped."""
READER_START_TIMEOUT_S = 120.0
"""How long the reader process may take to start (imports on a busy machine)."""

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
        if not root.is_dir():
            if _suffix(root) not in LOADERS:
                skipped.append(Skipped(shown_path(root), f"unsupported file type {root.suffix or '(none)'}"))
            elif _readable(root, skipped):
                found.append(SourceFile(root, shown_path(root.name), root_key))
            continue
        # A name that is not valid UTF-8 still gets a printable id; the file is read by its real name.
        found.extend(sorted((SourceFile(path, shown_path(path.relative_to(root).as_posix()), root_key)
                             for path in _walk(root, skipped) if _readable(path, skipped)),
                            key=lambda f: f.source))
    return found, skipped


def shown_path(path: str | os.PathLike) -> str:
    """A path as text that can be printed and stored: bytes that are not UTF-8 become U+FFFD."""
    return os.fsencode(path).decode("utf-8", errors="replace")


def size_limit(path: Path, max_text: int | None = None) -> int:
    """The largest file of this type that is read: MAX_FILE_BYTES for PDFs, else max_text_bytes()."""
    return MAX_FILE_BYTES if _suffix(path) == ".pdf" else max_text or max_text_bytes()


def max_text_bytes() -> int:
    """``$QA_MAX_TEXT_MB`` MiB, or MAX_TEXT_BYTES."""
    value = os.environ.get("QA_MAX_TEXT_MB")
    return int(float(value) * 2**20) if value else MAX_TEXT_BYTES


def read_timeout() -> float:
    """``$QA_READ_TIMEOUT`` seconds, or READ_TIMEOUT_S."""
    value = os.environ.get("QA_READ_TIMEOUT")
    return float(value) if value else READ_TIMEOUT_S


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


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[Path]:
    """Supported files under ``root`` in a stable order, following no link out of a loop."""
    seen: set[str] = set()
    def unreadable(err: OSError) -> None:
        skipped.append(Skipped(shown_path(err.filename), f"can't list folder: {err.strerror}"))

    for folder, dirs, files in os.walk(root, followlinks=True, onerror=unreadable):
        real = os.path.realpath(folder)
        if real in seen:
            skipped.append(Skipped(shown_path(folder), "folder link loop, not followed"))
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


def load_document(file: SourceFile, *, timeout: float | None = None) -> Document:
    """Read one file into a Document in the reader process; raises UnsupportedDocument with a one-line reason.

    ``timeout`` (default ``$QA_READ_TIMEOUT`` or READ_TIMEOUT_S seconds) bounds the parsing.
    """
    return _READER.load(file, read_timeout() if timeout is None else timeout)


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
                        reading.metadata)
    if not document.text.strip():
        raise UnsupportedDocument("no text found")
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
}
"""The reader of each supported file suffix (see :mod:`qa.formats`)."""


class _Reader:
    """A child process that reads files, so a file that hangs or crashes a parser can be abandoned.

    It speaks JSON lines (never pickle): a request ``{"path", "source", "root", "max_text"}``, a reply
    ``{"document": {...}}`` or ``{"error": "reason"}``. It starts on first use and is restarted
    after a file that had to be abandoned.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def load(self, file: SourceFile, timeout: float) -> Document:
        # The limit travels with the request: the reader keeps the environment it started with.
        request = json.dumps({"path": str(file.path), "source": file.source, "root": file.root,
                              "max_text": max_text_bytes()}) + "\n"
        with self._lock:
            try:
                process = self._process = self._process or _start_reader()
                process.stdin.write(request.encode("ascii"))
                process.stdin.flush()
                reply = json.loads(_read_line(process.stdout.fileno(), time.monotonic() + timeout))
            except TimeoutError:
                self.close()
                raise UnsupportedDocument(
                    f"took longer than {timeout:g} s to read ($QA_READ_TIMEOUT); skipped") from None
            except (OSError, EOFError, ValueError):
                code = self.close()
                if code is None:
                    raise UnsupportedDocument("the file reader process could not start") from None
                raise UnsupportedDocument(f"the file reader crashed on it (exit code {code})") from None
        if "error" in reply:
            raise UnsupportedDocument(reply["error"])
        data = reply["document"]
        pages = tuple(PageSpan(**span) for span in data.pop("pages"))
        return Document(**data, pages=pages)

    def close(self) -> int | None:
        """Stop the reader process (it is started again when needed); returns its exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        for stream in (process.stdin, process.stdout):
            stream.close()
        return process.wait()


def _start_reader() -> subprocess.Popen:
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-c", "from qa.ingest import serve_reader; serve_reader()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, env=env, close_fds=True,
    )
    # Start-up (imports) does not count against the first file's time limit.
    try:
        _read_line(process.stdout.fileno(), time.monotonic() + READER_START_TIMEOUT_S)
    except (TimeoutError, EOFError):
        process.kill()
        process.wait()
        raise EOFError from None
    return process


def _read_line(fd: int, deadline: float) -> bytes:
    """One reply line from the reader; TimeoutError at ``deadline``, EOFError if it died."""
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        if b"\n" in chunk:  # replies are ASCII JSON: the only newline ends the line
            return b"".join(chunks)


def serve_reader() -> None:
    """The reader process's main loop (see _Reader); exits when its parent goes away."""
    import resource
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    logging.disable(logging.CRITICAL)  # this is our own process: parsers' warnings would only be noise
    with contextlib.suppress(OSError, ValueError):
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > READER_MEMORY_BYTES:
            resource.setrlimit(resource.RLIMIT_AS, (READER_MEMORY_BYTES, hard))
    parent = os.getppid()

    def orphaned() -> None:
        # A parent killed while a parser hangs must not leave the reader running forever.
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=orphaned, daemon=True).start()
    out = sys.stdout.buffer
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in sys.stdin.buffer:
        request = json.loads(line)
        file = SourceFile(Path(request["path"]), request["source"], request["root"])
        try:
            reply = {"document": asdict(read_document(file, max_text=request["max_text"]))}
        except UnsupportedDocument as err:
            reply = {"error": str(err)}
        except MemoryError:
            reply = {"error": f"needs more than {READER_MEMORY_BYTES / 2**30:.0f} GiB of memory to read"}
        except Exception as err:  # a parser bug on a hostile file must cost that file only
            detail = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
            reply = {"error": f"can't read file ({type(err).__name__}{': ' + detail if detail else ''})"}
        out.write(json.dumps(reply).encode("ascii") + b"\n")
        out.flush()


_READER = _Reader()
atexit.register(_READER.close)
