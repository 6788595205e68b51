"""Helpers shared by the bench_*.py scripts: SciFact as text files, timing, machine description."""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCIFACT_CANDIDATES = (ROOT / ".bench" / "scifact", ROOT.parent / "shared" / "eval" / "scifact")
WORK = ROOT / ".bench"


def scifact_dir() -> Path:
    """The SciFact folder (BEIR format): the repo's .bench/scifact copy, else ../shared/eval/scifact."""
    for folder in SCIFACT_CANDIDATES:
        if (folder / "corpus.jsonl").is_file():
            return folder
    raise SystemExit("No SciFact corpus: copy ../shared/eval/scifact to .bench/scifact")


def scifact_corpus(limit: int | None = None) -> list[dict]:
    """SciFact abstracts as dicts with _id, title, text (the first ``limit``)."""
    rows = []
    with open(scifact_dir() / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


def write_scifact_docs(folder: Path, limit: int | None = None) -> Path:
    """Each abstract as ``<id>.txt`` (title line, blank line, text) in ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for row in scifact_corpus(limit):
        path = folder / f"{row['_id']}.txt"
        if not path.exists():
            path.write_text(f"{row['title']}\n\n{row['text']}\n", encoding="utf-8")
    return folder


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p95) of samples, in the samples' unit."""
    values = np.asarray(samples)
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def qa_texts(docs: Path) -> tuple[list[str], list[str]]:
    """The texts qa embeds for the .txt files in ``docs``: its passages, and (what it really
    encodes) their distinct sentences."""
    from qa.read.files import SourceFile, load_document
    from qa.read.passages import distinct_sentences, split_passages

    passages, sentences = [], []
    for path in sorted(docs.iterdir()):
        document = load_document(SourceFile(path, path.name, str(docs)))
        split = split_passages(document)
        passages += [document.text[p.start : p.end] for p in split]
        sentences += [document.text[s.start : s.end] for s in distinct_sentences(split)]
    return passages, sentences


def machine() -> str:
    """One line: CPU model, cores, load, and GPU if torch sees one."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{model}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    try:
        import torch

        from qa.embed.model import cpu_has_bf16

        if torch.cuda.is_available():
            text += f", GPU {torch.cuda.get_device_name(0)}"
        else:
            text += f", bf16 {'yes' if cpu_has_bf16() else 'no'}"
    except ImportError:
        pass
    return text


def timed_build(docs: Path, **options) -> tuple[int, float, float]:
    """Build an index of ``docs`` from scratch in a temporary folder with ``build_index(**options)``:
    (passages, seconds, seconds until the first batch of vectors came back)."""
    from qa import build_index

    first_batch: list[float] = []

    def checkpoint(point: str) -> None:
        if point == "embedding" and not first_batch:
            first_batch.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as folder:
        begin = time.perf_counter()
        report = build_index([docs], folder, progress=False, checkpoint=checkpoint, **options)
        seconds = time.perf_counter() - begin
    return report.passages, seconds, first_batch[0] - begin
