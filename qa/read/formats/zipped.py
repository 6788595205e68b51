"""Zip-packaged documents (Word, OpenDocument, EPUB): the archive opened only when it is safe to.

A document's parser reads members of the archive into memory, so an archive is refused before
any parser sees it when its members would unpack to too much (a zip bomb: each member's declared
size bounds what reading it can yield, as zipfile stops there and checks the CRC), when it has
too many members, or when a member's name reaches outside the archive (an absolute path or
"..": no real document has one, and a parser that resolves names must never be led by one).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import PurePosixPath

from qa.errors import UnsupportedDocument

ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
"""What reading a member of a damaged archive raises: a bad CRC, bad compressed data, a cut-off
member, an unknown compression method, an encrypted member."""
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
"""The most all members of a document's archive may unpack to."""
MAX_MEMBERS = 20_000
"""The most members a document's archive may have."""
MAX_RATIO = 200
"""The most a member over 1 MiB may shrink by in the archive (text compresses about 10 times; a
zip bomb thousands of times)."""


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The archive in ``data``; UnsupportedDocument naming ``kind`` when it is no zip file or unsafe."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as err:
        raise UnsupportedDocument(f"not a readable {kind} (not a zip archive)") from err
    if len(members) > MAX_MEMBERS:
        raise UnsupportedDocument(f"not a readable {kind} ({len(members)} parts in its archive; "
                                  f"the limit is {MAX_MEMBERS})")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES or any(
            member.file_size > 2**20 and member.file_size > MAX_RATIO * member.compress_size for member in members):
        raise UnsupportedDocument(f"not a readable {kind} (its archive would unpack to "
                                  f"{unpacked / 2**20:.3g} MiB: a zip bomb?)")
    for member in members:
        path = PurePosixPath(member.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts:
            raise UnsupportedDocument(f"not a readable {kind} (a part of its archive is named outside it)")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, kind: str) -> bytes | None:
    """The bytes of member ``name``, or None when the archive has no such member; UnsupportedDocument
    naming ``kind`` when the member is damaged."""
    try:
        return archive.read(name)
    except KeyError:
        return None
    except ZIP_ERRORS as err:
        raise UnsupportedDocument(f"not a readable {kind} (a damaged part: {type(err).__name__})") from err
