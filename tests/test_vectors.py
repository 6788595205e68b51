"""Vector index choice by size, the --index-type override, and deletions with an IVF index."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from qa import Retriever, build_index
from qa.cli import cli
from qa.index import vectors


def _unit(count: int, dimension: int = 16, seed: int = 0) -> np.ndarray:
    data = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def test_auto_is_exact_below_the_threshold_and_ivf_above():
    assert vectors.wanted_kind(10, "auto") == "flat"
    assert vectors.wanted_kind(vectors.EXACT_MAX_VECTORS - 1, "auto") == "flat"
    assert vectors.wanted_kind(vectors.EXACT_MAX_VECTORS, "auto") == "ivf-sq8"
    assert vectors.wanted_kind(10**7, "flat") == "flat"
    assert vectors.wanted_kind(vectors.IVF_MIN_VECTORS, "ivf") == "ivf-sq8"
    assert vectors.wanted_kind(vectors.IVF_MIN_VECTORS - 1, "ivf") == "flat"  # too few to train
    with pytest.raises(ValueError, match="Unknown index type 'hnsw'"):
        vectors.wanted_kind(10, "hnsw")


def test_ivf_keeps_ids_through_removal_writing_and_memory_mapped_reading(tmp_path):
    data, ids = _unit(3000), np.arange(3000, dtype=np.int64) * 5 + 11
    flat = vectors.new_flat(16)
    flat.add_with_ids(data, ids)
    index = vectors.fit(flat, "ivf")
    assert vectors.describe(index)["type"] == "ivf-sq8"
    vectors.remove(index, ids[:100])
    vectors.write(index, tmp_path / "v.faiss")
    loaded = vectors.read(tmp_path / "v.faiss")
    assert loaded.ntotal == 2900
    _, found = vectors.search(loaded, data[500:501], 1)
    assert found[0][0] == ids[500]
    assert np.allclose(loaded.reconstruct(int(ids[500])), data[500], atol=0.02)
    writable = vectors.read(tmp_path / "v.faiss", mmap=False)
    vectors.remove(writable, ids[100:200])
    assert writable.ntotal == 2800 and loaded.ntotal == 2900
    back = vectors.fit(writable, "flat")
    assert vectors.kind_of(back) == "flat" and sorted(vectors.contents(back)[0]) == sorted(ids[200:])


def test_index_type_ivf_is_recorded_and_deletion_works(tmp_path, corpus_dir, embedder, monkeypatch):
    monkeypatch.setattr(vectors, "IVF_MIN_VECTORS", 20)  # the test corpus has a few dozen sentences
    docs = tmp_path / "docs"
    shutil.copytree(corpus_dir, docs)
    index_dir = tmp_path / "index"
    build_index([docs], index_dir, embedder=embedder, progress=False, index_type="ivf")
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["index_type"] == "ivf"
    assert manifest["vector_indexes"]["sentences"]["type"] == "ivf-sq8"
    retriever = Retriever.load(index_dir, embedder=embedder)
    hit = retriever.search("How do honeybees make honey?", k=1)[0]
    assert hit.source == "honeybees.md"

    (docs / "honeybees.md").unlink()
    build_index([docs], index_dir, embedder=embedder, progress=False)  # keeps the ivf setting
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["index_type"] == "ivf" and "honeybees.md" not in manifest["documents"]
    retriever = Retriever.load(index_dir, embedder=embedder)
    assert all(h.source != "honeybees.md" for h in retriever.search("How do honeybees make honey?", k=5))


def test_cli_index_type_override_rewrites_the_index(tmp_path, corpus_dir, embedder):
    index_dir = tmp_path / "index"
    build_index([corpus_dir], index_dir, embedder=embedder, progress=False)
    assert json.loads((index_dir / "manifest.json").read_text())["index_type"] == "auto"
    result = CliRunner().invoke(cli, ["index", str(corpus_dir), "--index-dir", str(index_dir), "--index-type", "flat",
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["index_type"] == "flat"
    assert {v["type"] for v in manifest["vector_indexes"].values()} == {"flat"}
    bad = CliRunner().invoke(cli, ["index", str(corpus_dir), "--index-dir", str(index_dir), "--index-type", "hnsw"])
    assert bad.exit_code == 2
