"""Ends what is left of a local Ray cluster once the `qa index` that started it is gone, even by kill -9.

Ray's own processes notice that their parent died by polling, and one that is busy (a worker
loading the model, an agent reporting to a GCS that is gone) lives on for seconds to minutes.
``qa.cluster`` starts the cluster in a new folder and this script with a pipe on its stdin; when
the pipe closes (qa exited, whichever way), every process whose command line names the folder is
killed and the folder removed. It imports nothing of qa, so it starts in a blink.

    python qa/index/cluster_watchdog.py FOLDER
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys


def end_cluster(folder: str) -> None:
    """Kill every process whose command line names ``folder`` (a local cluster's), then remove it."""
    listing = subprocess.run(["ps", "-A", "-o", "pid=,args="], capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        pid, _, command = line.strip().partition(" ")
        if folder in command and pid.isdigit() and int(pid) != os.getpid():
            with contextlib.suppress(OSError):  # gone meanwhile
                os.kill(int(pid), signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)

if __name__ == "__main__":
    sys.stdin.buffer.read()  # returns at end of file: the parent is gone
    end_cluster(sys.argv[1])
