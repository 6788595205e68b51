"""Calibrate the not-found threshold on held-out articles of a SQuAD-format dataset.

Indexes all but the last N articles, asks every question, and prints, for candidate
thresholds on ``Answer.confidence``, the share of covered questions answered and of
held-out questions refused. The threshold with the best balanced accuracy is printed last.

    python benchmarks/calibrate.py ../shared/eval/xquad-dev/xquad.en.dev.json --holdout 12
"""

from __future__ import annotations

import argparse

import numpy as np

from qa.evaluate import evaluate_squad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset")
    parser.add_argument("--holdout", type=int, default=12)
    parser.add_argument("--work-dir", default=".cache/qa-eval")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    report = evaluate_squad(args.dataset, args.work_dir, holdout=args.holdout, model=args.model)
    covered = np.array([o.best_score for o in report.outcomes if o.covered])
    held_out = np.array([o.best_score for o in report.outcomes if not o.covered])
    print(f"{len(covered)} covered questions, {len(held_out)} held-out questions")
    print("threshold  answered  refused  balanced")
    best = (0.0, 0.0)
    for threshold in np.arange(0.20, 0.80, 0.01):
        answered = float(np.mean(covered >= threshold))
        refused = float(np.mean(held_out < threshold))
        balanced = (answered + refused) / 2
        print(f"{threshold:9.2f}  {answered:8.3f}  {refused:7.3f}  {balanced:8.3f}")
        best = max(best, (balanced, round(float(threshold), 2)))
    print(f"best threshold {best[1]:.2f} (balanced accuracy {best[0]:.3f})")


if __name__ == "__main__":
    main()
