"""Start-up costs of the command line: `qa --help`, and `qa ask` cold on the bundled corpus.

Each command runs in a fresh process; the bundled docs/ are indexed once into a temporary
folder first. Prints the median and the fastest of several runs.

    python benchmarks/bench_cli.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine

QUESTION = "Which administration is sending cluster munitions to Ukraine?"


def run(command: list[str], env: dict) -> float:
    begin = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    qa = [sys.executable, "-m", "qa"]
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "QA_INDEX_DIR": folder}
        run([*qa, "index", "docs", "--no-progress"], env)
        for label, command in (("qa --help", [*qa, "--help"]), ("qa ask (cold)", [*qa, "ask", QUESTION])):
            samples = [run(command, env) for _ in range(args.runs)]
            print(f"{label:<16} median {statistics.median(samples):.2f} s  fastest {min(samples):.2f} s  "
                  f"({args.runs} runs)")


if __name__ == "__main__":
    main()
