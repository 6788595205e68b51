"""remove_documents: take documents out of an index without touching any file of theirs."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

from qa.config import DEFAULT_INDEX_TYPE, default_index_dir
from qa.errors import InvalidInput
from qa.index.folder import remove_leftovers, write_lock
from qa.index.manifest import shown
from qa.index.store import Store
from qa.index.writer import StoreWriter
from qa.results import IndexReport


def remove_documents(sources: Iterable[str], index_dir: str | os.PathLike | None = None) -> IndexReport:
    """Remove documents ``sources`` (their ids) from the index in ``index_dir``, with their passages.

    Only the index changes; the documents' files stay where they are (indexing their folder
    again adds them back). Raises InvalidInput for an id that is not indexed, or when nothing
    would be left, and IndexLocked while another build is writing the folder.

    Example:
        >>> remove_documents(["old-notes.txt"], "index/").removed
        1
    """
    started = time.perf_counter()
    sources = list(dict.fromkeys(sources))
    index_dir = Path(index_dir or default_index_dir())
    with write_lock(index_dir):
        remove_leftovers(index_dir)  # of a build that was killed
        base = Store(index_dir)
        base.verify()  # a damaged build is not built on
        manifest = base.manifest
        unknown = [source for source in sources if source not in manifest.documents]
        if unknown:
            raise InvalidInput(f"No document '{unknown[0]}' in the index at {shown(index_dir)}.")
        if sources and len(sources) >= len(manifest.documents):
            raise InvalidInput(f"That would leave the index at {shown(index_dir)} empty; "
                               "index other documents first, or delete the folder.")
        writer = StoreWriter(index_dir, model=manifest.model, dimension=manifest.dimension, base=base,
                             index_type=manifest.index_type or DEFAULT_INDEX_TYPE, runtime=manifest.runtime)
        try:
            writer.remove_documents(sources)
            new = writer.commit(manifest.skipped)
        except BaseException:
            writer.abort()
            raise
    return IndexReport(documents=len(new.documents), passages=new.passages, removed=len(sources),
                       seconds=time.perf_counter() - started)
