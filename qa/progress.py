"""The one place progress bars are made (tqdm, on stderr)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress_bar(items: Iterable[T], enabled: bool, *, status: Callable[[], str] | None = None,
                 **options) -> Iterator[T]:
    """Iterate ``items`` with a tqdm bar on stderr when ``enabled``; ``status()`` is shown after it."""
    if not enabled:
        yield from items
        return
    from tqdm.auto import tqdm

    bar = tqdm(items, leave=False, dynamic_ncols=True, **options)
    for item in bar:
        yield item
        if status:
            bar.set_postfix_str(status(), refresh=False)
