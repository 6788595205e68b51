"""Checksums of an index's data files: recorded by each build, checked whenever an index is opened.

The check runs in a thread started as a store finishes opening, so opening stays about as fast as
before (checking first made it +60% on a 31 MB index; in a thread, +8%: benchmarks/bench_open.py);
the first search waits for its verdict (a cold `qa ask` loads the model meanwhile). CRC-32 is the fastest
checksum in the standard library (2.1 GB/s here, SHA-256 1.3) and finds any accidental damage;
it is no defence against someone who can rewrite the manifest as well.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Mapping
from pathlib import Path

_BLOCK = 1 << 20


def checksum(path: str | os.PathLike) -> str:
    """The checksum of a file as the manifest records it: ``crc32:`` and 8 hex digits."""
    with open(path, "rb") as handle:
        return _crc32(handle.fileno())


def _crc32(fd: int) -> str:
    value = 0
    offset = 0
    while block := os.pread(fd, _BLOCK, offset):
        value = zlib.crc32(block, value)
        offset += len(block)
    return f"crc32:{value:08x}"


class FileCheck:
    """Compares files with their recorded checksums in a thread; files without one are not checked.

    The files are opened at once, so a newer build that deletes them meanwhile can't fail the check.
    """

    def __init__(self, folder: Path, expected: Mapping[str, str]) -> None:
        self._fds = {name: os.open(folder / name, os.O_RDONLY) for name, value in expected.items()
                     if value.startswith("crc32:")}
        self._expected = dict(expected)
        self._problem: str | None = None
        self._done = threading.Event()
        threading.Thread(target=self._run, name="qa-checksums", daemon=True).start()

    def _run(self) -> None:
        try:
            for name, fd in self._fds.items():
                if self._problem is None and _crc32(fd) != self._expected[name]:
                    self._problem = f"{name} does not match its checksum"
        except OSError as err:
            self._problem = f"a data file can't be read ({err.strerror})"
        finally:
            for fd in self._fds.values():
                os.close(fd)
            self._done.set()

    def problem(self) -> str | None:
        """What is wrong with the files, or None; waits for the check to finish."""
        self._done.wait()
        return self._problem
