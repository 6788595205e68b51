"""Ablation: each retrieval setting measured on SciFact, xquad-dev and bbc-news with `qa eval`'s code.

Prints one row per configuration: SciFact nDCG@10 / Recall@100, xquad-dev passage hit@1 / @5,
quote hit@1, words in the first quote, answered / refused with 12 articles held out, and on
bbc-news passage hit@1, quote hit@1, answered and refused (its unanswerable questions).
The indexes are the ones `qa eval` caches, so a run only embeds the questions and re-scores.
Every row uses today's passages, which follow paragraphs (``qa.read.passages``); the fixed windows they
replaced can't be switched back on, so the README gives their numbers from the commit before.

    python benchmarks/ablation.py ../shared/eval [--only hybrid]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from qa.embed.model import Embedder
from qa.evaluation.cache import DEFAULT_WORK_DIR
from qa.evaluation.run import evaluate_beir, evaluate_squad
from qa.scoring import DEFAULT_SCORING, Scoring

CONFIGS: dict[str, Scoring] = {
    "dense only": replace(DEFAULT_SCORING, lexical_weight=0.0),
    "BM25 only": replace(DEFAULT_SCORING, dense_weight=0.0),
    "hybrid, BM25 weight 0.5": replace(DEFAULT_SCORING, lexical_weight=0.5),
    "hybrid, BM25 weight 1": replace(DEFAULT_SCORING, lexical_weight=1.0),
    "hybrid, BM25 weight 2": replace(DEFAULT_SCORING, lexical_weight=2.0),
    "passages in retrieval order": replace(DEFAULT_SCORING, quote_passage_first=False),
    "today (hybrid 0.7, the fitted answer model)": DEFAULT_SCORING,
}
"""Retrieval settings around today's; the answer model's own features are ablated by
cross-validation on the training data (benchmarks/fit_ablation.py)."""


def measure(eval_dir: Path, embedder: Embedder, scoring: Scoring) -> dict[str, float]:
    beir = evaluate_beir(eval_dir / "scifact", embedder=embedder, progress=False, scoring=scoring)
    squad_path = eval_dir / "xquad-dev" / "xquad.en.dev.json"
    squad = evaluate_squad(squad_path, embedder=embedder, progress=False, scoring=scoring)
    held = evaluate_squad(squad_path, holdout=12, embedder=embedder, progress=False, scoring=scoring)
    news = evaluate_squad(eval_dir / "bbc-news" / "bbc-news.dev.json", embedder=embedder, progress=False,
                          scoring=scoring)
    return {
        "nDCG@10": beir.ndcg_at_10, "R@100": beir.recall_at_100, "p@1": squad.passage_hit_at_1,
        "p@5": squad.passage_hit_at_5, "quote@1": squad.quote_hit_at_1, "words": squad.mean_quote_words,
        "answered": held.answered_rate, "refused": held.refused_rate or 0.0,
        "bbc p@1": news.passage_hit_at_1, "bbc q@1": news.quote_hit_at_1, "bbc ans": news.answered_rate,
        "bbc ref": news.refused_unanswerable_rate or 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("--only", action="append", help="Run only this configuration (repeatable).")
    args = parser.parse_args()
    Path(DEFAULT_WORK_DIR).mkdir(parents=True, exist_ok=True)
    embedder = Embedder()
    columns = ["nDCG@10", "R@100", "p@1", "p@5", "quote@1", "words", "answered", "refused", "bbc p@1", "bbc q@1",
               "bbc ans", "bbc ref"]
    print(f"{'configuration':46}" + "".join(f"{c:>9}" for c in columns) + "  seconds")
    for name, scoring in CONFIGS.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        row = measure(args.eval_dir, embedder, scoring)
        print(f"{name:46}" + "".join(f"{row[c]:9.3f}" for c in columns) + f"  {time.perf_counter() - started:7.0f}",
              flush=True)


if __name__ == "__main__":
    main()
