"""FAISS vector indexes of unit vectors under qa's own int64 ids, chosen by size.

Below :data:`EXACT_MAX_VECTORS` vectors an exact flat index, memory-mapped when read; from there
on IVF with 8-bit scalar quantisation (4x smaller, searching a few percent of the vectors), read
into memory (see :func:`read`). Vectors are removed and read back by id.
"""

from __future__ import annotations

import errno
import math
import os
import re
from pathlib import Path

import numpy as np

from qa.errors import InvalidInput

INDEX_TYPES = ("auto", "flat", "ivf")
"""``auto`` picks by size; ``flat`` is always exact; ``ivf`` is always approximate (IVF, 8-bit)."""
EXACT_MAX_VECTORS = 20_000
"""``auto`` switches an index to IVF from this many vectors on. Exact search of one query took
0.8 ms at 10k vectors and 7.3 ms at 50k on one idle core (benchmarks/bench_search.py). SciFact's
49,929 sentences in IVF instead of exact: `Retriever.ask` p50 35.6 -> 29.4 ms, nDCG@10 0.7426 ->
0.7427."""
IVF_MIN_VECTORS = 1_000
"""Fewer vectors than this can't train an IVF index meaningfully: such an index stays flat."""
NPROBE_FRACTION = 1 / 16
"""Share of the inverted lists scanned per query (1/32 gave recall@10 0.94 on SciFact vectors)."""
TRAIN_SAMPLE = 100_000


def check_index_type(index_type: str) -> str:
    """``index_type`` if it is one of :data:`INDEX_TYPES`, else InvalidInput."""
    if index_type not in INDEX_TYPES:
        raise InvalidInput(f"Unknown index type '{index_type}': use one of {', '.join(INDEX_TYPES)}.")
    return index_type


def new_flat(dimension: int):
    """An empty exact index."""
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def kind_of(index) -> str:
    """``flat`` or ``ivf-sq8``."""
    import faiss

    return "ivf-sq8" if isinstance(index, faiss.IndexIVF) else "flat"


def wanted_kind(count: int, index_type: str) -> str:
    """The kind an index of ``count`` vectors should be under setting ``index_type``."""
    check_index_type(index_type)
    if count < IVF_MIN_VECTORS or index_type == "flat":
        return "flat"
    if index_type == "ivf" or count >= EXACT_MAX_VECTORS:
        return "ivf-sq8"
    return "flat"


def fit(index, index_type: str):
    """``index`` itself if it is already the kind its size calls for, else a rebuilt one.

    An IVF index is also retrained once it has grown to 8x the vectors it was trained on, so
    its lists stay balanced as a collection grows.
    """
    kind = wanted_kind(index.ntotal, index_type)
    if kind == kind_of(index) and not (kind == "ivf-sq8" and index.ntotal > 8 * _trained_on(index)):
        return index
    ids, vectors = contents(index)
    if kind == "flat":
        fresh = new_flat(index.d)
        fresh.add_with_ids(vectors, ids)
        return fresh
    return build_ivf(vectors, ids)


