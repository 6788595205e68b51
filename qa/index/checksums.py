"""Checksums of an index's data files: recorded by each build, checked before an index answers.

A store opens its files at once and checks them in a thread started by its first question, while
the question is embedded (a cold `qa ask` loads the model meanwhile); the search waits for the
verdict. Opening does not wait for it: reading every file first made opening a 31 MB index 60%
slower, and a thread started at open still cost 10-80% of a small index's 1.3 ms open on a busy
2-core machine; as it is, opening took +4.5% on 31 MB and -2.8% (noise) on 0.4 MB, each timed
against opening without checksums in turn (benchmarks/bench_open.py times one checkout). CRC-32 is the fastest checksum in the standard library
(2.1 GB/s here, SHA-256 1.3) and finds any accidental damage; it is no defence against someone
who can rewrite the manifest as well.
"""

from __future__ import annotations

import os
import threading
import weakref
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
        weakref.finalize(self, _close, self._fds)  # a check never started still lets go of its files
        self._expected = dict(expected)
        self._problem: str | None = None
        self._started = threading.Lock()
        self._done = threading.Event()

    def start(self) -> None:
        """Start the check in a thread, unless it has started already."""
        if self._started.acquire(blocking=False):
            threading.Thread(target=self._run, name="qa-checksums", daemon=True).start()

    def _run(self) -> None:
        try:
            for name, fd in self._fds.items():
                if self._problem is None and _crc32(fd) != self._expected[name]:
                    self._problem = f"{name} does not match its checksum"
        except OSError as err:
            self._problem = f"a data file can't be read ({err.strerror})"
        finally:
            _close(self._fds)
            self._done.set()

    def problem(self) -> str | None:
        """What is wrong with the files, or None; starts the check if need be and waits for it."""
        self.start()
        self._done.wait()
        return self._problem


def _close(fds: dict[str, int]) -> None:
    for fd in fds.values():
        os.close(fd)
    fds.clear()
