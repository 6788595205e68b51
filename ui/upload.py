"""Uploaded files -> the documents folder, safely: no path escapes, no overwrites, size-capped."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
"""Largest file the page accepts (the server refuses bigger uploads before they reach disk)."""

DOCUMENT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".pdf")


def safe_name(filename: str) -> str:
    """The last component of an uploaded ``filename``; ValueError if nothing safe is left.

    Browsers send bare names, but a crafted request may send ``../../x`` or ``C:\\x``: only
    the final component is kept, and hidden or control-character names are refused.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name.startswith(".") or any(ord(c) < 32 or c == "\x7f" for c in name):
        raise ValueError("not a usable file name")
    if Path(name).suffix.lower() not in DOCUMENT_SUFFIXES:
        raise ValueError(f"unsupported file type; upload {', '.join(DOCUMENT_SUFFIXES)}")
    return name


def free_destination(folder: Path, name: str, content: Path) -> Path | None:
    """Where to store ``content`` as ``name`` in ``folder`` without replacing another file.

    Returns None when a file with that name and the same bytes is already there.
    """
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 1000):
        candidate = folder / (name if n == 1 else f"{stem} ({n}){suffix}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        if candidate.is_file() and not candidate.is_symlink() and _same_bytes(candidate, content):
            return None
    raise ValueError("too many files with this name")


def save_uploads(
    uploads: Sequence[str | os.PathLike], docs_dir: str | os.PathLike, *, max_bytes: int = MAX_UPLOAD_BYTES
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Copy uploaded files into ``docs_dir``.

    Returns the files now in ``docs_dir`` (new, or already there with the same bytes) and
    ``(name, reason)`` for each upload refused.
    """
    folder = Path(docs_dir)
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    refused: list[tuple[str, str]] = []
    for upload in uploads:
        upload = Path(upload)
        try:
            name = safe_name(upload.name)
            size = upload.stat().st_size
            if size > max_bytes:
                raise ValueError(f"{size / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB limit")
            destination = free_destination(folder, name, upload)
            saved.append(_copy_into(folder, upload, destination) if destination else folder / name)
        except (ValueError, OSError) as err:
            refused.append((upload.name, str(err)))
    return saved, refused


def _copy_into(folder: Path, source: Path, destination: Path) -> Path:
    # Copy to a temporary file in the folder, then rename: a half-written upload is never
    # indexed, and a symlink planted at the destination is replaced rather than followed.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as data:
            shutil.copyfileobj(data, out)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return destination


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as left, open(b, "rb") as right:
        while True:
            block = left.read(1 << 20)
            if block != right.read(1 << 20):
                return False
            if not block:
                return True
