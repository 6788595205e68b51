"""Time to open an index folder (its files in the page cache): ``Store`` as ``Retriever.load``
opens it, and until its checksum check is done.

Runs the qa on ``sys.path``; to compare two checkouts, run it with each one's PYTHONPATH in turn.
An index from before checksums is given them in a copy first (``--add-checksums``).

    python benchmarks/bench_open.py INDEX_DIR [--runs 30] [--add-checksums COPY_DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--add-checksums", type=Path, metavar="COPY_DIR")
    args = parser.parse_args()
    index = args.index
    if args.add_checksums:
        from qa.index.checksums import checksum

        shutil.copytree(index, args.add_checksums, dirs_exist_ok=True)
        index = args.add_checksums
        manifest = json.loads((index / "manifest.json").read_text())
        manifest["checksums"] = {name: checksum(index / name) for name in manifest["files"].values()}
        (index / "manifest.json").write_text(json.dumps(manifest))

    from qa.index.store import Store

    Store(index)  # imports and page cache
    opened, checked = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        store = Store(index)
        opened.append(time.perf_counter() - started)
        if hasattr(store, "verify"):
            store.verify()
        checked.append(time.perf_counter() - started)
    size = sum(p.stat().st_size for p in index.iterdir() if p.suffix in (".faiss", ".sqlite", ".npz"))
    print(f"{index} ({size / 1e6:.1f} MB of data files), median of {args.runs}: "
          f"open {statistics.median(opened) * 1e3:.1f} ms, open and checked {statistics.median(checked) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
