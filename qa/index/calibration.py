"""Saving a not-found threshold, calibrated on a data set, into an index's manifest."""

from __future__ import annotations

import os
from dataclasses import replace

from qa.embed.model import canonical_model_name
from qa.errors import InvalidInput
from qa.format_history import RECALIBRATE, version
from qa.index.folder import write_lock
from qa.index.manifest import Calibration, Manifest


def save_calibration(index_dir: str | os.PathLike, threshold: float, *, model: str, note: str = "") -> None:
    """Store a not-found threshold in the index's manifest with the model and confidence formula
    (its ``re-calibrate`` version in ``qa.format_history``) it was set for.

    The retriever uses it only while the index is built with that model; later builds keep it.
    """
    if not 0.0 <= threshold <= 1.0:
        raise InvalidInput(f"A not-found threshold is between 0 and 1, not {threshold}.")
    with write_lock(index_dir):
        manifest = Manifest.load(index_dir)
        calibration = Calibration(canonical_model_name(model), threshold, version(RECALIBRATE), note,
                                  manifest.runtime)
        replace(manifest, not_found=calibration).save(index_dir)
