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
from pathlib import Path

import numpy as np

K1 = 1.2
B = 0.75
"""BM25 parameters (the Lucene / Anserini defaults that BEIR's BM25 numbers use)."""

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "done", "has", "have", "had", "having", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "that", "this", "these", "those", "it", "its", "there", "their", "they", "them", "he", "him", "his", "she", "her", "we", "our", "you", "your", "i", "me", "my", "not", "no", "so", "than", "then", "into", "onto", "about", "over", "under", "after", "before", "during", "between", "through", "up", "down", "out", "off", "again", "further", "once", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "also", "any", "some", "such", "only", "own", "same", "too", "very", "just", "s", "t"]
)


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


def terms(text: str) -> list[str]:
    """The words of ``text`` that BM25 and quote scoring match on: lower-cased, stemmed, no stop words."""
    return [stem(token) for token in _TOKEN.findall(text.lower()) if token not in STOPWORDS]


class LexicalIndex:
    """BM25 scores of a fixed set of passages (ids are the passages' vector ids)."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, vocabulary: Sequence[str],
                 ids: np.ndarray) -> None:
        import bm25s

        self.ids = np.asarray(ids, dtype=np.int64)
        self._bm25 = bm25s.BM25(k1=K1, b=B)
        self._bm25.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": len(self.ids)}
        self._bm25.vocab_dict = {token: i for i, token in enumerate(vocabulary)}
        self._bm25.nonoccurrence_array = None  # only BM25L and BM25+ have one
        self._row = {int(pid): row for row, pid in enumerate(self.ids)}
        # The best score each word reaches in any passage: the normaliser of a question's scores.
        lengths = np.diff(indptr)
        self._term_max = np.zeros(len(lengths), dtype=np.float32)
        nonempty = lengths > 0
        if data.size:
            self._term_max[nonempty] = np.maximum.reduceat(data, indptr[:-1][nonempty])

    @classmethod
    def build(cls, texts: Iterable[str], ids: Sequence[int]) -> LexicalIndex:
        """Index the passages ``texts`` (one per id)."""
        import bm25s

        tokens = [terms(text) or [""] for text in texts]
        bm25 = bm25s.BM25(k1=K1, b=B)
        bm25.index(tokens, show_progress=False)
        vocabulary = [""] * len(bm25.vocab_dict)
        for token, i in bm25.vocab_dict.items():
            vocabulary[i] = token
        s = bm25.scores
        return cls(np.asarray(s["data"], np.float32), np.asarray(s["indices"], np.int32),
                   np.asarray(s["indptr"], np.int64), vocabulary, np.asarray(ids, np.int64))

    def save(self, path: str | os.PathLike) -> None:
        s = self._bm25.scores
        vocabulary = sorted(self._bm25.vocab_dict, key=self._bm25.vocab_dict.get)
        with open(path, "wb") as handle:
            np.savez(handle, data=s["data"], indices=s["indices"], indptr=s["indptr"], ids=self.ids,
                     vocabulary=np.array(vocabulary, dtype=str), k1=np.float32(K1), b=np.float32(B))

    @classmethod
    def load(cls, path: str | os.PathLike) -> LexicalIndex:
        with np.load(Path(path), allow_pickle=False) as arrays:
            return cls(arrays["data"], arrays["indices"], arrays["indptr"], arrays["vocabulary"].tolist(),
                       arrays["ids"])

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, question: str) -> np.ndarray:
        """Normalised BM25 score of every passage, in the order of :attr:`ids`."""
        token_ids = sorted({self._bm25.vocab_dict[t] for t in terms(question) if t in self._bm25.vocab_dict} - {
            self._bm25.vocab_dict.get("")})
        if not token_ids or not len(self.ids):
            return np.zeros(len(self.ids), dtype=np.float32)
        total = float(self._term_max[token_ids].sum())
        scores = self._bm25.get_scores_from_ids(token_ids)
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
