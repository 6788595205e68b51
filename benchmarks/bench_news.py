"""Dates, filters and copies: what they cost at SciFact size, and duplicate quotes in a 3-copy corpus.

Cost: a copy of the SciFact eval index (``qa eval ../shared/eval/scifact`` builds it in
.cache/qa-eval/) is brought up to date as the next ``qa index`` would (copy groups found from
the stored sentences, dates from the stored metadata; no file read); SciFact abstracts carry
no dates, so each document is then given a made-up date (2020-2024, from a hash of its id) in
that copy's manifest. The SciFact claims are asked with ``Retriever.ask`` unfiltered and with
each filter, in turn, query by query, so load on the machine falls on all alike; the time spent
in the copy checks of an unfiltered ``ask`` is summed by wrapping them.

Duplicates: the first SciFact abstracts judged relevant to the claims are each saved three
times (.txt, .md with a heading, .html page with a date), indexed, and their claims asked; a
duplicate quote is a quote whose text another quote of the same answer holds. The same index
with its copy groups taken out of the manifest stands for qa without copy groups.

    python benchmarks/bench_news.py [--queries 300] [--copies 100] [--cache DIR] [--skip-cost] [--skip-copies]
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine, scifact_corpus, scifact_dir

FILTERS = {
    "plain": {},
    "source '*'": {"source": "*"},
    "source '1*'": {"source": "1*"},
    "since 2023 until 2023": {"since": "2023", "until": "2023"},
    "since 2023-07 until 2023-07": {"since": "2023-07", "until": "2023-07"},
    "source: one document": {"source": "10009203.txt"},
}
UNDATED = "plain, no document dated"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=300, help="SciFact claims asked (of 300)")
    parser.add_argument("--copies", type=int, default=100, help="abstracts saved three times for the duplicates count")
    parser.add_argument("--cache", type=Path, help="the SciFact eval cache folder (index/ inside)  "
                        "[default: .cache/qa-eval/scifact-*]")
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--skip-copies", action="store_true")
    args = parser.parse_args()
    print(machine())
    claims = _claims()
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_cost:
            cost(_cache(args.cache) / "index", Path(folder) / "scifact", claims[: args.queries])
        if not args.skip_copies:
            duplicates(Path(folder) / "copies", args.copies)


def _cache(given: Path | None) -> Path:
    found = [given] if given else sorted((ROOT / ".cache" / "qa-eval").glob("scifact-*"))
    if not found or not (found[0] / "index" / "manifest.json").is_file():
        raise SystemExit("No SciFact eval index: run `qa eval ../shared/eval/scifact` or give --cache")
    return found[0]


def _claims() -> list[tuple[str, str, set[str]]]:
    """(id, claim, relevant corpus ids) of the SciFact test claims."""
    from qa.evaluation.datasets import load_beir

    _, queries, qrels = load_beir(scifact_dir())
    return [(query, text, set(qrels[query])) for query, text in queries.items() if query in qrels]


# --- cost ---------------------------------------------------------------------------------------

def cost(index: Path, work: Path, claims: list[tuple[str, str, set[str]]]) -> None:
    from qa import Retriever
    from qa.index.manifest import Manifest
    from qa.index.store import Store
    from qa.index.writer import StoreWriter

    shutil.copytree(index, work)
    # What the next `qa index` does first to an index made before copy groups, without the rest
    # of its run (which would re-read the files, were they indexed under older reading rules).
    started = time.perf_counter()
    base = Store(work)
    manifest = base.manifest
    StoreWriter(work, model=manifest.model, dimension=manifest.dimension, base=base,
                index_type=manifest.index_type or "auto", runtime=manifest.runtime).commit(manifest.skipped)
    upgraded = time.perf_counter() - started
    manifest = Manifest.load(work)
    groups: dict[str, list[str]] = {}
    for source, record in manifest.documents.items():
        if record.copy_group:
            groups.setdefault(record.copy_group, []).append(source)
    print(f"\nSciFact index brought up to date (sentence keys, copy groups, dates) in {upgraded:.1f} s; "
          f"{len(groups)} copy groups of {sum(map(len, groups.values()))} documents: "
          + "; ".join(", ".join(members) for members in list(groups.values())[:5]))
    undated = work.with_name("scifact-undated")
    shutil.copytree(work, undated)
    _made_up_dates(work)

    from qa import Embedder
    from qa.search.filters import document_filter

    store = Store(work)
    shares = {name: len(store.scope(document_filter(**kwargs)).sources) if kwargs else len(manifest.documents)
              for name, kwargs in FILTERS.items()}
    shares[UNDATED] = len(manifest.documents)
    embedder = Embedder(manifest.model, runtime=manifest.runtime)
    retriever = Retriever.load(work, embedder=embedder)
    variants = {name: (retriever, kwargs) for name, kwargs in FILTERS.items()}
    variants[UNDATED] = (Retriever.load(undated, embedder=embedder), {})
    timers = _wrap_copy_checks()
    for _, claim, _ in claims[:5]:  # warm: the model, the filters' masks, the caches
        for asker, kwargs in variants.values():
            asker.ask(claim, **kwargs)
    timers["seconds"] = 0.0
    times: dict[str, list[float]] = {name: [] for name in variants}
    copy_seconds = 0.0
    for number, (_, claim, _) in enumerate(claims):
        names = list(variants)
        names = names[number % len(names):] + names[: number % len(names)]  # each goes first in turn
        for name in names:
            asker, kwargs = variants[name]
            before = timers["seconds"]
            started = time.perf_counter()
            asker.ask(claim, **kwargs)
            times[name].append(time.perf_counter() - started)
            if name == "plain":
                copy_seconds += timers["seconds"] - before
    plain = times["plain"]
    print(f"\nRetriever.ask on SciFact ({len(claims)} claims, k=5), ms per question; every document dated "
          f"but in the last row:")
    print(f"{'filter':28} {'documents':>9} {'mean':>7} {'p50':>7}  vs plain (mean, p50 of per-claim differences)")
    for name, samples in times.items():
        differences = [a - b for a, b in zip(samples, plain)]
        print(f"{name:28} {shares[name]:9} {1000 * statistics.mean(samples):7.2f} {1000 * statistics.median(samples):7.2f}  "
              f"{100 * statistics.mean(differences) / statistics.mean(plain):+6.1f}% "
              f"{1000 * statistics.median(differences):+6.2f} ms")
    print(f"copy checks within plain ask: {1000 * copy_seconds / len(claims):.3f} ms per question, "
          f"{100 * copy_seconds / sum(plain):.2f}% of its time")
    _cold_costs(work)


def _made_up_dates(index: Path) -> None:
    """Give every document a date from 2020 to 2024 (a hash of its id) in the index's manifest."""
    path = index / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for source, record in data["documents"].items():
        day = int(hashlib.sha256(source.encode()).hexdigest(), 16) % (5 * 365)
        record["date"] = time.strftime("%Y-%m-%d", time.gmtime(1577836800 + day * 86400))
    path.write_text(json.dumps(data), encoding="utf-8")


