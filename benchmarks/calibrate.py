"""Calibrate the not-found threshold on held-out articles of a SQuAD-format dataset.

Indexes all but N articles, asks every question, and prints, for candidate thresholds on
``Answer.confidence`` (``qa.answer.quotes.answer_confidence``), the share of covered questions answered
and of held-out questions refused; the threshold with the best balanced accuracy is printed last.

To keep the calibration apart from the numbers `qa eval --holdout N` reports (which hold out
the *last* N articles), the articles are taken in reverse order here: the *first* N are held
out, so different articles are indexed and refused than in the reported run. ``--last`` holds
out the last N instead, to see how a threshold set on the first N carries over (not to set one).
Last comes the threshold that refuses the most held-out questions while answering at least 98%
of the covered ones (the quality target).

    python benchmarks/calibrate.py ../shared/eval/xquad-dev/xquad.en.dev.json --holdout 12
    python benchmarks/calibrate.py DATASET --holdout 12 --save index/   # store it in an index

With ``--save DIR`` the threshold is written into that index's manifest with the model it was
and runtime calibrated for (``qa.index.calibration.save_calibration``); an index of another model or
runtime ignores it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from qa.evaluation.cache import DEFAULT_WORK_DIR
from qa.evaluation.run import evaluate_squad
from qa.index.calibration import save_calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--holdout", type=int, default=12)
    parser.add_argument("--work-dir", default=DEFAULT_WORK_DIR)
    parser.add_argument("--model", default=None)
    parser.add_argument("--runtime", default=None, help="auto, torch, onnx or onnx-int8 (default: auto).")
    parser.add_argument("--save", type=Path, default=None, help="Index folder to store the threshold in.")
    parser.add_argument("--last", action="store_true", help="Hold out the last N articles, as `qa eval` does.")
    args = parser.parse_args()
    if args.last and args.save:
        parser.error("--last measures how a threshold carries over; calibrate without it to --save one.")
    path = args.dataset
    if not args.last:
        data = json.loads(args.dataset.read_text(encoding="utf-8"))
        data["data"].reverse()
        path = Path(args.work_dir) / f"{args.dataset.stem}-reversed.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data), encoding="utf-8")
    report = evaluate_squad(path, holdout=args.holdout, model=args.model, work_dir=args.work_dir, runtime=args.runtime)
    covered = np.array([o.best_score for o in report.outcomes if o.covered])
    held_out = np.array([o.best_score for o in report.outcomes if not o.covered])
    print(f"{len(covered)} covered questions, {len(held_out)} held-out questions")
    print("threshold  answered  refused  balanced")
    best = (0.0, 0.0, 0.0, 0.0)
    most_refused = (0.0, 0.0, 0.0)
    for threshold in np.arange(0.20, 0.80, 0.005):
        answered = float(np.mean(covered >= threshold))
        refused = float(np.mean(held_out < threshold))
        balanced = (answered + refused) / 2
        print(f"{threshold:9.3f}  {answered:8.3f}  {refused:7.3f}  {balanced:8.3f}")
        best = max(best, (balanced, round(float(threshold), 3), answered, refused))
        if answered >= 0.98:
            most_refused = max(most_refused, (refused, round(float(threshold), 3), answered))
    print(f"best threshold {best[1]:.3f} (balanced accuracy {best[0]:.3f}: answered {best[2]:.3f}, refused {best[3]:.3f})")
    print(f"most refused while answering >= 0.98: {most_refused[0]:.3f} at {most_refused[1]:.3f} "
          f"(answered {most_refused[2]:.3f})")
    if args.save:
        from qa import Retriever

        model = Retriever.load(args.save).model
        save_calibration(args.save, best[1], model=model,
                         note=f"{args.dataset.name}, first {args.holdout} articles held out: "
                              f"answered {best[2]:.3f}, refused {best[3]:.3f}")
        print(f"saved in {args.save}/manifest.json for {model}")


if __name__ == "__main__":
    main()
