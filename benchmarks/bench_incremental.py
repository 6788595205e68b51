"""Time a first and a no-change second `qa index` over SciFact as 5,183 text files, and measure the
peak memory of indexing a folder that holds a 200 MB text file.

    python benchmarks/bench_incremental.py [../shared/eval/scifact/corpus.jsonl] [--skip-corpus]

Every run is a real `qa index` subprocess; peak memory is the largest resident set of it and its
children (resource.getrusage), so it includes the file reader process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qa.config import MAX_TEXT_BYTES

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "scifact" / "corpus.jsonl"
MEASURE = ("import resource, subprocess, sys\n"
           "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
           "sys.exit(code)\n")


def write_text_files(corpus: Path, folder: Path) -> int:
    """One .txt file per abstract: the title, a blank line, the text."""
    count = 0
    with open(corpus, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            (folder / f"{row['_id']}.txt").write_text(f"{row['title']}\n\n{row['text']}\n", encoding="utf-8")
            count += 1
    return count


def qa_index(docs: Path, index: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of `qa index docs --index-dir index`."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, sys.executable, "-m", "qa", "index", str(docs), "--index-dir", str(index),
         "--no-progress"], capture_output=True, text=True, check=True,
    )
    return time.perf_counter() - started, int(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--skip-corpus", action="store_true", help="Only measure the 200 MB file.")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        tmp = Path(tmp)
        if not args.skip_corpus:
            docs = tmp / "scifact"
            docs.mkdir()
            count = write_text_files(args.corpus, docs)
            first, first_mb = qa_index(docs, tmp / "idx")
            second, second_mb = qa_index(docs, tmp / "idx")
            print(f"scifact, {count} text files: first run {first:.1f} s (peak {first_mb} MB), "
                  f"no-change second run {second:.2f} s (peak {second_mb} MB) = {100 * second / first:.1f}% of the first")

        big = tmp / "big"
        big.mkdir()
        (big / "note.txt").write_text("A small note that is indexed beside the big file.")
        baseline, baseline_mb = qa_index(big, tmp / "idx-small")
        line = b"This line of a very large text file repeats until the file holds two hundred megabytes.\n"
        with open(big / "huge.txt", "wb") as handle:
            handle.writelines(line for _ in range(200 * 10**6 // len(line)))
        seconds, peak_mb = qa_index(big, tmp / "idx-big")
        print(f"folder with one small note: {baseline:.1f} s, peak {baseline_mb} MB")
        print(f"same folder plus a 200 MB text file: {seconds:.1f} s, peak {peak_mb} MB "
              f"(the file is skipped unread: over the {MAX_TEXT_BYTES // 2**20} MiB limit for text files)")


if __name__ == "__main__":
    main()
