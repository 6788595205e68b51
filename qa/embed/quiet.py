"""Loading a model without transformers' progress bars: the library prints nothing unasked."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_model_loading() -> Iterator[None]:
    """Hide transformers' "Loading weights" bar while a model loads: the library prints nothing unasked."""
    from transformers.utils import logging as transformers_logging

    was_shown = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_shown:
            transformers_logging.enable_progress_bar()
