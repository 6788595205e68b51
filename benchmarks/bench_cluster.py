"""`qa index` in one process against `--workers N` (a local Ray cluster) and `--cluster ADDRESS`.

On SciFact abstracts (one .txt file each), each build from scratch, in one run:
  - ``build_index`` in this process (read-ahead thread + the model here);
  - ``build_index(workers=N)`` for each N given: a local Ray cluster with N embedding workers;
  - ``build_index(cluster=ADDRESS)`` when an address is given.
For each corpus size it prints seconds, passages/s end to end, the seconds until the first batch
of vectors came back (start-up: Ray and workers loading the model, and the first batch), and the
machine's load average before and after (other work on the machine slows every row). With two
sizes it also prints the marginal rate, (passages of the larger - of the smaller) / (seconds of the
larger - of the smaller): the rate once started, what a large corpus gets.

    python benchmarks/bench_cluster.py --docs 150,600 --workers 2
    python benchmarks/bench_cluster.py --docs 300 --workers 1,2 --cluster 127.0.0.1:6379 --skip-single
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, machine, timed_build, write_scifact_docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", default="150,600", help="comma-separated corpus sizes (abstracts)")
    parser.add_argument("--workers", default="2", help="comma-separated worker counts for local clusters ('' for none)")
    parser.add_argument("--cluster", default=None, help="also index on the Ray cluster at this address")
    parser.add_argument("--skip-single", action="store_true", help="skip the single-process build")
    parser.add_argument("--runtime", default=None, help="embedding runtime for every build [default: qa's]")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.docs.split(","))
    runs = [] if args.skip_single else [("one process", {})]
    runs += [(f"--workers {n}", {"workers": int(n)}) for n in filter(None, args.workers.split(","))]
    runs += [(f"--cluster {args.cluster}", {"cluster": args.cluster})] if args.cluster else []
    print(machine(), f"runtime {args.runtime or 'default'}", flush=True)
    for label, options in runs:
        options["runtime"] = args.runtime
        measured = [_build(label, write_scifact_docs(WORK / f"docs-scifact-{n}", n), n, options) for n in sizes]
        if len(measured) > 1:
            (small_passages, small_s), (large_passages, large_s) = measured[0], measured[-1]
            print(f"{label:<28} marginal {(large_passages - small_passages) / (large_s - small_s):6.1f} passages/s "
                  f"({sizes[0]} -> {sizes[-1]} abstracts)", flush=True)


def _build(label: str, docs: Path, count: int, options: dict) -> tuple[int, float]:
    load_before = os.getloadavg()[0]
    passages, seconds, first_vectors = timed_build(docs, **options)
    print(f"{label:<28} {count:5d} abstracts, {passages:5d} passages: {seconds:7.1f} s, "
          f"{passages / seconds:6.1f} passages/s end to end; first vectors after {first_vectors:5.1f} s; "
          f"load {load_before:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)
    return passages, seconds


if __name__ == "__main__":
    main()
