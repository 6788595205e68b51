"""BM25 over passages (bm25s): the lexical half of hybrid retrieval, saved beside the vectors.

Words the question shares with a passage find answers that embeddings of a small model miss
(names, numbers, rare terms); meanings the embeddings catch find answers worded differently.
The retriever fuses both. The index is one ``.npz`` file of plain arrays (bm25s's sparse
score matrix, the vocabulary and the passage ids), loaded without pickle.

Scores are reported normalised: a passage's BM25 score divided by the most that the
question's words score in any passage of the index, so 1.0 means "holds every question word as
strongly as the best passage for each" and scores compare across questions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

K1 = 1.2
B = 0.75
"""BM25 parameters (the Lucene / Anserini defaults that BEIR's BM25 numbers use)."""

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
REFERS_BACK = re.compile(r"\W*(?:It|Its|He|His|She|Her|They|Their|This|These|Those|The latter)\b")
"""A sentence that opens with a pronoun: it is about what the sentence before names."""
STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "done", "has", "have", "had", "having", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "that", "this", "these", "those", "it", "its", "there", "their", "they", "them", "he", "him", "his", "she", "her", "we", "our", "you", "your", "i", "me", "my", "not", "no", "so", "than", "then", "into", "onto", "about", "over", "under", "after", "before", "during", "between", "through", "up", "down", "out", "off", "again", "further", "once", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "also", "any", "some", "such", "only", "own", "same", "too", "very", "just", "s", "t"]
)


