"""Numbered near-duplicates: N field reports alike but for their number and their facts, each asked for its own.

Report n reads "Field report n / The survey team filed field report n from <place> on <day>. The
code word of field report n is <WORD>-<m>. <weather>". Each report's code word is asked for by its
number ("What is the code word of field report 15?"); a quote is right when it holds that
report's code word, wrong when it holds another's, and the question refused otherwise.

    python benchmarks/bench_duplicates.py [--reports 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from qa import Embedder, Retriever, build_index

WORDS = ("SHREW", "OTTER", "HERON", "VOLE", "MARTEN", "PLOVER", "STOAT", "WREN", "BADGER", "CURLEW", "LINNET")
PLACES = ("the northern ridge", "the salt marsh", "the east weir", "the pine wood", "the old quarry")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
WEATHER = ("The weather was fair.", "Rain fell all afternoon.", "A cold wind blew from the sea.")


def code_word(n: int) -> str:
    return f"{WORDS[n % len(WORDS)]}-{(n * 7) % 90 + 10}"


def write_reports(folder: Path, count: int) -> None:
    for n in range(1, count + 1):
        (folder / f"report-{n:03d}.txt").write_text(
            f"Field report {n}\n\nThe survey team filed field report {n} from {PLACES[n % 5]} on {DAYS[n % 5]}. "
            f"The code word of field report {n} is {code_word(n)}. {WEATHER[n % 3]}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=60)
    args = parser.parse_args()
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as work:
        docs, index = Path(work) / "docs", Path(work) / "index"
        docs.mkdir()
        write_reports(docs, args.reports)
        build_index([docs], index, progress=False, embedder=embedder)
        retriever = Retriever.load(index, embedder=embedder)
        right = wrong = refused = 0
        started = time.perf_counter()
        for n in range(1, args.reports + 1):
            answer = retriever.ask(f"What is the code word of field report {n}?")
            if not answer.answered:
                refused += 1
            elif code_word(n) in answer.quotes[0].text:
                right += 1
            else:
                wrong += 1
        seconds = time.perf_counter() - started
    print(f"{args.reports} reports: {right} right, {wrong} wrong, {refused} refused ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
