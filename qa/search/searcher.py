"""Search: the passages of an index folder that best match a question, fusing dense and BM25 scores."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from qa.config import default_index_dir
from qa.embed.model import Embedder, canonical_model_name
from qa.errors import InvalidInput
from qa.index.manifest import MANIFEST, model_mismatch
from qa.index.store import Scope, Store, StoredPassage
from qa.results import DocumentInfo, Hit, Quote, ScoredSentence
from qa.scoring import DEFAULT_SCORING, Scoring
from qa.search.filters import DocumentFilter, document_filter
from qa.text.words import has_words

DEFAULT_K = 5
MAX_QUESTION_CHARS = 2_000
"""Longer questions are refused: a question is a sentence or two, and a huge one would hold the model."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
Ranked = list[tuple[Hit, list[ScoredSentence]]]
Dates = str | dt.date | None
Sources = str | Iterable[str] | None
S = TypeVar("S", bound="Searcher")


@dataclass(frozen=True)
class Ranking:
    """The best passages for a question, the build they come from and the filter's scope."""

    ranked: Ranked
    store: Store
    scope: Scope | None


class Searcher:
    """Searches one index folder, switching to its newest build when it changes."""

    def __init__(self, store: Store, embedder: Embedder, scoring: Scoring = DEFAULT_SCORING) -> None:
        self._store = store
        self._embedder = embedder
        self.scoring = scoring
        self._manifest_stamp = _stamp(store.index_dir)
        self._lock = threading.Lock()

    @classmethod
    def load(cls: type[S], index_dir: str | os.PathLike | None = None, *, model: str | None = None,
             embedder: Embedder | None = None, scoring: Scoring = DEFAULT_SCORING,
             runtime: str | None = None) -> S:
        """Open the index in ``index_dir`` (default ``$QA_INDEX_DIR`` or ``index``).

        The model is the one the index was built with; passing another one raises IndexMismatch.
        Questions are embedded by the index's runtime, or by ``runtime`` if given (a question's
        vector is not stored, so any runtime of the same model may embed it). ``scoring`` holds
        every weight and threshold of ranking and quoting (``qa.scoring``).
        """
        store = Store(index_dir or default_index_dir())
        built_with = store.manifest.model
        asked = embedder.name if embedder else canonical_model_name(model) if model else built_with
        if asked != built_with:
            raise model_mismatch(store.index_dir, built_with, asked)
        return cls(store, embedder or Embedder(built_with, runtime=runtime or store.manifest.runtime), scoring)

    @property
    def index_dir(self) -> Path:
        return self._store.index_dir

    @property
    def model(self) -> str:
        return self._store.manifest.model

    @property
    def runtime(self) -> str:
        """The runtime the index's vectors were made with."""
        return self._store.manifest.runtime

    @property
    def embedder(self) -> Embedder:
        """The model that embeds questions: the index's own model and runtime, loaded when first used."""
        return self._embedder

    @property
    def missed_changes(self) -> list[str]:
        """The changes to what an index holds made since this index was built, one line each with
        what brings it up to date (``qa.format_history``); empty for an index that is current."""
        return [change.describe() for change in self._store.manifest.missed_changes()]

    def reload(self) -> bool:
        """Switch to the folder's newest build if it changed; True when it did.

        The previous build is not closed: a question or page request still reading it finishes
        from it, and its files are released when the last one is done.
        """
        with self._lock:
            stamp = _stamp(self._store.index_dir)
            if stamp == self._manifest_stamp:
                return False
            fresh = Store(self._store.index_dir)
            if (fresh.manifest.model, fresh.manifest.runtime) != (self.model, self.runtime):
                self._embedder = Embedder(fresh.manifest.model, runtime=fresh.manifest.runtime)
            self._store, self._manifest_stamp = fresh, stamp
            return True

    def search(self, question: str, k: int = DEFAULT_K, *, since: Dates = None, until: Dates = None,
               source: Sources = None) -> list[Hit]:
        """The ``k`` passages most relevant to ``question``, best first.

        ``since`` and ``until`` keep to documents dated in that range (ISO days, inclusive;
        "2023-07" or "2023" for a whole month or year; undated documents are left out), and
        ``source`` (a glob over document ids, or several) to the documents it matches. The filter
        acts before ranking: these are the best passages within it. Of near-identical passages
        of copies of one story, only the best is listed, with the others in its ``also_in``.
        """
        question = checked(question, k)
        return [hit for hit, _ in self.rank(question, k, document_filter(since, until, source)).ranked]

    def rank_documents(self, question: str, k: int = 100) -> dict[str, float]:
        """The ``k`` best documents for ``question`` (source -> score); a document scores by its best passage."""
        question = checked(question, k)
        best: dict[str, float] = {}
        for hit, _ in self.rank(question, 3 * k, collapse=False).ranked:
            best.setdefault(hit.source, hit.score)
            if len(best) == k:
                break
        return best

    def document_text(self, source: str) -> str:
        """The full text of document ``source``; every Hit and Quote offset points into it."""
        self.reload()
        return self._store.document_text(source)

    def documents(self) -> list[DocumentInfo]:
        """The indexed documents (of the folder's newest build)."""
        self.reload()
        return self._store.documents()

    def original_file(self, source: str) -> Path | None:
        """The file document ``source`` was read from, while it is still the file that was indexed.

        None when the document is not indexed, or its file is gone, was replaced by a link, or
        changed (size or modification time) since: what is served as the document's original must
        be what was indexed, never whatever now sits at that path.
        """
        self.reload()
        record = self._store.manifest.documents.get(source)
        if record is None:
            return None
        path = Path(record.path)
        try:
            if path.is_symlink() or str(path.resolve(strict=True)) != record.path:
                return None
            info = path.stat()
        except OSError:
            return None
        if record.size is None or (info.st_size, info.st_mtime_ns) != (record.size, record.mtime_ns):
            return None
        return path

    def rank(self, question: str, k: int, wanted: DocumentFilter | None = None, *, collapse: bool = True) -> Ranking:
        """The ``k`` best passages, each with its sentences' similarities to the question.

        Candidates are the nearest passages, the passages of the nearest sentences and the best
        BM25 passages, all among the documents ``wanted`` lets through. A passage's dense score
        is its own similarity plus that of its best sentence, which finds the passage holding the
        one sentence that answers even when the rest is about other things; its final score adds
        its normalised BM25 score. With ``collapse``, a passage whose text a better passage of a
        copy of its document holds is left out (and named in that one's ``also_in``).
        """
        self.reload()
        store, scoring = self._store, self.scoring
        scope = store.scope(wanted) if wanted else None
        lexical = store.lexical
        depth = max(scoring.candidates, k)
        store.begin_check()  # the data files are checked while the question is embedded
        query = self._embedder.encode_question(question)
        nearest = {pid for pid, _ in store.search("passages", query, depth, scope)}
        candidates = set()
        if scoring.dense_weight:
            candidates |= nearest
            candidates |= store.passages_of_sentences(sid for sid, _ in store.search("sentences", query, depth, scope))
        bm25 = lexical.scores(question)
        if scope is not None:
            bm25 = np.where(scope.lexical, bm25, 0.0)
        candidates |= {pid for pid, _ in lexical.top(bm25, depth if scoring.lexical_weight else 0)}
        # Without candidates (BM25 alone, and no word in common), the nearest passages stand in.
        stored = list(store.passages(candidates or nearest).values())
        lexical_score = lexical.scores_of(bm25, [p.id for p in stored])
        passage_similarity = store.similarities("passages", [p.id for p in stored], query)
        sentence_ids = [sid for p in stored for sid in p.sentence_ids]
        sentence_similarity = dict(zip(sentence_ids, store.similarities("sentences", sentence_ids, query).tolist()))
        scored = []
        for passage, similarity in zip(stored, passage_similarity.tolist()):
            best = max(sentence_similarity[sid] for sid in passage.sentence_ids)
            dense = (scoring.passage_similarity_weight * similarity + best) / (1 + scoring.passage_similarity_weight)
            score = (scoring.dense_weight * dense + scoring.lexical_weight * lexical_score.get(passage.id, 0.0)) / (
                scoring.dense_weight + scoring.lexical_weight)
            scored.append((score, passage))
        scored.sort(key=lambda item: (-item[0], item[1].id))
        ranked: Ranked = []
        for score, passage in scored:
            if len(ranked) == k:
                break
            hit = _hit(store, passage, score)
            if not (collapse and repeats(hit, (earlier for earlier, _ in ranked), store)):
                sentences = [ScoredSentence(start, end, sentence_similarity[sid])
                             for sid, (start, end) in zip(passage.sentence_ids, passage.sentence_spans)]
                ranked.append((hit, sentences))
        allowed = scope.sources if scope else None
        return Ranking([(with_copies(hit, store, allowed), sentences) for hit, sentences in ranked], store, scope)


