"""Typed results that flow through the pipeline and out of the public API."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PageSpan:
    """Characters ``[start, end)`` of a document's text that come from PDF page ``page`` (1-based),
    and the label printed on that page ("iv", "3") when the PDF says; or, in a Word, EPUB or
    OpenDocument file, from its chapter or top-level section number ``page``, labelled with its heading."""

    page: int
    start: int
    end: int
    label: str | None = None


@dataclass(frozen=True)
class Document:
    """One loaded file: its id (path relative to the folder given), title, text and metadata
    (``author``, ``date``, ``url``, ``place``, ``sitename``, ``description`` where known)."""

    source: str
    title: str
    text: str
    path: str
    pages: tuple[PageSpan, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    respaced_pages: int = 0
    """PDF pages read again with a second PDF library because the first ran their words together."""

    def page_at(self, offset: int) -> int | None:
        """The page (or section) holding character ``offset``, or None for documents without pages."""
        for span in self.pages:
            if span.start <= offset < span.end:
                return span.page
        return self.pages[-1].page if self.pages else None


@dataclass(frozen=True)
class Span:
    """A ``[start, end)`` character range of a document's text."""

    start: int
    end: int


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence of a retrieved passage with its cosine similarity to the question."""

    start: int
    end: int
    similarity: float


@dataclass(frozen=True)
class Passage:
    """A group of whole sentences, with the sentences' spans, as stored in the index."""

    source: str
    start: int
    end: int
    page: int | None
    sentences: tuple[Span, ...]


@dataclass(frozen=True)
class Cited:
    """Verbatim text of an indexed document with what a citation needs:
    ``text == document_text(source)[start:end]``. ``date`` (ISO 8601), ``author`` and ``url``
    are its document's, and ``page_label`` the label printed on its PDF page, where known."""

    text: str
    source: str
    title: str
    page: int | None
    start: int
    end: int
    score: float
    date: str | None = None
    author: str | None = None
    url: str | None = None
    page_label: str | None = None

    @property
    def place(self) -> str:
        """Where in its document, for people: "p. 12"; "p. iv (PDF page 12)" when the label printed
        on the page differs; "section 2: Methods" in a Word, EPUB or OpenDocument file; "" without pages."""
        if self.page is None:
            return ""
        if not self.source.lower().endswith(".pdf"):
            return f"section {self.page}" + (f": {self.page_label}" if self.page_label else "")
        if self.page_label and self.page_label != str(self.page):
            return f"p. {self.page_label} (PDF page {self.page})"
        return f"p. {self.page}"


@dataclass(frozen=True)
class Hit(Cited):
    """A retrieved passage."""

    also_in: list[str] = field(default_factory=list)
    """The other documents, copies of the same story, whose text holds this passage (``qa.index.copies``)."""

    def holds(self, quote: Quote) -> bool:
        """Whether all of ``quote`` lies inside this passage."""
        return self.source == quote.source and self.start <= quote.start and quote.end <= self.end


@dataclass(frozen=True)
class Context:
    """Verbatim text before a quote that says whose words or whose list it is (the sentence that
    names the speaker, or introduces the list): ``text == document_text(source)[start:end]``."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Quote(Cited):
    """One to three contiguous sentences quoted verbatim; ``context``, when set, is the
    attribution that belongs with it (see :class:`Context`)."""

    context: Context | None = None
    also_in: list[str] = field(default_factory=list)
    """The other documents, copies of the same story, whose text holds this quote: it is quoted once."""


@dataclass(frozen=True)
class Answer:
    """The quotes that answer ``question`` (best first) and the passages considered.

    ``answered`` is False when the documents do not answer; ``quotes`` is then empty and
    ``hits`` holds the closest passages, which are weak matches, not answers. ``confidence`` is
    the answer model's probability that the documents answer (``qa.answer.quotes.answer_confidence``),
    which the not-found threshold is compared with.

    ``as_of`` is the date the answer speaks for, when the question asks for the current state;
    ``date_order`` ("oldest first" or "newest first") says the quotes are in date order rather
    than best first, because they come from different dates and disagree, or the question asks
    for the latest (``qa.answer.timeline``).
    """

    question: str
    answered: bool
    quotes: list[Quote]
    hits: list[Hit]
    confidence: float = 0.0
    as_of: str | None = None
    date_order: str | None = None
    each_source: bool = False
    """The quotes are the best of each document that answers (``Retriever.ask(per_source=N)``), most relevant first."""

    @property
    def time_note(self) -> str:
        """What the answer says about its quotes' order, or "": "As of 2024-03-06." and/or "The
        documents differ over time; their quotes in date order, oldest first:", or for each source
        "The best quote of each of 3 documents, most relevant first:"."""
        if self.each_source:
            if len(self.quotes) == 1:
                return "Each source: one document answers; its best quote:"
            return f"Each source: the best quote of each of {len(self.quotes)} documents, most relevant first:"
        parts = [f"As of {self.as_of}."] if self.as_of else []
        if self.date_order:
            parts.append(f"The documents differ over time; their quotes in date order, {self.date_order}:")
        return " ".join(parts)

    def passage_of(self, quote: Quote) -> Hit | None:
        """The first of ``hits`` that holds all of ``quote`` (the passage to read it in)."""
        return next((hit for hit in self.hits if hit.holds(quote)), None)

    def to_json(self) -> dict:
        """The ``qa ask --json`` shape: question, answered, quotes, passages, as_of, date_order."""
        from dataclasses import asdict

        return {
            "question": self.question,
            "answered": self.answered,
            "quotes": [asdict(q) for q in self.quotes],
            "passages": [asdict(h) for h in self.hits],
            "as_of": self.as_of,
            "date_order": self.date_order,
        }


@dataclass(frozen=True)
class DocumentInfo:
    """An indexed document: its id, title, original file and how many passages it has."""

    source: str
    title: str
    path: str
    passages: int
    pages: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why (one line)."""

    path: str
    reason: str


@dataclass
class IndexReport:
    """What a ``build_index`` run did."""

    documents: int = 0
    passages: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    passages_per_second: float = 0.0
    """Passages of the added and updated documents per second of the run (0 when none were)."""
    respaced_pages: int = 0
    """PDF pages of the documents read in this run whose words one PDF library ran together, read
    again with another."""
