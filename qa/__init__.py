"""qa: ask questions of your own documents; every answer is quoted, cited source text.

Example:
    >>> from qa import Retriever, build_index
    >>> build_index(["docs/"], "index/")
    >>> Retriever.load("index/").ask("Who is sending cluster munitions to Ukraine?").quotes[0].text
"""

from typing import TYPE_CHECKING

from qa.config import DEFAULT_DOCS_DIR, DEFAULT_INDEX_DIR, DEFAULT_MODEL, VERSION
from qa.embed.model import Embedder
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
    from qa.answer.model import QuoteScorer
    from qa.answer.question import Question, parse_question
    from qa.index.build import build_index
    from qa.index.removal import remove_documents
    from qa.retriever import DEFAULT_K, MAX_QUESTION_CHARS, Retriever

    DOCUMENT_SUFFIXES: tuple[str, ...]

# numpy, FAISS and the indexing code load on first use, so `qa --help` starts in a blink.
_LAZY = {"Question": "qa.answer.question", "parse_question": "qa.answer.question", "QuoteScorer": "qa.answer.model",
         "build_index": "qa.index.build", "DOCUMENT_SUFFIXES": "qa.read.files", "DEFAULT_K": "qa.retriever",
         "MAX_QUESTION_CHARS": "qa.retriever", "Retriever": "qa.retriever", "remove_documents": "qa.index.removal"}


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
    "Question",
    "Quote",
    "QuoteScorer",
    "Retriever",
    "Scoring",
    "Skipped",
    "UnsupportedDocument",
    "build_index",
    "parse_question",
    "remove_documents",
]
