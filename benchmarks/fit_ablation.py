"""Does each group of the answer model's features earn its place? Out-of-fold figures without it.

Gathers the training questions' candidates once (as ``qa fit`` does), then fits again with each
group's features held at 0 (a constant column carries no weight) and prints the out-of-fold quote
hit@1, answered and refused rates per training file, beside the model with every feature.

    python benchmarks/fit_ablation.py ../shared/train/bbc-news/*.json ../shared/train/squad2-fragment/*.json
"""

from __future__ import annotations

import argparse
import dataclasses

from qa.answer.features import SENTENCE_FEATURES
from qa.embed.model import Embedder
from qa.evaluation.fit import Example, collect, fit

GROUPS = {
    "cosine and passage": ("similarity", "similarity_gap", "passage_score", "passage_score_gap", "passage_rank"),
    "focus and rarest word": ("focus_overlap", "rarest_present"),
    "kind of fact asked for": ("fact", "unique_fact", "fact_beside", "named_role", "fact_measurable", "fact_named"),
    "names and numbers of the question": ("identifiers_missing", "names_missing"),
    "place and shape of the sentence": ("opening", "position", "length", "refers_back", "quoted"),
}
"""The groups of today's features. The groups that were dropped (word overlap and word pairs, the
sentence's own other-subject and figure-apart signals) are in the log of benchmarks/README.md."""


def without(examples: list[Example], names: tuple[str, ...]) -> list[Example]:
    columns = [SENTENCE_FEATURES.index(name) for name in names]
    ablated = []
    for example in examples:
        features = example.candidates.features.copy()
        features[:, columns] = 0.0
        ablated.append(dataclasses.replace(example, candidates=dataclasses.replace(example.candidates, features=features)))
    return ablated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+")
    args = parser.parse_args()
    examples = collect(args.datasets, Embedder(), progress=False)
    for name, names in {"every feature": (), **GROUPS}.items():
        _, report = fit(without(examples, names) if names else examples)
        cells = []
        for dataset, figures in report.by_dataset.items():
            shown = " / ".join(f"{figures[key]:.3f}" for key in ("quote_hit_at_1", "answered", "refused_unanswerable")
                               if figures[key] is not None)
            cells.append(f"{dataset}: {shown}")
        print(f"{name:36} " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
