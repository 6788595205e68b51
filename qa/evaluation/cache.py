"""The index `qa eval` builds for a dataset, kept per dataset, model and hold-out and reused."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from qa.embed.model import Embedder
from qa.errors import InvalidInput
from qa.evaluation.datasets import load_beir, load_squad
from qa.index.build import build_index

DEFAULT_WORK_DIR = ".cache/qa-eval"
"""Where `qa eval` keeps the index it builds for each dataset and model."""


def _cache_dir(work_dir: str | os.PathLike, dataset: Path, files: list[Path], embedder: Embedder,
               suffix: str = "") -> Path:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder.name)
    if embedder.runtime != "torch":  # torch indexes keep the names they had before runtimes
        name += f"-{embedder.runtime}"
    return Path(work_dir).resolve() / f"{dataset.stem}-{digest.hexdigest()[:12]}-{name}{suffix}"


def _document_file(corpus_id: str) -> str:
    # Ids become file names; anything unsafe in a name is spelled out so two ids never collide.
    return re.sub(r"[^A-Za-z0-9_.-]", lambda m: f"%{ord(m.group()):x}", corpus_id) + ".txt"


def prepare_beir_index(folder: str | os.PathLike, index_dir: str | os.PathLike | None = None,
                       progress: bool = True, *, embedder: Embedder, work_dir: str | os.PathLike = DEFAULT_WORK_DIR
                       ) -> tuple[Path, dict[str, str], float]:
    """Write each corpus entry as a text file and index them (cached); returns (index, source -> id, seconds)."""
    folder = Path(folder)
    corpus, _, _ = load_beir(folder)
    base = _cache_dir(work_dir, folder, [folder / "corpus.jsonl"], embedder)
    docs = base / "docs"
    index_dir = Path(index_dir) if index_dir else base / "index"
    docs.mkdir(parents=True, exist_ok=True)
    ids = {}
    for corpus_id, (title, text) in corpus.items():
        name = _document_file(corpus_id)
        ids[name] = corpus_id
        target = docs / name
        if not target.exists():
            target.write_text(f"{title}\n\n{text}" if title else text, encoding="utf-8")
    report = build_index([docs], index_dir, progress=progress, embedder=embedder)
    return index_dir, ids, report.seconds if report.added or report.updated or report.removed else 0.0


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", title).strip("_") or "article"


def prepare_squad_index(path: str | os.PathLike, index_dir: str | os.PathLike | None = None, holdout: int = 0,
                        progress: bool = True, *, embedder: Embedder, work_dir: str | os.PathLike = DEFAULT_WORK_DIR
                        ) -> tuple[Path, dict, float]:
    """Write the indexed articles as text files and index them (cached); returns (index, articles, seconds)."""
    articles = load_squad(path)
    if holdout >= len(articles):
        raise InvalidInput(f"Holding out {holdout} articles would leave none of the {len(articles)} in the index.")
    indexed = list(articles)[: len(articles) - holdout]
    base = _cache_dir(work_dir, Path(path), [Path(path)], embedder, f"-holdout{holdout}")
    docs = base / "docs"
    index_dir = Path(index_dir) if index_dir else base / "index"
    docs.mkdir(parents=True, exist_ok=True)
    for title in indexed:
        target = docs / f"{_slug(title)}.txt"
        if not target.exists():
            target.write_text(articles[title][0], encoding="utf-8")
    report = build_index([docs], index_dir, progress=progress, embedder=embedder)
    return index_dir, articles, report.seconds if report.added or report.updated or report.removed else 0.0
