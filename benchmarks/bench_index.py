"""`qa index` end to end against raw `encode()` of the same texts with the same model settings.

On N SciFact abstracts (one .txt file each), in one run: the embedder's ``encode()`` (its
runtime's, default or ``--runtime``) of qa's passages and of qa's distinct sentences (what qa
really embeds), then ``build_index`` (read, split, embed, store). Prints rates in passages/s and
the two ratios.

    python benchmarks/bench_index.py [--docs 150] [--runtime torch]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, machine, qa_texts, write_scifact_docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=150)
    parser.add_argument("--runtime", default=None, choices=("auto", "torch", "onnx", "onnx-int8"))
    args = parser.parse_args()
    from qa import build_index
    from qa.embed.model import Embedder

    docs = write_scifact_docs(WORK / f"docs-scifact-{args.docs}", args.docs)
    passages, sentences = qa_texts(docs)
    embedder = Embedder(runtime=args.runtime)
    print(machine(), f"runtime {embedder.runtime}; {len(passages)} passages, {len(sentences)} sentences")
    embedder.encode(sentences[:64])  # warm-up
    begin = time.perf_counter()
    embedder.encode(passages, batch_size=64)
    raw_passages = len(passages) / (time.perf_counter() - begin)
    begin = time.perf_counter()
    embedder.encode(sentences, batch_size=64)
    raw_sentences = len(passages) / (time.perf_counter() - begin)
    with tempfile.TemporaryDirectory() as folder:
        begin = time.perf_counter()
        report = build_index([docs], folder, embedder=embedder, progress=False)
        indexed = report.passages / (time.perf_counter() - begin)
    print(f"raw encode() of the passages      {raw_passages:8.1f} passages/s")
    print(f"raw encode() of their sentences   {raw_sentences:8.1f} passages/s")
    print(f"qa index end to end               {indexed:8.1f} passages/s")
    print(f"ratio vs passages {indexed / raw_passages:.2f}, vs sentences {indexed / raw_sentences:.2f}")


if __name__ == "__main__":
    main()
