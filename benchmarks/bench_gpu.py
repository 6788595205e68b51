"""`qa index` end to end against raw `encode()` on the same GPU, and fp16 quality on SciFact.

Measures, in one run, on SciFact's 5,183 abstracts (one .txt file each):
  - raw sentence-transformers ``encode()`` of qa's passages and of qa's distinct sentences;
  - qa's own GPU encoder (``encode_pipelined``) on the same texts;
  - ``build_index`` end to end (read, split, embed, store), with its phases;
  - ``build_index(cluster="local", workers=N)`` end to end for each N of ``--cluster-workers``:
    reading and splitting in Ray tasks on the CPUs, N embedding workers sharing the GPU(s);
  - SciFact nDCG@10 through ``Retriever.search`` for fp16 and fp32 indexes on the GPU, and on the
    CPU in bf16 and fp32 when that CPU supports bf16.

    python benchmarks/bench_gpu.py --out results/          # on a GPU machine
    python benchmarks/bench_gpu.py --limit 40 --skip-cpu --cluster-workers ''   # smoke test anywhere

Results are printed and written to OUT/gpu_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, qa_texts, scifact_dir, timed_build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder or name [default: the bundled model]")
    parser.add_argument("--limit", type=int, default=None, help="only the first N abstracts")
    parser.add_argument("--out", default=None, help="folder for gpu_results.json")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--dump-embeddings", action="store_true",
                        help="only write the fp16 vectors of passages, sentences and queries to OUT (for bench_search)")
    parser.add_argument("--skip-cpu", action="store_true", help="skip the CPU bf16/fp32 quality check")
    parser.add_argument("--cpu-budget", type=float, default=240.0,
                        help="start no CPU index build after this many seconds of the run")
    parser.add_argument("--cluster-workers", default="1,4,8",
                        help="comma-separated embedding worker counts for `qa index --cluster local` ('' to skip)")
    args = parser.parse_args()
    started = time.perf_counter()

    import torch

    from qa import Retriever, build_index
    from qa.embed.model import Embedder, cpu_has_bf16, encode_pipelined

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    results: dict = {"machine": machine(), "torch": torch.__version__, "device": device}
    import sentence_transformers

    results["sentence_transformers"] = sentence_transformers.__version__
    print(results, flush=True)

    work = Path(tempfile.mkdtemp(prefix="qa-bench-gpu-"))
    corpus, queries, qrels = _scifact(args.limit)
    docs = work / "docs"
    docs.mkdir()
    for doc_id, (title, text) in corpus.items():
        (docs / f"{doc_id}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")

    passages, sentences = qa_texts(docs)
    words = sum(len(p.split()) for p in passages) / len(passages)
    results["texts"] = {"documents": len(corpus), "passages": len(passages), "sentences": len(sentences),
                        "mean_passage_words": round(words, 1)}
    print(results["texts"], flush=True)

    embedder = Embedder(args.model, device=device)
    model = embedder.model
    results["dtype"] = str(next(model.parameters()).dtype)
    if args.dump_embeddings:
        _dump(embedder, passages, sentences, list(queries.values()), Path(args.out))
        return

    def rate(label: str, count: int, function, repeat: int = 2) -> float:
        function()  # warm-up: kernels, allocator, tokenizer caches
        best = None
        for _ in range(repeat):
            if cuda:
                torch.cuda.synchronize()
            begin = time.perf_counter()
            function()
            if cuda:
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - begin
            best = elapsed if best is None else min(best, elapsed)
        per_second = count / best
        results.setdefault("rates", {})[label] = round(per_second, 1)
        print(f"{label:<44} {per_second:>10.0f} /s", flush=True)
        return per_second

    batch = 256 if cuda else 32
    raw_p = rate("raw encode(), passages", len(passages),
                 lambda: model.encode(passages, batch_size=batch, convert_to_numpy=True))
    raw_s = rate("raw encode(), sentences (passages/s)", len(passages),
                 lambda: model.encode(sentences, batch_size=2 * batch, convert_to_numpy=True))
    rate("qa encode_pipelined, passages", len(passages), lambda: encode_pipelined(model, passages, batch_size=batch))
    rate("qa encode_pipelined, sentences (passages/s)", len(passages), lambda: embedder.encode(sentences))
    if cuda:
        os.environ["TOKENIZERS_PARALLELISM"] = "true"
        rate("qa encode_pipelined, sentences, tok-parallel", len(passages), lambda: embedder.encode(sentences))
        os.environ["TOKENIZERS_PARALLELISM"] = "false"

    # qa index end to end, with the time spent in each phase.
    phases = _instrument()
    index_dir = work / "index-default"
    for attempt in range(2):
        phases.clear()
        begin = time.perf_counter()
        report = build_index([docs], index_dir, embedder=embedder, rebuild=True, progress=False)
        elapsed = time.perf_counter() - begin
    index_rate = report.passages / elapsed
    results["qa_index"] = {"passages": report.passages, "seconds": round(elapsed, 2),
                           "passages_per_s": round(index_rate, 1),
                           "phases_s": {k: round(v, 2) for k, v in phases.items()}}
    results["ratio_index_vs_raw_passages"] = round(index_rate / raw_p, 3)
    results["ratio_index_vs_raw_sentences"] = round(index_rate / raw_s, 3)
    print(f"{'qa index end to end (passages/s)':<44} {index_rate:>10.0f} /s  phases {results['qa_index']['phases_s']}")
    print(f"ratio qa index / raw encode: passages {index_rate / raw_p:.2f}, sentences {index_rate / raw_s:.2f}",
          flush=True)
    _save(results, args.out)
    _cluster_rates(docs, args.cluster_workers, results, args.out)

    if not args.skip_quality:
        quality = results["ndcg@10"] = {}
        quality[f"{device} {results['dtype']}"] = _ndcg(Retriever.load(index_dir, embedder=embedder), queries, qrels)
        _save(results, args.out)
        if cuda:
            fp32 = Embedder(args.model, device="cuda", precision="float32")
            build_index([docs], work / "index-fp32", embedder=fp32, rebuild=True, progress=False)
            quality["cuda torch.float32"] = _ndcg(Retriever.load(work / "index-fp32", embedder=fp32), queries, qrels)
        print("nDCG@10", quality, flush=True)
        _save(results, args.out)
        if not args.skip_cpu and cpu_has_bf16():
            for precision in ("bfloat16", "float32"):
                if time.perf_counter() - started > args.cpu_budget:
                    break
                cpu = Embedder(args.model, device="cpu", precision=precision)
                begin = time.perf_counter()
                build_index([docs], work / f"index-cpu-{precision}", embedder=cpu, rebuild=True, progress=False)
                seconds = time.perf_counter() - begin
                retriever = Retriever.load(work / f"index-cpu-{precision}", embedder=cpu)
                quality[f"cpu {precision}"] = _ndcg(retriever, queries, qrels)
                results.setdefault("cpu_index_s", {})[precision] = round(seconds, 1)
                print("nDCG@10", quality, results["cpu_index_s"], flush=True)
                _save(results, args.out)
        elif not args.skip_cpu:
            results["cpu_bf16"] = "not supported by this CPU"
    results["total_s"] = round(time.perf_counter() - started, 1)
    _save(results, args.out)
    print(json.dumps(results, indent=1))
    shutil.rmtree(work, ignore_errors=True)


def _cluster_rates(docs: Path, workers: str, results: dict, out: str | None) -> None:
    """`qa index --cluster local --workers N` end to end. "After start-up" divides all passages by
    the time after the first batch of vectors came back (Ray and the workers' model loading
    excluded; the first batch, ~2,048 of SciFact's ~50,000 sentences, counts as free)."""
    for count in filter(None, workers.split(",")):
        passages, seconds, first_vectors = timed_build(docs, cluster="local", workers=int(count))
        row = {"passages": passages, "seconds": round(seconds, 2), "passages_per_s": round(passages / seconds, 1),
               "first_vectors_s": round(first_vectors, 2),
               "after_start_up_passages_per_s": round(passages / (seconds - first_vectors), 1)}
        results.setdefault("qa_index_cluster_local", {})[count] = row
        print(f"qa index --cluster local --workers {count}: {row}", flush=True)
        _save(results, out)


def _dump(embedder, passages: list[str], sentences: list[str], queries: list[str], out: Path) -> None:
    """fp16 vectors as .npy files of at most ~13 MB (the device tool returns files up to 16 MiB)."""
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    for name, texts in (("passages", passages), ("sentences", sentences), ("queries", queries)):
        vectors = embedder.encode(texts).astype(np.float16)
        for part, start in enumerate(range(0, len(vectors), 17_000)):
            np.save(out / f"{name}-{part}.npy", vectors[start : start + 17_000])
        print(name, vectors.shape, flush=True)


def _instrument() -> dict[str, float]:
    """Wrap the indexer's stages to add up the seconds spent in each."""
    from qa.embed.model import Embedder
    from qa.index import feed
    from qa.index.writer import StoreWriter

    phases: dict[str, float] = {}

    def timed(owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            begin = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - begin

        setattr(owner, name, wrapper)

    timed(Embedder, "encode", "encode (main thread)")
    timed(StoreWriter, "add_document", "store add (main thread)")
    timed(StoreWriter, "commit", "commit: write files, BM25, FAISS")
    timed(feed, "load_document", "read (read-ahead thread)")  # qa.read.parse_process's, as the feed imports it
    timed(feed, "split_passages", "split (read-ahead thread)")
    return phases


def _scifact(limit: int | None):
    """SciFact's corpus, judged queries and qrels, cut to the first ``limit`` abstracts."""
    from qa.evaluation.datasets import load_beir

    corpus, queries, qrels = load_beir(scifact_dir())
    if limit:
        corpus = dict(list(corpus.items())[:limit])
        qrels = {q: kept for q, docs in qrels.items() if (kept := {d: g for d, g in docs.items() if d in corpus})}
        queries = {q: text for q, text in queries.items() if q in qrels}
    return corpus, queries, qrels


def _ndcg(retriever, queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> float:
    """Mean nDCG@10 by pytrec_eval (``qa.evaluation.metrics.beir_metrics``), documents ranked by their best passage."""
    from qa.evaluation.metrics import beir_metrics

    run = {q: {source.removesuffix(".txt"): score for source, score in retriever.rank_documents(text, 10).items()}
           for q, text in queries.items()}
    per_query = beir_metrics(qrels, run)
    return round(sum(m["ndcg@10"] for m in per_query.values()) / max(len(per_query), 1), 4)


def _save(results: dict, out: str | None) -> None:
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        Path(out, "gpu_results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
