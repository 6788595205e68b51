"""qa: ask questions of your own documents; every answer is quoted, cited source text.

Example:
    >>> from qa import Retriever, build_index
    >>> build_index(["docs/"], "index/")
    >>> Retriever.load("index/").ask("Who is sending cluster munitions to Ukraine?").quotes[0].text
"""

from typing import TYPE_CHECKING

from qa.config import DEFAULT_DOCS_DIR, DEFAULT_INDEX_DIR, DEFAULT_MODEL, VERSION
from qa.embed import Embedder
from qa.errors import (
    EmptyCorpus,
    IndexCorrupt,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    IndexUnwritable,
    InvalidInput,
    ModelUnavailable,
    PathNotFound,
    QAError,
    UnsupportedDocument,
)
from qa.results import Answer, DocumentInfo, Hit, IndexReport, Quote, Skipped
from qa.scoring import DEFAULT_SCORING, Scoring

if TYPE_CHECKING:
    from qa.indexer import build_index
    from qa.removal import remove_documents
    from qa.retriever import DEFAULT_K, MAX_QUESTION_CHARS, Retriever

    DOCUMENT_SUFFIXES: tuple[str, ...]

# numpy, FAISS and the indexing code load on first use, so `qa --help` starts in a blink.
_LAZY = {"build_index": "qa.indexer", "DOCUMENT_SUFFIXES": "qa.ingest", "DEFAULT_K": "qa.retriever", "MAX_QUESTION_CHARS": "qa.retriever",
         "Retriever": "qa.retriever", "remove_documents": "qa.removal"}


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    globals()[name] = value
    return value


__version__ = VERSION

__all__ = [
    "Answer",
    "DEFAULT_DOCS_DIR",
    "DEFAULT_INDEX_DIR",
    "DEFAULT_K",
    "DEFAULT_MODEL",
    "DEFAULT_SCORING",
    "DOCUMENT_SUFFIXES",
    "DocumentInfo",
    "Embedder",
    "EmptyCorpus",
    "Hit",
    "IndexCorrupt",
    "IndexLocked",
    "IndexMismatch",
    "IndexNotFound",
    "IndexReport",
    "IndexUnwritable",
    "InvalidInput",
    "MAX_QUESTION_CHARS",
    "ModelUnavailable",
    "PathNotFound",
    "QAError",
    "Quote",
    "Retriever",
    "Scoring",
    "Skipped",
    "UnsupportedDocument",
    "build_index",
    "remove_documents",
]
