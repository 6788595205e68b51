"""Ablation: each retrieval and quoting idea measured on SciFact and xquad-dev with `qa eval`'s code.

Prints one row per configuration: SciFact nDCG@10 / Recall@100, xquad-dev passage hit@1 / @5,
quote hit@1, words in the first quote, and answered / refused with 12 articles held out.
The indexes are the ones `qa eval` caches, so a run only embeds the questions and re-scores.
Every row uses today's passages, which follow paragraphs (``qa.chunk``); the fixed windows they
replaced can't be switched back on, so the README gives their numbers from the commit before.

    python benchmarks/ablation.py ../shared/eval [--only hybrid]
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from pathlib import Path

from qa import answer, retriever
from qa.config import DEFAULT_MODEL
from qa.embed import Embedder
from qa.evaluate import DEFAULT_WORK_DIR, evaluate_beir, evaluate_squad

MARGIN_BEFORE = {(answer, "NEIGHBOUR_MARGIN"): 0.12}
"""The neighbour margin before it was widened."""
NO_NUMBERS = {(answer, "WEIGHT_MISSING_NUMBERS"): 0.0}
"""The confidence without the question's numbers."""
NO_PHRASES = {(answer, "WEIGHT_PHRASES"): 0.0, **NO_NUMBERS}
"""The confidence without the question's phrases (or numbers)."""
LATER = {(answer, "QUOTE_ANTECEDENT"): False, (answer, "WEIGHT_BEST_SIMILARITY"): 0.0, **MARGIN_BEFORE, **NO_PHRASES}
"""The ideas added after the threshold was first calibrated, switched off."""
QUOTE_SCORE_THRESHOLD = {(retriever, "NOT_FOUND_THRESHOLDS"): {DEFAULT_MODEL: 0.37}}
"""The threshold calibrated on held-out articles for the best quote's score alone."""
OLD_THRESHOLD = {(retriever, "NOT_FOUND_THRESHOLDS"): {DEFAULT_MODEL: 0.40}, **LATER}
"""The not-found threshold before calibration on held-out articles (set by hand on all of xquad-dev)."""
DENSE_CONFIDENCE = {(retriever, "NOT_FOUND_THRESHOLDS"): {DEFAULT_MODEL: 0.405}, **NO_PHRASES}
"""The confidence without phrases, with its threshold calibrated on today's passages."""
OLD_QUOTES = {**OLD_THRESHOLD, (answer, "NEIGHBOUR_MARGIN"): -1.0, (retriever, "QUOTE_PASSAGE_FIRST"): False}
CONFIGS: dict[str, dict[tuple[object, str], object]] = {
    "dense only": {(retriever, "LEXICAL_WEIGHT"): 0.0, **OLD_QUOTES},
    "BM25 only": {(retriever, "DENSE_WEIGHT"): 0.0, **OLD_QUOTES},
    "hybrid, BM25 weight 0.5": {(retriever, "LEXICAL_WEIGHT"): 0.5, **OLD_QUOTES},
    "hybrid, BM25 weight 1": {(retriever, "LEXICAL_WEIGHT"): 1.0, **OLD_QUOTES},
    "hybrid, BM25 weight 2": {(retriever, "LEXICAL_WEIGHT"): 2.0, **OLD_QUOTES},
    "hybrid (0.7)": {**OLD_QUOTES},
    "+ neighbour quoting": {(retriever, "QUOTE_PASSAGE_FIRST"): False, **OLD_THRESHOLD},
    "+ quote's passage first": {**OLD_THRESHOLD},
    "+ calibrated threshold": {**QUOTE_SCORE_THRESHOLD, **LATER},
    "+ pronoun sentence quoted with the one before": {**QUOTE_SCORE_THRESHOLD, (answer, "WEIGHT_BEST_SIMILARITY"): 0.0,
                                                      **MARGIN_BEFORE, **NO_PHRASES},
    "+ confidence takes in the best cosine": {**DENSE_CONFIDENCE, **MARGIN_BEFORE},
    "+ neighbour margin 0.12 -> 0.15": {**DENSE_CONFIDENCE},
    "+ phrases in the confidence": {**NO_NUMBERS},
    "+ numbers the passage lacks (final)": {},
}


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
    embedder = Embedder()
    columns = ["nDCG@10", "R@100", "p@1", "p@5", "quote@1", "words", "answered", "refused"]
    print(f"{'configuration':46}" + "".join(f"{c:>9}" for c in columns) + "  seconds")
    for name, settings in CONFIGS.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        with configured(settings):
            row = measure(args.eval_dir, embedder)
        print(f"{name:46}" + "".join(f"{row[c]:9.3f}" for c in columns) + f"  {time.perf_counter() - started:7.0f}",
              flush=True)


if __name__ == "__main__":
    main()
