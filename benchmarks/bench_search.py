"""Vector search at 1M passages: latency, recall@10 against exact search, size and load time.

The vectors are real all-MiniLM-L6-v2 embeddings of SciFact (11,498 passages and 49,929
sentences, written by ``bench_gpu.py --dump-embeddings`` into .bench/embeddings/), replicated
to 1M with small random variations (each copy keeps cosine ~0.93 to its original). Queries
are the 300 real SciFact query embeddings. Also prints exact-search time by size, which sets
qa.index.vectors.EXACT_MAX_VECTORS.

    python benchmarks/bench_search.py [--size 1000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, machine, percentiles


def load(name: str) -> np.ndarray:
    parts = sorted((WORK / "embeddings").glob(f"{name}-*.npy"), key=lambda p: int(p.stem.split("-")[1]))
    if not parts:
        raise SystemExit(f"No {name} vectors in .bench/embeddings: run bench_gpu.py --dump-embeddings first.")
    vectors = np.concatenate([np.load(p) for p in parts]).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def synthetic(real: np.ndarray, size: int, noise: float = 0.4) -> np.ndarray:
    """``size`` unit vectors: real ones, then perturbed copies of them."""
    rng = np.random.default_rng(0)
    out = np.empty((size, real.shape[1]), dtype=np.float32)
    out[: len(real)] = real[:size]
    for start in range(len(real), size, 100_000):
        end = min(size, start + 100_000)
        block = real[np.arange(start, end) % len(real)]
        block = block + rng.standard_normal(block.shape, dtype=np.float32) * (noise / np.sqrt(real.shape[1]))
        out[start:end] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def timings(index, queries: np.ndarray, k: int = 10) -> tuple[float, float, np.ndarray]:
    from qa.index import vectors

    found, samples = [], []
    for query in queries:
        begin = time.perf_counter()
        _, ids = vectors.search(index, query[None, :], k)
        samples.append((time.perf_counter() - begin) * 1e3)
        found.append(ids[0])
    p50, p95 = percentiles(samples)
    return p50, p95, np.array(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    import faiss

    from qa.index import vectors

    print(machine(), f"faiss {faiss.__version__}; searches use one thread (qa.index.vectors.search)")
    real = np.concatenate([load("passages"), load("sentences")])
    queries = load("queries")
    print(f"real vectors {len(real)}, queries {len(queries)}")

    print("\nexact search (IndexFlatIP in IndexIDMap2), one query, k=10, by size:")
    for size in (10_000, 50_000, 100_000, 200_000):
        index = vectors.new_flat(real.shape[1])
        data = synthetic(real, size)
        index.add_with_ids(data, np.arange(size, dtype=np.int64))
        p50, p95, _ = timings(index, queries)
        print(f"  {size:>9,} vectors: p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")

    data = synthetic(real, args.size)
    ids = np.arange(args.size, dtype=np.int64) * 7 + 3  # not positions: ids must map through
    exact = faiss.IndexFlatIP(data.shape[1])
    exact.add(data)
    p50_flat, p95_flat, truth = timings(exact, queries)
    truth = ids[truth]
    begin = time.perf_counter()
    index = vectors.fit(_flat_with(data, ids), "auto")
    build = time.perf_counter() - begin
    del exact
    print(f"\n{args.size:,} vectors: exact search p50 {p50_flat:.1f} ms, p95 {p95_flat:.1f} ms; "
          f"fp32 vectors {data.nbytes / 1e9:.2f} GB")
    print(f"auto index: {vectors.describe(index)}, built (train + add) in {build:.0f} s")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "index.faiss")
        vectors.write(index, path)
        size_gb = path.stat().st_size / 1e9
        del index
        begin = time.perf_counter()
        index = vectors.read(path)
        load_s = time.perf_counter() - begin
        base_nprobe = index.nprobe
        for nprobe in sorted({base_nprobe // 2, base_nprobe, base_nprobe * 2}):
            index.nprobe = max(1, nprobe)
            p50, p95, found = timings(index, queries)
            recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
            marker = "  <- default" if nprobe == base_nprobe else ""
            print(f"  nprobe {nprobe:>4}: p50 {p50:5.2f} ms  p95 {p95:5.2f} ms  recall@10 {recall:.3f}{marker}")
        print(f"file {size_gb:.2f} GB, loaded (qa.index.vectors.read) in {load_s * 1e3:.0f} ms")


def _flat_with(data: np.ndarray, ids: np.ndarray):
    from qa.index import vectors

    index = vectors.new_flat(data.shape[1])
    index.add_with_ids(data, ids)
    return index


if __name__ == "__main__":
    main()
