"""`build_index` stopped at a checkpoint, for the crash tests: they kill it there, or let it go on.

    python tests/paused_index.py POINT DOCS INDEX

At ``POINT`` (one of ``qa.index.build.CHECKPOINTS``) it prints ``qa: paused at POINT`` to stderr and
waits for SIGUSR1 (then it goes on) or a kill; at the end it prints the report as JSON.
"""

import json
import signal
import sys
from dataclasses import asdict

from qa import build_index


def pause_at(wanted: str):
    def checkpoint(point: str) -> None:
        if point != wanted:
            return
        # Block the signal before announcing, so one sent right after the announcement is not lost.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        print(f"qa: paused at {point}", file=sys.stderr, flush=True)
        signal.sigwait({signal.SIGUSR1})
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})

    return checkpoint


if __name__ == "__main__":
    point, docs, index = sys.argv[1:]
    report = build_index([docs], index, progress=False, checkpoint=pause_at(point))
    print(json.dumps(asdict(report)))
