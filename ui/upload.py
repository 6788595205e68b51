"""Uploaded files -> the documents folder, safely: no path escapes, no overwrites, size-capped.

The folder may hold the person's own files, so this module deletes only what it wrote: every
file it saves is recorded, with its SHA-256, in :data:`LEDGER` inside the folder, and
:func:`delete_upload` removes a file only while it is still recorded there with the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa import DOCUMENT_SUFFIXES

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
"""Largest file the page accepts (the server refuses bigger uploads before they reach disk)."""
LEDGER = ".qa-uploads.json"
"""The files this page saved in the documents folder: ``{name: sha256}`` (hidden, so not indexed)."""


@dataclass(frozen=True)
class SavedUpload:
    """An uploaded file now in the documents folder.

    ``written`` is True when this upload wrote it (False: the same bytes were already there
    under that name); ``note`` says when it was saved under another name than uploaded.
    """

    name: str
    path: Path
    written: bool
    note: str = ""


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


def free_destination(folder: Path, name: str, content: Path, taken: frozenset[str] = frozenset()) -> Path | None:
    """Where to store ``content`` as ``name`` in ``folder`` without replacing another file.

    Names in ``taken`` (documents indexed from elsewhere) are passed over like existing files.
    Returns None when a file with that name and the same bytes is already there.
    """
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 1000):
        candidate = folder / (name if n == 1 else f"{stem} ({n}){suffix}")
        if candidate.is_file() and not candidate.is_symlink() and _same_bytes(candidate, content):
            return None
        if not candidate.exists() and not candidate.is_symlink() and candidate.name not in taken:
            return candidate
    raise ValueError("too many files with this name")


def save_uploads(
    uploads: Sequence[str | os.PathLike], docs_dir: str | os.PathLike, *, max_bytes: int = MAX_UPLOAD_BYTES,
    taken: frozenset[str] = frozenset(),
) -> tuple[list[SavedUpload], list[tuple[str, str]]]:
    """Copy uploaded files into ``docs_dir``, never over another file, recording each one written.

    Returns the uploads now in ``docs_dir`` and ``(name, reason)`` for each upload refused.
    """
    folder = Path(docs_dir)
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[SavedUpload] = []
    refused: list[tuple[str, str]] = []
    for upload in uploads:
        upload = Path(upload)
        try:
            name = safe_name(upload.name)
            size = upload.stat().st_size
            if size > max_bytes:
                raise ValueError(f"{size / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB limit")
            destination = free_destination(folder, name, upload, taken)
            if destination is None:
                saved.append(SavedUpload(name, folder / name, written=False))
                continue
            path = _copy_into(folder, upload, destination)
            note = "" if path.name == name else f"saved as {path.name}: a different {name} is already there"
            saved.append(SavedUpload(name, path, written=True, note=note))
        except (ValueError, OSError) as err:
            refused.append((upload.name, str(err)))
    return saved, refused


def delete_upload(docs_dir: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Delete ``path`` if this page saved it in ``docs_dir`` and it still has the bytes it saved.

    Returns whether it was deleted; any other file is left alone.
    """
    folder, path = Path(docs_dir), Path(path)
    ledger = _read_ledger(folder)
    if path.parent.resolve() != folder.resolve() or path.name not in ledger:
        return False
    if not path.is_file() or path.is_symlink() or _sha256(path) != ledger[path.name]:
        return False
    path.unlink()
    del ledger[path.name]
    _write_ledger(folder, ledger)
    return True


def _copy_into(folder: Path, source: Path, destination: Path) -> Path:
    # Copy to a temporary file in the folder, then rename: a half-written upload is never
    # indexed, and a symlink planted at the destination is replaced rather than followed.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as data:
            shutil.copyfileobj(data, out)
        ledger = _read_ledger(folder)
        ledger[destination.name] = _sha256(Path(temporary))
        os.replace(temporary, destination)
        _write_ledger(folder, ledger)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return destination


def _read_ledger(folder: Path) -> dict[str, str]:
    try:
        ledger = json.loads((folder / LEDGER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in ledger.items() if isinstance(v, str)} if isinstance(ledger, dict) else {}


def _write_ledger(folder: Path, ledger: dict[str, str]) -> None:
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(ledger, out, indent=1, ensure_ascii=False)
        os.replace(temporary, folder / LEDGER)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _sha256(path: Path) -> str | None:
    """The file's SHA-256, read at once: uploads are small. None for a file bigger than any upload."""
    if path.stat().st_size > MAX_UPLOAD_BYTES:
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
