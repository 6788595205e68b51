"""The index folder on disk: one writer at a time, private to its owner, and only qa's own files.

A build first records the files it will write in the folder's journal (``.qa-pending``); what the
journal lists and the manifest does not name is a leftover, deleted after the swap or by the next
run. Nothing else is ever deleted: a folder holding files qa did not write is refused. The folder
is ``0700`` and its files ``0600``: they hold the documents' full text.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from qa.errors import IndexLocked, IndexNotFound, IndexUnwritable, InvalidInput, QAError
from qa.index.manifest import MANIFEST, MANIFEST_TMP, Manifest, shown, write_json_atomically

LOCK = ".lock"
JOURNAL = ".qa-pending"
_JOURNAL_TMP = f"{JOURNAL}.tmp"
_DATA_FILE = re.compile(r"(?:store|passages|sentences|lexical)-\d{8}T\d{6}-[0-9a-f]{6}\.(?:sqlite|faiss|npz)")
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")
_OWN_NAMES = {MANIFEST, MANIFEST_TMP, LOCK, JOURNAL, _JOURNAL_TMP}


def is_own_file(name: str) -> bool:
    """Whether ``name`` is one that qa writes into an index folder."""
    data_name = next((name[: -len(s)] for s in _SQLITE_SIDE_FILES if name.endswith(s)), name)
    return name in _OWN_NAMES or bool(_DATA_FILE.fullmatch(data_name))


def check_folder(index_dir: str | os.PathLike, documents: Sequence[str | os.PathLike] = ()) -> None:
    """InvalidInput unless ``index_dir`` can be an index folder: absent, or a folder of qa's own
    files only (hidden files such as ``.gitignore`` are left alone), and not holding ``documents``."""
    folder = Path(index_dir)
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"The index folder {shown(folder)} is a file. Choose a folder for --index-dir.")
    resolved = folder.resolve()
    for path in documents:
        given = Path(path).resolve()
        if given == resolved or resolved in given.parents:
            raise InvalidInput(f"The documents {path} are inside the index folder {shown(folder)}. "
                               "Keep documents and the index in separate folders.")
    if not folder.is_dir():
        return
    foreign = sorted(entry.name for entry in folder.iterdir()
                     if not entry.name.startswith(".") and not is_own_file(entry.name))
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise InvalidInput(
            f"{shown(folder)} holds files that are not part of a qa index ({foreign[0]}{more}), so it can't be "
            "an index folder: qa would share it with them. Choose an empty or new folder for the index."
        )


def make_private_folder(index_dir: str | os.PathLike) -> list[Path]:
    """Create the index folder (``0700``) or make an existing one private; returns the folders
    created, the index folder last (none if it existed)."""
    folder = Path(index_dir)
    created = [path for path in (*reversed(folder.parents), folder) if not path.exists()]
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    return created


def make_private(path: Path) -> None:
    """Readable and writable by its owner only."""
    os.chmod(path, 0o600)


_WRITE_HINTS = {
    **dict.fromkeys((errno.ENOSPC, errno.EDQUOT, errno.EFBIG), "Free some space there, or choose another --index-dir"),
    **dict.fromkeys((errno.EROFS, errno.EACCES, errno.EPERM), "Choose a folder you can write for --index-dir"),
}


def unwritable(index_dir: str | os.PathLike, err: OSError | sqlite3.Error) -> IndexUnwritable:
    """The error for a write into the index folder that failed: the cause, what to do, and that nothing changed."""
    if isinstance(err, OSError):
        cause = err.strerror or str(err)
        if err.filename:
            cause += f": {Path(err.filename).name}"
        hint = _WRITE_HINTS.get(err.errno, "Move what is in the way, or choose another --index-dir")
    else:  # SQLite says "database or disk is full"
        cause, hint = str(err), _WRITE_HINTS[errno.ENOSPC]
    return IndexUnwritable(f"Can't write the index at {shown(index_dir)} ({cause}). {hint}; "
                           "the index was left as it was.")


def _inside(folder: Path, err: OSError | sqlite3.Error) -> bool:
    """Whether a failure is the index folder's (not a document's, which is skipped with its reason)."""
    name = getattr(err, "filename", None)
    return name is None or Path(folder, name).resolve().parent in (folder.resolve(), *folder.resolve().parents)


@contextlib.contextmanager
def write_lock(index_dir: str | os.PathLike) -> Iterator[None]:
    """Hold the index folder's write lock; raises IndexLocked if another process holds it, and
    IndexUnwritable if the folder can't be written (a full disk, a read-only folder).

    The folders this call created (the index folder and any missing parent) are removed again if
    the block fails before a manifest was written: a failed first run leaves nothing behind.
    """
    folder = Path(index_dir)
    try:
        with _locked(folder):
            yield
    except (OSError, sqlite3.Error) as err:
        if not _inside(folder, err):
            raise
        raise unwritable(folder, err) from err


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    created = make_private_folder(folder)
    lock = folder / LOCK
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "unknown"
            raise IndexLocked(
                f"Another `qa index` (pid {holder}) is writing {shown(folder)}. Wait for it to finish, then try again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        except BaseException:
            if created and not (folder / MANIFEST).exists():
                lock.unlink(missing_ok=True)
                with contextlib.suppress(OSError):  # only empty folders go; a folder in use stays
                    for path in reversed(created):
                        path.rmdir()
            raise
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def record_pending(index_dir: str | os.PathLike, names: Iterable[str], current: Iterable[str] | None = None) -> None:
    """Add ``names``, and the files the current manifest names (``current``, when the caller has
    it loaded), to the journal of qa's files."""
    folder = Path(index_dir)
    known = set(current) if current is not None else current_files(folder) or set()
    _write_journal(folder, set(_journal(folder)) | set(names) | known)


def current_files(index_dir: str | os.PathLike) -> set[str] | None:
    """The data files the folder's manifest names: empty without a manifest, None if it is unreadable."""
    try:
        return set(Manifest.load(index_dir).files.values())
    except IndexNotFound:
        return set()
    except QAError:
        return None


def remove_leftovers(index_dir: str | os.PathLike, keep: set[str] | None = None) -> None:
    """Delete the journal's files that the current manifest does not name (nothing if it is
    unreadable); ``keep`` is what it names, when the caller has just written it.

    A reader that still has one open keeps its copy until it closes it.
    """
    folder = Path(index_dir)
    keep = current_files(folder) if keep is None else keep
    if keep is None:
        return
    recorded = _journal(folder)
    for name in recorded:
        if name not in keep and is_own_file(name):
            for candidate in (name, *(name + suffix for suffix in _SQLITE_SIDE_FILES)):
                (folder / candidate).unlink(missing_ok=True)
    for name in (MANIFEST_TMP, _JOURNAL_TMP, JOURNAL):
        (folder / name).unlink(missing_ok=True)


def _write_journal(folder: Path, names: set[str]) -> None:
    write_json_atomically(folder / JOURNAL, folder / _JOURNAL_TMP, sorted(names))


def _journal(folder: Path) -> list[str]:
    try:
        names = json.loads((folder / JOURNAL).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    return [name for name in names if isinstance(name, str)] if isinstance(names, list) else []
