"""`Retriever.ask` and `Retriever.search` latency, warm, on an index of ~100k passages.

The index holds SciFact's 5,183 abstracts copied N times (default 9: ~103k passages, ~450k
sentences) under new ids. Vectors are the real SciFact sentence embeddings written by
``bench_gpu.py --dump-embeddings`` (.bench/embeddings/), each copy with a small random variation,
stored through qa's own StoreWriter, so the index type is chosen as `qa index` would. Questions
are the 300 SciFact claims, embedded by the real model on this machine at question time, by the
default runtime (``--runtime`` overrides), which the index records as its own.

    python benchmarks/bench_latency.py [--copies 9] [--keep DIR] [--runtime onnx-int8]
    python benchmarks/bench_latency.py --embed     # without a GPU: write .bench/embeddings here

``--keep DIR`` builds the index in DIR once and reuses it on later runs. ``--embed`` embeds
SciFact's sentences on this machine with the runtime (minutes on a CPU) instead of ``bench_gpu.py``.
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
from common import WORK, machine, percentiles, scifact_corpus, scifact_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="build the index here once and reuse it on later runs")
    parser.add_argument("--runtime", default=None, choices=("auto", "torch", "onnx", "onnx-int8"))
    parser.add_argument("--embed", action="store_true", help="embed SciFact's sentences here into .bench/embeddings")
    parser.add_argument("--keep-copy-groups", action="store_true",
                        help="leave each abstract's copies grouped as copies of one story (by default the copies "
                             "stand for distinct documents, as in a corpus without duplicates)")
    args = parser.parse_args()
    from qa.embed.model import Embedder

    embedder = Embedder(runtime=args.runtime)
    print(machine(), f"runtime {embedder.runtime}")
    if args.embed:
        embed(embedder)
    elif args.keep:
        if not (args.keep / "manifest.json").is_file():
            build(args.keep, args.copies, embedder.runtime)
        measure(args.keep, embedder, args.keep_copy_groups)
    else:
        with tempfile.TemporaryDirectory() as folder:
            build(Path(folder), args.copies, embedder.runtime)
            measure(Path(folder), embedder, args.keep_copy_groups)


def scifact_documents() -> list[tuple]:
    """(document, passages, sentences) of each SciFact abstract, in bench_gpu's file order."""
    from qa.read.passages import distinct_sentences, split_passages
    from qa.results import Document

    rows = sorted(scifact_corpus(), key=lambda r: f"{r['_id']}.txt")
    split = []
    for row in rows:
        text = f"{row['title']}\n\n{row['text']}\n"
        document = Document(f"{row['_id']}.txt", row["title"], text, f"{row['_id']}.txt", [], {})
        passages = split_passages(document)
        split.append((document, passages, distinct_sentences(passages)))
    return split


def embed(embedder) -> None:
    """SciFact's sentence vectors as bench_gpu.py --dump-embeddings writes them, embedded here."""
    texts = [document.text[s.start : s.end] for document, _, sentences in scifact_documents() for s in sentences]
    begin = time.perf_counter()
    vectors = embedder.encode(texts, progress=True)
    (WORK / "embeddings").mkdir(parents=True, exist_ok=True)
    np.save(WORK / "embeddings" / "sentences-0.npy", vectors)
    print(f"{len(texts)} sentences embedded in {time.perf_counter() - begin:.0f} s")


def build(folder: Path, copies: int, runtime: str) -> None:
    """Store ``copies`` varied copies of SciFact's real sentence embeddings as one index in ``folder``."""
    from qa.config import DEFAULT_MODEL
    from qa.index.folder import write_lock
    from qa.index.writer import StoreWriter

    sentence_vectors = load("sentences")
    split = scifact_documents()
    assert sum(len(s) for *_, s in split) == len(sentence_vectors), "vectors don't match this corpus"
    begin = time.perf_counter()
    with write_lock(folder):
        writer = StoreWriter(folder, model=DEFAULT_MODEL, dimension=sentence_vectors.shape[1], base=None,
                             runtime=runtime)
        add_copies(writer, split, sentence_vectors, copies)
        writer.commit(skipped={})
    print(f"built in {time.perf_counter() - begin:.0f} s")


def add_copies(writer, split: list[tuple], sentence_vectors: np.ndarray, copies: int) -> None:
    """Add ``copies`` of the split corpus, each but the first with its vectors varied a little."""
    from qa.index.manifest import DocumentRecord

    rng = np.random.default_rng(0)
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


def measure(folder: Path, embedder, keep_copy_groups: bool) -> None:
    """Warm latency of the question embedding, the vector searches, ``search`` and ``ask``."""
    from qa import Retriever
    from qa.index.manifest import Manifest

    manifest = Manifest.load(folder)
    grouped = sum(record.copy_group is not None for record in manifest.documents.values())
    if grouped and not keep_copy_groups:
        # The copies share their text, so qa sees each abstract as one story in 9 files and reads
        # them all to quote it once; a corpus of 100k different passages does none of that.
        documents = {source: dataclasses.replace(record, copy_group=None) for source, record in manifest.documents.items()}
        manifest = dataclasses.replace(manifest, documents=documents)
        manifest.save(folder)
        grouped = 0
    print(f"documents in copy groups: {grouped} of {len(manifest.documents)}")
    print(f"index: {manifest.passages} passages, {manifest.sentences} sentences, "
          f"{json.dumps(manifest.vector_indexes)}")
    retriever = Retriever.load(folder, embedder=embedder)
    queries = scifact_dir() / "queries.jsonl"
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