def build_ivf(vectors: np.ndarray, ids: np.ndarray):
    """An IVF index with 8-bit scalar quantisation holding ``vectors`` under ``ids``."""
    import faiss

    count, dimension = vectors.shape
    # 4 * sqrt(n) lists, with the 39 training points per list that k-means wants.
    nlist = max(1, min(65_536, int(4 * math.sqrt(count)), count // 39))
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    sample = vectors
    if count > max(TRAIN_SAMPLE, 40 * nlist):
        chosen = np.random.default_rng(0).choice(count, max(TRAIN_SAMPLE, 40 * nlist), replace=False)
        sample = vectors[np.sort(chosen)]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    # A hash-table id map lets remove_ids and reconstruct work by qa's ids.
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    for start in range(0, count, 200_000):
        index.add_with_ids(np.ascontiguousarray(vectors[start : start + 200_000], dtype=np.float32),
                           np.ascontiguousarray(ids[start : start + 200_000], dtype=np.int64))
    index.nprobe = max(1, math.ceil(nlist * NPROBE_FRACTION))
    return index


def _trained_on(index) -> int:
    # Not stored by FAISS; the number of lists says it (build_ivf makes 4 * sqrt(count) lists).
    return max(IVF_MIN_VECTORS, (index.nlist / 4) ** 2)


def contents(index) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of every vector in ``index`` (IVF vectors come back de-quantised)."""
    import faiss

    if not isinstance(index, faiss.IndexIVF):
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        return ids, index.index.reconstruct_n(0, index.ntotal) if len(ids) else np.zeros((0, index.d), np.float32)
    invlists = index.invlists
    all_ids, all_vectors = [], []
    for number in range(index.nlist):
        size = invlists.list_size(number)
        if not size:
            continue
        ids = faiss.rev_swig_ptr(invlists.get_ids(number), size).astype(np.int64)
        all_ids.append(ids)
        all_vectors.append(index.reconstruct_batch(ids))
    if not all_ids:
        return np.zeros(0, np.int64), np.zeros((0, index.d), np.float32)
    return np.concatenate(all_ids), np.concatenate(all_vectors)


def remove(index, ids: np.ndarray) -> None:
    """Remove the vectors with these ids."""
    import faiss

    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if len(ids):
        index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids)) if isinstance(index, faiss.IndexIVF)
                         else ids)


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the ``k`` nearest vectors to each row of ``queries``.

    One thread: for a single query, OpenMP's start-up and spinning cost more than the scan
    (4-5x slower with 2 threads on a busy 2-core machine). The setting is this thread's only.
    """
    import faiss

    faiss.omp_set_num_threads(1)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def search_within(index, queries: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`search` among the ids where the boolean mask ``allowed`` is True only.

    FAISS skips the other ids while it scans (an ``IDSelectorBitmap``), so these are the nearest
    allowed vectors, not the nearest vectors with the rest dropped. An IVF index scans more of
    its lists the fewer vectors the mask allows (as many allowed vectors as an unfiltered search
    scans vectors, up to all lists): the nearest allowed vectors of a narrow filter are farther
    from the query, in lists an unfiltered search would not open.
    """
    import faiss

    allowed_count = int(np.count_nonzero(allowed))
    k = min(k, allowed_count)
    if k == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    bitmap = np.packbits(allowed, bitorder="little")  # referenced until the search returns
    selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    faiss.omp_set_num_threads(1)
    if not isinstance(index, faiss.IndexIVF):
        return index.search(queries, k, params=faiss.SearchParameters(sel=selector))
    share = allowed_count / max(index.ntotal, 1)
    nprobe = min(index.nlist, math.ceil(index.nprobe / share))
    scores, found = index.search(queries, k, params=faiss.SearchParametersIVF(sel=selector, nprobe=nprobe))
    if (found < 0).any() and nprobe < index.nlist:  # the lists opened held too few: open them all
        scores, found = index.search(queries, k, params=faiss.SearchParametersIVF(sel=selector, nprobe=index.nlist))
    return scores, found


def problem(index, dimension: int) -> str | None:
    """What makes ``index`` unusable as one of qa's vector indexes (None when it is fine)."""
    import faiss

    if index.d != dimension:
        return f"holds vectors of dimension {index.d}, not {dimension}"
    if isinstance(index, faiss.IndexIVF):
        return "has no id map" if index.direct_map.type == faiss.DirectMap.NoMap else None
    return None if isinstance(index, faiss.IndexIDMap2) else "has no id map"


def describe(index) -> dict:
    """What the manifest records of an index: kind, size, and IVF's lists and probes."""
    import faiss

    record = {"type": kind_of(index), "vectors": int(index.ntotal)}
    if isinstance(index, faiss.IndexIVF):
        record.update(nlist=int(index.nlist), nprobe=int(index.nprobe))
    return record


def read(path: str | os.PathLike, *, mmap: bool = True):
    """Read an index file; for searching (``mmap=True``), an exact index's vectors are memory-mapped.

    An IVF index is read into memory either way: FAISS maps its lists through
    ``OnDiskInvertedLists``, which searched 2-5x slower (100k vectors, 81 of 1,286 lists probed:
    3.8 ms mapped, 0.75 ms in memory), and reading even 1M 8-bit vectors takes well under a second.
    A memory-mapped index is read-only; read with ``mmap=False`` to change it.
    """
    import faiss

    with open(path, "rb") as handle:
        id_mapped_flat = handle.read(3) == b"IxM"  # IndexIDMap / IndexIDMap2 around a flat index
    if not (mmap and id_mapped_flat):
        return faiss.read_index(str(Path(path)))
    return faiss.read_index(str(Path(path)), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)


def write(index, path: str | os.PathLike) -> None:
    """Write an index file; OSError (with its errno where FAISS names the cause) when that fails."""
    import faiss

    try:
        faiss.write_index(index, str(Path(path)))
    except RuntimeError as err:  # FAISS gives the C library's reason only at the end of its message
        cause = re.search(r"\(([^()]+)\)\s*$", str(err))
        reason = cause.group(1) if cause else "write error"
        code = next((code for code in errno.errorcode if os.strerror(code) == reason), 0)
        raise OSError(code, reason, str(path)) from err
