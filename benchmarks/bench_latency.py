"""`Retriever.ask` and `Retriever.search` latency, warm, on an index of ~100k passages.

The index holds SciFact's 5,183 abstracts copied N times (default 9: ~103k passages, ~450k
sentences) under new ids. Vectors are the real SciFact sentence embeddings written by
``bench_gpu.py --dump-embeddings`` (.bench/embeddings/), each copy with a small random variation,
stored through qa's own StoreWriter, so the index type is chosen as `qa index` would. Questions
are the 300 SciFact claims, embedded by the real model on this machine at question time.

    python benchmarks/bench_latency.py [--copies 9] [--keep DIR]

``--keep DIR`` builds the index in DIR once and reuses it on later runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import load
from common import machine, percentiles, scifact_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="build the index here once and reuse it on later runs")
    args = parser.parse_args()
    print(machine())
    if args.keep:
        if not (args.keep / "manifest.json").is_file():
            build(args.keep, args.copies)
        measure(args.keep)
    else:
        with tempfile.TemporaryDirectory() as folder:
            build(Path(folder), args.copies)
            measure(Path(folder))


def build(folder: Path, copies: int) -> None:
    """Store ``copies`` varied copies of SciFact's real sentence embeddings as one index in ``folder``."""
    from qa.chunk import distinct_sentences, split_passages
    from qa.config import DEFAULT_MODEL
    from qa.index_folder import write_lock
    from qa.manifest import DocumentRecord
    from qa.results import Document
    from qa.store import StoreWriter

    sentence_vectors = load("sentences")
    rows = sorted(scifact_corpus(), key=lambda r: f"{r['_id']}.txt")  # bench_gpu's file order
    split = []
    for row in rows:
        text = f"{row['title']}\n\n{row['text']}\n"
        document = Document(f"{row['_id']}.txt", row["title"], text, f"{row['_id']}.txt", [], {})
        passages = split_passages(document)
        split.append((document, passages, distinct_sentences(passages)))
    assert sum(len(s) for *_, s in split) == len(sentence_vectors), "vectors don't match this corpus"
    rng = np.random.default_rng(0)
    begin = time.perf_counter()
    with write_lock(folder):
        writer = StoreWriter(folder, model=DEFAULT_MODEL, dimension=sentence_vectors.shape[1], base=None)
        for copy in range(copies):
            offset = 0
            for document, passages, sentences in split:
                vectors = sentence_vectors[offset : offset + len(sentences)]
                offset += len(sentences)
                if copy:
                    vectors = vectors + rng.standard_normal(vectors.shape, dtype=np.float32) * (0.4 / 19.6)
                    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                source = f"copy{copy}/{document.source}"
                writer.add_document(dataclasses.replace(document, source=source),
                                    DocumentRecord(hash="", path=source, title=document.title),
                                    [dataclasses.replace(p, source=source) for p in passages], sentences, vectors)
        writer.commit(skipped={})
    print(f"built in {time.perf_counter() - begin:.0f} s")


def measure(folder: Path) -> None:
    """Warm latency of the question embedding, the vector searches, ``search`` and ``ask``."""
    from qa import Retriever
    from qa.embed import Embedder
    from qa.manifest import Manifest

    manifest = Manifest.load(folder)
    print(f"index: {manifest.passages} passages, {manifest.sentences} sentences, "
          f"{json.dumps(manifest.vector_indexes)}")
    embedder = Embedder()
    retriever = Retriever.load(folder, embedder=embedder)
    queries = Path(__file__).resolve().parent.parent / ".bench" / "scifact" / "queries.jsonl"
    questions = [json.loads(line)["text"] for line in queries.read_text().splitlines()]
    for question in questions[:10]:
        retriever.ask(question)  # warm-up
    store = retriever._store  # the vector searches alone, both indexes, as _rank does them
    query_vectors = {q: embedder.encode_question(q) for q in questions}

    def vector_search(question: str) -> None:
        store.search("passages", query_vectors[question], 50)
        store.search("sentences", query_vectors[question], 50)

    for label, call in (("embed question", embedder.encode_question),
                        ("vector search", vector_search), ("search", retriever.search),
                        ("ask", retriever.ask)):
        samples = []
        for question in questions:
            begin = time.perf_counter()
            call(question)
            samples.append((time.perf_counter() - begin) * 1e3)
        p50, p95 = percentiles(samples)
        print(f"{label:<16} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({len(samples)} questions)")


if __name__ == "__main__":
    main()