def _wrap_copy_checks() -> dict[str, float]:
    """Sum the time spent in the retriever's copy checks (where a hit or quote repeats a copy's
    text, and which copies hold it)."""
    import qa.retriever
    import qa.search.searcher

    timers = {"seconds": 0.0}

    def timed(function: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timers["seconds"] += time.perf_counter() - started
        return wrapper

    repeats, with_copies = timed(qa.search.searcher.repeats), timed(qa.search.searcher.with_copies)
    for module in (qa.search.searcher, qa.retriever):  # ranking and quoting each call them
        module.repeats, module.with_copies = repeats, with_copies
    return timers


def _cold_costs(index: Path) -> None:
    """What a fresh build's first filtered question pays once: reading which document owns each
    vector, and a new filter's masks."""
    from qa.index.store import Store
    from qa.search.filters import document_filter

    store = Store(index)
    started = time.perf_counter()
    _ = store._owners  # a cached property: reading it builds it
    owners = time.perf_counter() - started
    started = time.perf_counter()
    store.scope(document_filter("2023", "2023", "1*"))
    scope = time.perf_counter() - started
    started = time.perf_counter()
    _ = store.copy_finder  # a cached property: reading it builds it
    finder = time.perf_counter() - started
    print(f"once per build: vector owners {1000 * owners:.1f} ms, copy groups {1000 * finder:.1f} ms; "
          f"once per new filter: masks {1000 * scope:.1f} ms")


# --- duplicates ---------------------------------------------------------------------------------

def duplicates(work: Path, count: int) -> None:
    from qa import Retriever, build_index
    from qa.index.copies import normalised

    claims = _claims()
    wanted: list[str] = []
    for _, _, relevant in claims:
        wanted += [c for c in sorted(relevant) if c not in wanted]
    wanted = wanted[:count]
    wanted_ids = set(wanted)
    rows = {row["_id"]: row for row in scifact_corpus() if row["_id"] in wanted_ids}
    docs = work / "docs"
    for corpus_id in wanted:
        _three_copies(docs, corpus_id, rows[corpus_id]["title"], rows[corpus_id]["text"])
    started = time.perf_counter()
    build_index([docs], work / "index", progress=False)
    print(f"\n3-copy corpus: {count} SciFact abstracts x (.txt, .md, .html) indexed in "
          f"{time.perf_counter() - started:.1f} s")
    without = work / "index-without-groups"
    shutil.copytree(work / "index", without)
    data = json.loads((without / "manifest.json").read_text(encoding="utf-8"))
    groups = {r["copy_group"] for r in data["documents"].values() if r.get("copy_group")}
    grouped = sum(bool(r.get("copy_group")) for r in data["documents"].values())
    print(f"copy groups found: {len(groups)} holding {grouped} of {len(data['documents'])} documents")
    for record in data["documents"].values():
        record["copy_group"] = None
    (without / "manifest.json").write_text(json.dumps(data), encoding="utf-8")

    asked = [(claim, relevant) for _, claim, relevant in claims if relevant & set(wanted)]
    print(f"{'':40} {'answers':>8} {'quotes':>7} {'duplicate quotes':>17} {'answers with one':>17}")
    for label, folder in (("with copy groups", work / "index"), ("without (groups taken out)", without)):
        retriever = Retriever.load(folder)
        for mode, kwargs in (("", {}), (", per_source=3", {"per_source": 3})):
            answers = quotes = repeated = answers_repeating = 0
            for claim, _ in asked:
                answer = retriever.ask(claim, **kwargs)
                texts = [normalised(q.text) for q in answer.quotes]
                extra = sum(any(t in other or other in t for other in texts[:i]) for i, t in enumerate(texts))
                answers += answer.answered
                quotes += len(texts)
                repeated += extra
                answers_repeating += bool(extra)
            print(f"{label + mode:40} {answers:8} {quotes:7} {repeated:17} {answers_repeating:17}")


def _three_copies(docs: Path, corpus_id: str, title: str, text: str) -> None:
    """One abstract as a text file, a Markdown file and a dated HTML page."""
    for folder in ("txt", "md", "html"):
        (docs / folder).mkdir(parents=True, exist_ok=True)
    (docs / "txt" / f"{corpus_id}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")
    (docs / "md" / f"{corpus_id}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<meta property='article:published_time' content='2024-05-01T10:00:00Z'></head><body>"
            "<nav><a href='/'>Home</a> | <a href='/science'>Science</a></nav><article>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></article>"
            "<footer>All rights reserved.</footer></body></html>")
    (docs / "html" / f"{corpus_id}.html").write_text(page, encoding="utf-8")


if __name__ == "__main__":
    main()