def _hit(store: Store, stored: StoredPassage, score: float) -> Hit:
    return Hit(store.passage_text(stored), stored.source, stored.title, stored.page, stored.start, stored.end,
               round(score, 4), **store.document_details(stored.source).about(stored.page))


def with_copies(item: Hit | Quote, store: Store, allowed: frozenset[str] | None):
    """``item`` with ``also_in``: the copies of its document (among ``allowed``) whose text holds it."""
    holders = store.copy_finder.holders(item.source, item.text, allowed)
    return replace(item, also_in=holders) if holders else item


def repeats(item: Hit | Quote, earlier: Iterable[Hit | Quote], store: Store) -> bool:
    """Whether ``item`` says what one of ``earlier`` says, from a copy of its document."""
    return any(store.copy_finder.same_text(item.source, item.text, e.source, e.text) for e in earlier)


def checked(question: str, k: int) -> str:
    """The question as searched: lone surrogates (undecodable bytes) as U+FFFD, control
    characters as spaces; InvalidInput for an empty or overlong question or a bad ``k``."""
    if not isinstance(question, str):
        raise InvalidInput(f"The question must be text, not {type(question).__name__}.")
    question = _UNPRINTABLE.sub(" ", _SURROGATE.sub("\ufffd", question)).strip()
    if not question:
        raise InvalidInput("The question is empty: ask something about your documents.")
    if not has_words(question):  # nothing a quote could match: a zero-width space, a lone surrogate
        raise InvalidInput("The question has no words: ask something about your documents in words.")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidInput(f"The question is {len(question):,} characters long; ask in at most "
                           f"{MAX_QUESTION_CHARS:,}.")
    if not isinstance(k, int) or k < 1:
        raise InvalidInput(f"k must be a whole number of at least 1, not {k!r}.")
    return question


def _stamp(index_dir: Path) -> tuple[int, int] | None:
    try:
        st = (index_dir / MANIFEST).stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns
