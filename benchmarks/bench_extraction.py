"""How much of a web page's article qa reads, beside plain ``trafilatura.extract``.

On ``../shared/eval/article-extraction`` (real article pages with the text a person marked as
the article), each page is indexed with ``build_index`` and read back with
``Retriever.document_text``: the text qa quotes from. It is scored as the benchmark scores
(its README: 4-token shingles of ``\\w+`` tokens, per-page true/false positives and negatives
normalised by their sum, precision and recall averaged over pages, F1 of the two means), beside
``trafilatura.extract(html)`` with default settings. The worst pages by F1 are listed.

    python benchmarks/bench_extraction.py [--data DIR] [--worst 10] [--reader-only] [--modes]
    python benchmarks/bench_extraction.py --folds 5 [--repeats 10]

``--reader-only`` reads the pages with qa's reader but skips embedding (the same text, faster);
``--modes`` also scores each extractor that qa combines, alone: trafilatura's precision and
recall modes, and readability-lxml.

``--folds K`` measures how qa's rule for which blocks of a page to keep generalises: the blocks
of trafilatura's recall-mode article and each extractor's vote on them (``qa.read.formats.html.
article_votes``, plus resiliparse's main-content text as a third opinion when it is installed)
are computed once; then, for each of K folds of the pages, the rule with the best F1 on the
other folds is chosen among RULES and scored on the fold; the out-of-fold F1 (all pages, each
read by a rule chosen without it) is printed beside each rule's all-pages F1, over ``--repeats``
shuffles of the folds.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT

DATA = ROOT.parent / "shared" / "eval" / "article-extraction"
_TOKEN = re.compile(r"\w+")


def shingles(text: str, size: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1)) if tokens[i : i + size])


def match(true: str, predicted: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over shingles, normalised by their sum."""
    wanted, got = shingles(true), shingles(predicted)
    tp = fp = fn = 0.0
    for key in wanted.keys() | got.keys():
        a, b = wanted.get(key, 0), got.get(key, 0)
        tp, fp, fn = tp + min(a, b), fp + max(0, b - a), fn + max(0, a - b)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def precision(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)


def recall(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def scores(truth: dict, predicted: dict[str, str]) -> tuple[float, float, float, dict]:
    """(F1, precision, recall, per-page (tp, fp, fn)) as the benchmark computes them."""
    per_page = {key: match(truth[key]["articleBody"], predicted.get(key, "")) for key in truth}
    p = statistics.mean(precision(*c) for c in per_page.values() if c[0] + c[1] > 0)
    r = statistics.mean(recall(*c) for c in per_page.values() if c[0] + c[2] > 0)
    return f1(p, r), p, r, per_page


def qa_texts(pages: dict[str, bytes], reader_only: bool) -> dict[str, str]:
    """The text qa indexes for each page, by page id."""
    from qa import Retriever, build_index
    from qa.read.files import SourceFile, read_document

    with tempfile.TemporaryDirectory() as work:
        docs = Path(work, "docs")
        docs.mkdir()
        for key, html in pages.items():
            (docs / f"{key}.html").write_bytes(html)
        if reader_only:
            return {key: read_document(SourceFile(docs / f"{key}.html", f"{key}.html", str(docs))).text
                    for key in pages}
        report = build_index([docs], Path(work, "index"), progress=False)
        if report.skipped:
            print(f"skipped {len(report.skipped)}: {report.skipped[:3]}")
        retriever = Retriever.load(Path(work, "index"))
        indexed = {info.source for info in retriever.documents()}
        return {key: retriever.document_text(f"{key}.html") if f"{key}.html" in indexed else "" for key in pages}


def single_modes(pages: dict[str, bytes]) -> list[tuple[str, dict[str, str], float]]:
    """(name, texts, seconds) of each extractor qa combines, run alone on the page as qa decodes it."""
    import trafilatura

    from qa.read.formats import decode_text
    from qa.read.formats.html import _readability_text

    extractors = {
        "trafilatura favor_precision": lambda html: trafilatura.extract(html, favor_precision=True,
                                                                        include_comments=False),
        "trafilatura favor_recall": lambda html: trafilatura.extract(html, favor_recall=True, include_comments=False),
        "readability-lxml": _readability_text,
    }
    runs = []
    for name, extract in extractors.items():
        begin = time.perf_counter()
        texts = {key: extract(decode_text(html)) or "" for key, html in pages.items()}
        runs.append((name, texts, time.perf_counter() - begin))
    return runs


RULES = {
    "all blocks (recall mode)": lambda v: True,
    "precision": lambda v: v[0],
    "default": lambda v: v[1],
    "readability": lambda v: v[2],
    "precision or (default and readability) [qa]": lambda v: v[0] or (v[1] and v[2]),
    "precision or default": lambda v: v[0] or v[1],
    "default and readability": lambda v: v[1] and v[2],
    "precision or (default and resiliparse)": lambda v: v[0] or (v[1] and v[3]),
    "precision or (readability and resiliparse)": lambda v: v[0] or (v[2] and v[3]),
    "precision or 2 of (default, readability, resiliparse)": lambda v: v[0] or v[1] + v[2] + v[3] >= 2,
    "2 of 4": lambda v: sum(v) >= 2,
    "3 of 4": lambda v: sum(v) >= 3,
}
"""Rules for which blocks to keep, on each block's votes (precision, default, readability, resiliparse)."""


def resiliparse_text(html: str) -> str:
    """resiliparse's main-content text of a page, or "" (when it is not installed, for every page)."""
    try:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree
    except ImportError:
        return ""
    return extract_plain_text(HTMLTree.parse(html), main_content=True, alt_texts=False)


def page_votes(pages: dict[str, bytes]) -> dict[str, tuple[list[str], list[tuple[bool, ...]]] | str]:
    """Each page's recall-mode blocks and their votes, or the text qa reads when it finds no article."""
    from qa.read.formats import decode_text, read_html
    from qa.read.formats.html import article_votes, tokens, within

    votes: dict[str, tuple[list[str], list[tuple[bool, ...]]] | str] = {}
    for key, data in pages.items():
        html = decode_text(data)
        try:
            _, blocks, page = article_votes(html)
        except (RecursionError, ValueError):
            votes[key] = read_html(data, key).text
            continue
        third = tokens(resiliparse_text(html))
        votes[key] = (blocks, [(v.precision, v.default, v.readability, within(b, third))
                               for b, v in zip(blocks, page, strict=True)])
    return votes


def rule_texts(votes: dict, rule, keys) -> dict[str, str]:
    """The text qa would read from each page of ``keys`` if it kept the blocks ``rule`` keeps."""
    from qa.read.formats.reading import join_blocks, read_lead

    texts = {}
    for key in keys:
        if isinstance(votes[key], str):
            texts[key] = votes[key]
            continue
        blocks, page = votes[key]
        kept = [block for block, vote in zip(blocks, page, strict=True) if rule(vote)]
        texts[key] = join_blocks(read_lead(kept or blocks, headline=False)[0])
    return texts


def pooled(per_page: dict[str, tuple[float, float, float]], keys) -> tuple[float, float, float]:
    """(F1, precision, recall) over the pages ``keys``, as :func:`scores` computes them."""
    counts = [per_page[key] for key in keys]
    p = statistics.mean(precision(*c) for c in counts if c[0] + c[1] > 0)
    r = statistics.mean(recall(*c) for c in counts if c[0] + c[2] > 0)
    return f1(p, r), p, r


def cross_validate(truth: dict, votes: dict, folds: int, repeats: int) -> None:
    """Print each rule's all-pages F1, and the out-of-fold F1 of choosing the best rule on the other
    folds, among the rules without resiliparse and among all."""
    import random

    keys = sorted(truth)
    per_rule = {name: scores(truth, rule_texts(votes, rule, keys))[3] for name, rule in RULES.items()}
    print(f"{'rule':56} {'F1':>6} {'prec.':>6} {'recall':>6}   (all {len(keys)} pages)")
    for name in RULES:
        print(f"{name:56} " + " ".join(f"{value:6.3f}" for value in pooled(per_rule[name], keys)))
    without = [name for name in RULES if "resiliparse" not in name and "of 4" not in name]
    for label, names in (("rules without resiliparse", without), ("all rules", list(RULES))):
        results = []
        chosen: Counter = Counter()
        for repeat in range(repeats):
            order = keys[:]
            random.Random(repeat).shuffle(order)
            out_of_fold: dict[str, tuple[float, float, float]] = {}
            for fold in range(folds):
                held = set(order[fold::folds])
                train = [key for key in keys if key not in held]
                best = max(names, key=lambda name: pooled(per_rule[name], train)[0])
                chosen[best] += 1
                out_of_fold.update({key: per_rule[best][key] for key in held})
            results.append(pooled(out_of_fold, keys))
        f, p, r = (statistics.mean(values) for values in zip(*results, strict=True))
        spread = statistics.pstdev(result[0] for result in results)
        print(f"\n{folds}-fold cross-validation over {repeats} shuffles, choosing among {label}:")
        print(f"{'out of fold':56} {f:6.3f} {p:6.3f} {r:6.3f}   (F1 sd {spread:.3f} over shuffles)")
        print("  chosen: " + "; ".join(f"{name} x{count}" for name, count in chosen.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--worst", type=int, default=10)
    parser.add_argument("--reader-only", action="store_true")
    parser.add_argument("--modes", action="store_true")
    parser.add_argument("--folds", type=int, default=0, help="cross-validate the rule over this many folds")
    parser.add_argument("--repeats", type=int, default=10, help="shuffles of the folds (with --folds)")
    args = parser.parse_args()
    import trafilatura

    truth = json.loads((args.data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {key: gzip.decompress((args.data / "html" / f"{key}.html.gz").read_bytes()) for key in sorted(truth)}
    if args.folds:
        begin = time.perf_counter()
        votes = page_votes(pages)
        print(f"{len(pages)} pages of {args.data}; votes in {time.perf_counter() - begin:.0f} s")
        cross_validate(truth, votes, args.folds, args.repeats)
        return
    begin = time.perf_counter()
    ours = qa_texts(pages, args.reader_only)
    ours_seconds = time.perf_counter() - begin
    begin = time.perf_counter()
    plain = {key: trafilatura.extract(html) or "" for key, html in pages.items()}
    plain_seconds = time.perf_counter() - begin
    how = "read_document" if args.reader_only else "build_index + document_text"
    runs = [(f"qa ({how})", ours, ours_seconds), ("trafilatura.extract", plain, plain_seconds)]
    if args.modes:
        runs += single_modes(pages)
    print(f"{len(pages)} pages of {args.data}")
    print(f"{'extractor':40} {'F1':>6} {'prec.':>6} {'recall':>6} {'seconds':>8}")
    results = {}
    for name, texts, seconds in runs:
        f, p, r, per_page = scores(truth, texts)
        results[name] = per_page
        print(f"{name:40} {f:6.3f} {p:6.3f} {r:6.3f} {seconds:8.1f}")
    print(f"\nworst {args.worst} pages for qa (F1, precision, recall, url):")
    per_page = results[f"qa ({how})"]
    ranked = sorted(per_page, key=lambda k: f1(precision(*per_page[k]), recall(*per_page[k])))
    for key in ranked[: args.worst]:
        p, r = precision(*per_page[key]), recall(*per_page[key])
        print(f"  {f1(p, r):.3f} {p:.3f} {r:.3f} {key[:12]} {truth[key].get('url', '')[:90]}")


if __name__ == "__main__":
    main()
