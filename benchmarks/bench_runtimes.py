"""Model runtimes side by side on the same sentences: throughput, question latency, agreement.

qa's distinct sentences of the first N SciFact abstracts (what `qa index` embeds) go through
each runtime in turn, R rounds interleaved so that a change in the machine's load hits all
alike; then each SciFact claim is embedded alone, on one thread (what `qa ask` does). Runtimes:

- torch: sentence-transformers on PyTorch in fp32 (and bf16 when the CPU has it);
- torch-int8: the same with ``torch.ao.quantization.quantize_dynamic`` on its Linear layers
  (measured for comparison; not a qa runtime);
- onnx, onnx-int8: qa's ONNX Runtime encoders (:mod:`qa.embed.onnx_encoder`).

Prints sentences/s (best and median round), the ratio to torch fp32, question p50/p95 in ms,
and each runtime's cosine to torch fp32 over the sentences and the claims (min and mean).

    python benchmarks/bench_runtimes.py [--docs 150] [--rounds 3] [--questions 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from common import WORK, machine, percentiles, qa_texts, scifact_dir, write_scifact_docs


def torch_encoders(precision: str, quantised: bool) -> tuple[Callable, Callable]:
    """(encode texts, encode one question on one thread) through sentence-transformers on torch."""
    import torch

    from qa.embed.model import Embedder

    embedder = Embedder(runtime="torch", precision=precision)
    if quantised:
        transformer = embedder.model[0]
        transformer.model = torch.ao.quantization.quantize_dynamic(transformer.model, {torch.nn.Linear},
                                                                   dtype=torch.qint8)

    def question(text: str) -> np.ndarray:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return embedder.encode([text])[0]
        finally:
            torch.set_num_threads(threads)

    return embedder.encode, question


def onnx_encoders(runtime: str) -> tuple[Callable, Callable]:
    from qa.embed.model import Embedder

    embedder = Embedder(runtime=runtime)
    return embedder.encode, embedder.encode_question


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    from qa.embed.model import cpu_has_bf16

    _, sentences = qa_texts(write_scifact_docs(WORK / f"docs-scifact-{args.docs}", args.docs))
    with open(scifact_dir() / "queries.jsonl", encoding="utf-8") as handle:
        claims = [json.loads(line)["text"] for line in handle][: args.questions]
    runtimes = {"torch fp32": torch_encoders("float32", False), "torch-int8": torch_encoders("float32", True),
                "onnx": onnx_encoders("onnx"), "onnx-int8": onnx_encoders("onnx-int8")}
    if cpu_has_bf16():
        runtimes["torch bf16"] = torch_encoders("bfloat16", False)
    print(machine(), f"{len(sentences)} sentences, {len(claims)} claims; load before {os.getloadavg()}")
    if "torch bf16" not in runtimes:
        print("this CPU has no bf16: torch bf16 not measured")

    fp32 = runtimes["torch fp32"][0]
    reference = {"sentences": fp32(sentences), "claims": fp32(claims)}
    seconds: dict[str, list[float]] = {name: [] for name in runtimes}
    agreement: dict[str, str] = {}
    for round_ in range(args.rounds):
        for name, (encode, _) in runtimes.items():
            begin = time.perf_counter()
            vectors = encode(sentences)
            seconds[name].append(time.perf_counter() - begin)
            if round_ == 0:
                cos = np.sum(vectors * reference["sentences"], axis=1)
                qcos = np.sum(encode(claims) * reference["claims"], axis=1)
                agreement[name] = (f"sentences min {cos.min():.4f} mean {cos.mean():.5f}, "
                                   f"claims min {qcos.min():.4f} mean {qcos.mean():.5f}")
    latency: dict[str, list[float]] = {name: [] for name in runtimes}
    for name, (_, question) in runtimes.items():
        for text in claims[:5]:
            question(text)  # warm-up
    for text in claims:  # interleaved, one claim through every runtime in turn
        for name, (_, question) in runtimes.items():
            begin = time.perf_counter()
            question(text)
            latency[name].append((time.perf_counter() - begin) * 1000)
    print(f"load after {os.getloadavg()}")
    base = len(sentences) / min(seconds["torch fp32"])
    print(f"{'runtime':<11} {'best/s':>8} {'median/s':>9} {'x fp32':>7} {'q p50 ms':>9} {'q p95 ms':>9}  cosine to torch fp32")
    for name in runtimes:
        best = len(sentences) / min(seconds[name])
        median = len(sentences) / statistics.median(seconds[name])
        p50, p95 = percentiles(latency[name])
        print(f"{name:<11} {best:8.1f} {median:9.1f} {best / base:7.2f} {p50:9.2f} {p95:9.2f}  {agreement[name]}")


if __name__ == "__main__":
    main()
