"""Every change to what an index holds, in order, and what an index made before it needs.

An index records, per kind of change, how many of that kind it was made under (its manifest's
``format`` and ``copy_rules``, each document's ``reading_rules`` and ``passage_rules``, a stored
calibration's ``scale``): :func:`version` of a kind is the number that a new index records, and
:func:`changes_since` lists what an older one missed. A change to qa that alters what an index
holds is one new entry at the end of :data:`CHANGES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

REBUILD = "rebuild"
"""The folder's layout changed: the index is refused until ``qa index --rebuild``."""
REREAD = "re-read"
"""Documents are read from their files again, by the next ``qa index``."""
RESPLIT = "re-split"
"""Documents are split into passages again, by the next ``qa index``."""
RECOPY = "re-mark copies"
"""Dates and copies of one story are found again from what the index stores, by the next ``qa index``."""
RECALIBRATE = "re-calibrate"
"""A stored not-found threshold is ignored (the built-in one applies) until one is set again."""
REEXPORT = "re-export"
"""The cached ONNX export of a model is made again when first used; indexes are not touched."""
_MET_BY = {
    REBUILD: "with `qa index --rebuild`",
    REREAD: "by the next `qa index`",
    RESPLIT: "by the next `qa index`",
    RECOPY: "by the next `qa index`",
    RECALIBRATE: "with benchmarks/calibrate.py --save (until then the built-in threshold applies)",
    REEXPORT: "when the model is next used",
}


@dataclass(frozen=True)
class Change:
    """One change to what an index holds: when, what an index made before it needs, and what changed."""

    number: int
    date: str
    needs: str
    what: str

    def describe(self) -> str:
        """The change and what meets it, in a line: "passages follow paragraphs (2026-11-27): re-split
        by the next `qa index`"."""
        return f"{self.what} ({self.date}): {self.needs} {_MET_BY[self.needs]}"


CHANGES = tuple(Change(number, date, needs, what) for number, (date, needs, what) in enumerate([
    ("2026-11-27", REBUILD, "manifest.json, an SQLite store, FAISS vectors of passages and sentences, BM25"),
    ("2026-11-27", REREAD, "documents read with their line breaks, the first line as the title"),
    ("2026-11-27", RESPLIT, "passages cut as fixed windows of words"),
    ("2026-11-27", RECALIBRATE, "confidence: the best quote's score"),
    ("2026-11-27", RECALIBRATE, "confidence adds the best sentence's similarity"),
    ("2026-11-27", RESPLIT, "passages follow paragraphs"),
    ("2026-11-27", RECALIBRATE, "confidence counts the question's phrases"),
    ("2026-11-27", RECALIBRATE, "confidence drops when the quote's passage lacks the question's numbers"),
    ("2026-11-28", REREAD, "documents read as a person reads them: lines joined, headline, byline, PDF columns"),
    ("2026-11-28", REEXPORT, "ONNX export of the model for the onnx and onnx-int8 runtimes"),
    ("2026-11-28", RECALIBRATE, "confidence drops when the quote lacks the kind of fact asked for"),
    ("2026-11-28", RECOPY, "documents keep their dates and copy groups"),
    ("2026-11-28", RECALIBRATE, "confidence drops when the quote tells of another subject"),
    ("2026-11-28", RECALIBRATE, "confidence drops when the figure stands far from the words that ask"),
    ("2026-12-07", REREAD, "PDF words run together read again with a second library; running heads with section "
                           "numbers dropped; a web address is never a title"),
    ("2026-12-07", RECALIBRATE, "confidence is the fitted answer model's probability that the documents answer"),
], start=1))


def version(kind: str) -> int:
    """The number of changes of this kind so far: what a new index records for it."""
    return sum(change.needs == kind for change in CHANGES)


def changes_since(recorded: Mapping[str, int]) -> list[Change]:
    """The changes an index missed, given how many of each kind it was made under (kinds it
    does not record are left out)."""
    missed, seen = [], dict.fromkeys(recorded, 0)
    for change in CHANGES:
        if change.needs in recorded:
            seen[change.needs] += 1
            if seen[change.needs] > recorded[change.needs]:
                missed.append(change)
    return missed
