"""Uploaded files -> the documents folder, safely: no path escapes, no overwrites, size-capped.

The folder may hold the person's own files, so this module deletes only what it wrote: every
file it saves is recorded, with its SHA-256, in :data:`LEDGER`, and :func:`delete_upload`
removes a file only while it is still recorded there with the same bytes. The ledger is qa's
bookkeeping, so it lives in the index folder, not among the person's documents (where a git
repository would list it); a ledger an older qa left in a documents folder is moved there.
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
"""In the index folder, the files this page saved: ``{absolute path: sha256}`` (hidden: the index
folder's check leaves it alone). Older versions kept ``{name: sha256}`` in the documents folder."""


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
    uploads: Sequence[str | os.PathLike], docs_dir: str | os.PathLike, ledger_dir: str | os.PathLike, *,
    max_bytes: int = MAX_UPLOAD_BYTES, taken: frozenset[str] = frozenset(),
) -> tuple[list[SavedUpload], list[tuple[str, str]]]:
    """Copy uploaded files into ``docs_dir``, never over another file, recording each one written
    in the ledger in ``ledger_dir`` (the index folder).

    Returns the uploads now in ``docs_dir`` and ``(name, reason)`` for each upload refused.
    """
    folder = Path(docs_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _adopt_old_ledger(folder, Path(ledger_dir))
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
            path = _copy_into(folder, upload, destination, Path(ledger_dir))
            note = "" if path.name == name else f"saved as {path.name}: a different {name} is already there"
            saved.append(SavedUpload(name, path, written=True, note=note))
        except (ValueError, OSError) as err:
            refused.append((upload.name, str(err)))
    return saved, refused


def is_upload(ledger_dir: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Whether this page saved ``path`` and it still has the bytes it saved (so it may delete it)."""
    path = Path(path)
    _adopt_old_ledger(path.parent, Path(ledger_dir))
    recorded = _read_ledger(Path(ledger_dir)).get(_key(path))
    return bool(recorded) and path.is_file() and not path.is_symlink() and _sha256(path) == recorded


def delete_upload(ledger_dir: str | os.PathLike, path: str | os.PathLike) -> bool:
    """Delete ``path`` if this page saved it (see :func:`is_upload`); returns whether it did.

    Any other file is left alone.
    """
    if not is_upload(ledger_dir, path):
        return False
    Path(path).unlink()
    ledger = _read_ledger(Path(ledger_dir))
    del ledger[_key(Path(path))]
    _write_ledger(Path(ledger_dir), ledger)
    return True


def _key(path: Path) -> str:
    """A file's entry in the ledger: its absolute path, the folder's links resolved."""
    return str(path.parent.resolve() / path.name)


def _adopt_old_ledger(docs_dir: Path, ledger_dir: Path) -> None:
    """Move the entries of a ledger an older qa kept in ``docs_dir`` into the index folder's, and
    delete it (qa wrote it)."""
    old = docs_dir / LEDGER
    if not old.is_file() or old.is_symlink() or docs_dir.resolve() == ledger_dir.resolve():
        return
    entries = {_key(docs_dir / name): digest for name, digest in _read_ledger(docs_dir).items()}
    _write_ledger(ledger_dir, {**entries, **_read_ledger(ledger_dir)})
    old.unlink()


def _copy_into(folder: Path, source: Path, destination: Path, ledger_dir: Path) -> Path:
    # Copy to a temporary file in the folder, then rename: a half-written upload is never
    # indexed, and a symlink planted at the destination is replaced rather than followed.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as data:
            shutil.copyfileobj(data, out)
        ledger = _read_ledger(ledger_dir)
        ledger[_key(destination)] = _sha256(Path(temporary))
        os.replace(temporary, destination)
        _write_ledger(ledger_dir, ledger)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return destination


def _read_ledger(folder: Path) -> dict[str, str]:
    try:
        ledger = json.loads((folder / LEDGER).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return {k: v for k, v in ledger.items() if isinstance(v, str)} if isinstance(ledger, dict) else {}


def _write_ledger(folder: Path, ledger: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
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