@lru_cache(maxsize=1 << 16)  # a question's candidates repeat the same words: each is stemmed once
def stem(word: str) -> str:
    """A light English stemmer: plural and a few common inflections, nothing that changes meaning."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit (NUL characters, zero-width spaces and marks alone do not count)."""
    return _TOKEN.search(text) is not None


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` (runs of letters and digits)."""
    return letters_and_digits(text.lower())


def letters_and_digits(text: str) -> list[str]:
    """The runs of letters and digits of ``text``, as they are."""
    return _TOKEN.findall(text)


def numbers(text: str) -> set[str]:
    """The numbers written in ``text``, without thousands commas ("1,000" is "1000")."""
    return {number.replace(",", "") for number in _NUMBER.findall(text)}


def terms(text: str) -> list[str]:
    """The words of ``text`` that BM25 and quote scoring match on: lower-cased, stemmed, no stop words."""
    return [stem(word) for word in words(text) if word not in STOPWORDS]


class LexicalIndex:
    """BM25 scores of a fixed set of passages (ids are the passages' vector ids).

    The index is bm25s's term-by-passage score matrix in compressed sparse rows (``data``,
    ``indices``, ``indptr``; row = term of ``vocabulary``): a question's BM25 scores are the sums
    of its terms' rows, computed here in numpy. bm25s is used only to build the matrix
    (:func:`bm25_matrix`).
    """

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, vocabulary: Sequence[str],
                 ids: np.ndarray) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self._data = np.asarray(data, dtype=np.float32)
        self._indices = np.asarray(indices, dtype=np.int64)
        self._indptr = np.asarray(indptr, dtype=np.int64)
        self._vocabulary = {token: i for i, token in enumerate(vocabulary)}
        self._row = {int(pid): row for row, pid in enumerate(self.ids)}
        # The best score each word reaches in any passage: the normaliser of a question's scores.
        lengths = np.diff(self._indptr)
        self._term_max = np.zeros(len(lengths), dtype=np.float32)
        nonempty = lengths > 0
        if self._data.size:
            self._term_max[nonempty] = np.maximum.reduceat(self._data, self._indptr[:-1][nonempty])

    @classmethod
    def build(cls, texts: Iterable[str], ids: Sequence[int]) -> LexicalIndex:
        """Index the passages ``texts`` (one per id)."""
        data, indices, indptr, vocabulary = bm25_matrix([terms(text) or [""] for text in texts])
        return cls(data, indices, indptr, vocabulary, np.asarray(ids, np.int64))

    def save(self, path: str | os.PathLike) -> None:
        vocabulary = sorted(self._vocabulary, key=self._vocabulary.get)
        with open(path, "wb") as handle:
            np.savez(handle, data=self._data, indices=self._indices.astype(np.int32), indptr=self._indptr, ids=self.ids,
                     vocabulary=np.array(vocabulary, dtype=str), k1=np.float32(K1), b=np.float32(B))

    @classmethod
    def load(cls, path: str | os.PathLike, *, passages: int | None = None) -> LexicalIndex:
        """Read a saved index; ValueError saying what is wrong when its arrays don't fit together
        (or don't hold ``passages`` passages)."""
        with np.load(Path(path), allow_pickle=False) as arrays:
            data, indices, indptr = arrays["data"], arrays["indices"], arrays["indptr"]
            vocabulary, ids = arrays["vocabulary"].tolist(), arrays["ids"]
        indptr = _with_empty_row(indptr, vocabulary)
        _check_arrays(data, indices, indptr, vocabulary, ids, passages)
        return cls(data, indices, indptr, vocabulary, ids)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, question: str) -> np.ndarray:
        """Normalised BM25 score of every passage, in the order of :attr:`ids`."""
        rows = sorted({self._vocabulary[t] for t in terms(question) if t in self._vocabulary}
                      - {self._vocabulary.get("")})
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for row in rows:
            start, end = self._indptr[row], self._indptr[row + 1]
            scores[self._indices[start:end]] += self._data[start:end]  # a passage appears once per row
        total = float(self._term_max[rows].sum()) if rows else 0.0
        return scores / total if total > 0 else scores

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        """(passage id, normalised score) of the ``k`` best passages with any question word."""
        return self.top(self.scores(question), k)

    def top(self, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(passage id, score) of the ``k`` best nonzero ``scores`` (as returned by :meth:`scores`)."""
        n = min(k, int(np.count_nonzero(scores)))
        if n <= 0:
            return []
        rows = np.argpartition(-scores, n - 1)[:n]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [(int(self.ids[i]), float(scores[i])) for i in rows]

    def scores_of(self, scores: np.ndarray, ids: Iterable[int]) -> dict[int, float]:
        """The entries of ``scores`` for these passage ids."""
        return {pid: float(scores[self._row[pid]]) for pid in ids if pid in self._row}


def bm25_matrix(corpus: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """bm25s's BM25 score matrix of tokenised passages: (data, indices, indptr, vocabulary).

    The one place qa touches bm25s: its ``index`` and the ``scores`` and ``vocab_dict`` it leaves
    (tests/test_lexical.py checks them against bm25s's own scoring, so a change in bm25s fails there).
    """
    import bm25s

    bm25 = bm25s.BM25(k1=K1, b=B)
    bm25.index(corpus, show_progress=False)
    vocabulary = [""] * len(bm25.vocab_dict)
    for token, i in bm25.vocab_dict.items():
        vocabulary[i] = token
    matrix = bm25.scores
    return (np.asarray(matrix["data"], np.float32), np.asarray(matrix["indices"], np.int32),
            _with_empty_row(np.asarray(matrix["indptr"], np.int64), vocabulary), vocabulary)


def _with_empty_row(indptr: np.ndarray, vocabulary: list[str]) -> np.ndarray:
    """bm25s lists the empty token last in its vocabulary without a row when no passage is empty:
    give it an empty row, so every term has one."""
    if len(indptr) == len(vocabulary) and vocabulary and vocabulary[-1] == "" and len(indptr):
        return np.append(indptr, indptr[-1])
    return indptr


def _check_arrays(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, vocabulary: list,
                  ids: np.ndarray, passages: int | None) -> None:
    if not all(a.ndim == 1 for a in (data, indices, indptr, ids)):
        raise ValueError("an array is not one-dimensional")
    if not all(np.issubdtype(a.dtype, np.integer) for a in (indices, indptr, ids)):
        raise ValueError("an index array is not of integers")
    if passages is not None and len(ids) != passages:
        raise ValueError(f"it holds {len(ids)} passages, not {passages}")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("a passage id appears twice")
    if len(indptr) != len(vocabulary) + 1 or (len(indptr) and (indptr[0] != 0 or indptr[-1] != len(data))):
        raise ValueError("its row pointers don't match its vocabulary and scores")
    if np.any(np.diff(indptr) < 0) or len(indices) != len(data):
        raise ValueError("its rows are out of order")
    if len(indices) and (indices.min() < 0 or indices.max() >= len(ids)):
        raise ValueError("it points to passages it does not hold")
    if not np.all(np.isfinite(data)):
        raise ValueError("it holds scores that are not numbers")
