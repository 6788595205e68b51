"""Ablation: each retrieval and quoting idea measured on SciFact and xquad-dev with `qa eval`'s code.

Prints one row per configuration: SciFact nDCG@10 / Recall@100, xquad-dev passage hit@1 / @5,
quote hit@1, words in the first quote, and answered / refused with 12 articles held out.
Question vectors are cached on disk (``.cache/qa-eval/query-vectors.npz``), so re-runs only
re-score; the indexes are the ones `qa eval` caches.

    python benchmarks/ablation.py ../shared/eval [--only hybrid]
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from qa import answer, retriever
from qa.embed import DEFAULT_MODEL, Embedder
from qa.evaluate import DEFAULT_WORK_DIR, evaluate_beir, evaluate_squad

OLD_THRESHOLD = {(retriever, "NOT_FOUND_THRESHOLDS"): {DEFAULT_MODEL: 0.40}}
"""The not-found threshold before calibration on held-out articles (set by hand on all of xquad-dev)."""
OLD_QUOTES = {(answer, "NEIGHBOUR_MARGIN"): -1.0, (retriever, "QUOTE_PASSAGE_FIRST"): False, **OLD_THRESHOLD}
CONFIGS: dict[str, dict[tuple[object, str], object]] = {
    "dense only": {(retriever, "LEXICAL_WEIGHT"): 0.0, **OLD_QUOTES},
    "BM25 only": {(retriever, "DENSE_WEIGHT"): 0.0, **OLD_QUOTES},
    "hybrid, BM25 weight 0.5": {(retriever, "LEXICAL_WEIGHT"): 0.5, **OLD_QUOTES},
    "hybrid, BM25 weight 1": {(retriever, "LEXICAL_WEIGHT"): 1.0, **OLD_QUOTES},
    "hybrid, BM25 weight 2": {(retriever, "LEXICAL_WEIGHT"): 2.0, **OLD_QUOTES},
    "hybrid (0.7)": {**OLD_QUOTES},
    "+ neighbour quoting": {(retriever, "QUOTE_PASSAGE_FIRST"): False, **OLD_THRESHOLD},
    "+ quote's passage first": {**OLD_THRESHOLD},
    "+ calibrated threshold (final)": {},
}


class CachedEmbedder(Embedder):
    """The bundled model, with the vectors of texts it has seen kept on disk (benchmarks only)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.cache: dict[str, np.ndarray] = {}
        if path.is_file():
            with np.load(path, allow_pickle=False) as saved:
                self.cache = dict(zip(saved["texts"].tolist(), saved["vectors"]))
        self.dirty = False

    def encode(self, texts, **kwargs):
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, super().encode(missing, **kwargs)))
            self.dirty = True
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts]).astype(np.float32)

    def save(self) -> None:
        if self.dirty:
            texts = list(self.cache)
            np.savez(self.path, texts=np.array(texts, dtype=str), vectors=np.stack([self.cache[t] for t in texts]))


@contextmanager
def configured(settings: dict[tuple[object, str], float]):
    saved = {key: getattr(*key) for key in settings}
    try:
        for (module, name), value in settings.items():
            setattr(module, name, value)
        yield
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)


def measure(eval_dir: Path, embedder: Embedder) -> dict[str, float]:
    beir = evaluate_beir(eval_dir / "scifact", embedder=embedder, progress=False)
    squad_path = eval_dir / "xquad-dev" / "xquad.en.dev.json"
    squad = evaluate_squad(squad_path, embedder=embedder, progress=False)
    held = evaluate_squad(squad_path, holdout=12, embedder=embedder, progress=False)
    return {
        "nDCG@10": beir.ndcg_at_10, "R@100": beir.recall_at_100, "p@1": squad.passage_hit_at_1,
        "p@5": squad.passage_hit_at_5, "quote@1": squad.quote_hit_at_1, "words": squad.mean_quote_words,
        "answered": held.answered_rate, "refused": held.refused_rate or 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("--only", action="append", help="Run only this configuration (repeatable).")
    args = parser.parse_args()
    Path(DEFAULT_WORK_DIR).mkdir(parents=True, exist_ok=True)
    embedder = CachedEmbedder(Path(DEFAULT_WORK_DIR) / "query-vectors.npz")
    columns = ["nDCG@10", "R@100", "p@1", "p@5", "quote@1", "words", "answered", "refused"]
    print(f"{'configuration':32}" + "".join(f"{c:>9}" for c in columns) + "  seconds")
    for name, settings in CONFIGS.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        with configured(settings):
            row = measure(args.eval_dir, embedder)
        embedder.save()
        print(f"{name:32}" + "".join(f"{row[c]:9.3f}" for c in columns) + f"  {time.perf_counter() - started:7.0f}",
              flush=True)


if __name__ == "__main__":
    main()
