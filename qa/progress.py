"""The one place progress bars are made (tqdm, on stderr)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress_bar(items: Iterable[T], enabled: bool, **options) -> Iterator[T]:
    """Iterate ``items`` with a tqdm bar on stderr when ``enabled``."""
    if not enabled:
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, leave=False, dynamic_ncols=True, **options)
