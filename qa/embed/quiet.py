"""Loading a model: without transformers' progress bars (the library prints nothing unasked), and a
failure told in one line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from qa.errors import ModelUnavailable


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


def model_unavailable(name: str, err: BaseException) -> ModelUnavailable:
    """The error for a model that failed to load: the first line of why, and what to give instead."""
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if type(err).__name__ == "UnpicklingError":  # torch refused to run what the pickle asked for
        reason = "its pytorch_model.bin holds more than weights (code that loading it would run), so it was not loaded"
    return ModelUnavailable(f"Can't load embedding model '{name}': {reason}. Give a local model folder "
                            "(weights in model.safetensors), or a Hugging Face model name if this machine has internet.")
