"""qa: ask questions of your own documents; every answer is quoted, cited source text.

Example:
    >>> from qa import Retriever, build_index
    >>> build_index(["docs/"], "index/")
    >>> Retriever.load("index/").ask("Who is sending cluster munitions to Ukraine?").quotes[0].text
"""

from qa.embed import DEFAULT_MODEL, Embedder
from qa.errors import (
    EmptyCorpus,
    IndexCorrupt,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    ModelUnavailable,
    PathNotFound,
    QAError,
    UnsupportedDocument,
)
from qa.indexer import DEFAULT_DOCS_DIR, DEFAULT_INDEX_DIR, build_index
from qa.results import Answer, DocumentInfo, Hit, IndexReport, Quote, Skipped
from qa.retriever import DEFAULT_K, Retriever

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "DEFAULT_DOCS_DIR",
    "DEFAULT_INDEX_DIR",
    "DEFAULT_K",
    "DEFAULT_MODEL",
    "DocumentInfo",
    "Embedder",
    "EmptyCorpus",
    "Hit",
    "IndexCorrupt",
    "IndexLocked",
    "IndexMismatch",
    "IndexNotFound",
    "IndexReport",
    "ModelUnavailable",
    "PathNotFound",
    "QAError",
    "Quote",
    "Retriever",
    "Skipped",
    "UnsupportedDocument",
    "build_index",
]
