"""The reader process: files are parsed in a child process, so a hostile file costs that file only.

A file that makes a parser hang, crash or eat memory is abandoned: after ``$QA_READ_TIMEOUT``
seconds (``qa.config.read_timeout()``) the reader is killed and the file is skipped with a
reason, and the reader's address space is capped at :data:`READER_MEMORY_BYTES`. The reader
speaks JSON lines with its parent, never pickle.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from qa.config import max_text_bytes, read_timeout
from qa.errors import UnsupportedDocument
from qa.read.files import SourceFile, read_document
from qa.results import Document, PageSpan

READER_MEMORY_BYTES = 4 * 1024**3
"""Address-space limit of the reader process; a file that needs more is skipped."""
READER_START_TIMEOUT_S = 120.0
"""How long the reader process may take to start (imports on a busy machine)."""


def load_document(file: SourceFile, *, timeout: float | None = None) -> Document:
    """Read one file into a Document in the reader process; raises UnsupportedDocument with a one-line reason.

    ``timeout`` (default ``qa.config.read_timeout()`` seconds) bounds the parsing.
    """
    return _READER.load(file, read_timeout() if timeout is None else timeout)




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
                    raise UnsupportedDocument("the file reader process could not start", transient=True) from None
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
        [sys.executable, "-c", "from qa.read.parse_process import serve_reader; serve_reader()"],
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
