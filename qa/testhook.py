"""A test hook: make ``qa index`` stop at a named point so a test can kill it there.

With ``QA_PAUSE_AT=<point>`` in the environment, the indexer prints ``qa: paused at <point>``
to stderr when it reaches that point and waits for SIGUSR1 (then it goes on) or a kill. Without
the variable, :func:`pause_point` does nothing. The points, in the order a build reaches them:

- ``before-embedding``: the plan is made and the lock is held; nothing is written yet.
- ``embedding``: a batch of sentences has been embedded and not yet added.
- ``after-embedding``: all new vectors are in memory; no data file is written yet.
- ``swap``: the new data files and the new manifest's temporary file are on disk; the manifest
  is not yet replaced.
- ``after-swap``: the new manifest is in place; the previous build's files are not yet deleted.
"""

from __future__ import annotations

import os
import signal
import sys

ENV = "QA_PAUSE_AT"


def pause_point(name: str) -> None:
    """Wait here for SIGUSR1 if ``$QA_PAUSE_AT`` names this point."""
    if os.environ.get(ENV) != name:
        return
    # Block the signal before announcing, so one sent right after the announcement is not lost.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    print(f"qa: paused at {name}", file=sys.stderr, flush=True)
    signal.sigwait({signal.SIGUSR1})
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
