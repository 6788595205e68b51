"""Runtimes: what an index records, what it refuses to mix, thresholds per runtime, silence, bf16."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from qa import Embedder, Retriever, build_index
from qa.answer.model import shipped_model
from qa.config import DEFAULT_MODEL
from qa.embed.model import RUNTIMES, cpu_has_bf16
from qa.errors import IndexMismatch, InvalidInput
from qa.index.calibration import save_calibration
from qa.index.manifest import MANIFEST

BUNDLED_ARTICLE = Path(__file__).parent.parent / "docs" / "nato-cluster-munitions.txt"


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(BUNDLED_ARTICLE, folder / BUNDLED_ARTICLE.name)
    return folder


def manifest(index_dir) -> dict:
    return json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))


def test_an_index_records_its_runtime_and_refuses_another(docs, tmp_path):
    index_dir = tmp_path / "index"
    report = build_index([docs], index_dir, runtime="onnx", progress=False)
    assert manifest(index_dir)["runtime"] == "onnx"
    assert report.passages_per_second == pytest.approx(report.passages / report.seconds)
    assert "passages_per_second" in asdict(report)
    with pytest.raises(IndexMismatch, match="built with the onnx runtime, not onnx-int8"):
        build_index([docs], index_dir, runtime="onnx-int8", progress=False)
    (docs / "more.txt").write_text("The ferry to the island sails twice a day in summer.", encoding="utf-8")
    again = build_index([docs], index_dir, progress=False)  # no runtime given: the index's own
    assert manifest(index_dir)["runtime"] == "onnx" and again.added == 1
    assert Retriever.load(index_dir).runtime == "onnx"
    unchanged = build_index([docs], index_dir, progress=False)
    assert unchanged.passages_per_second == 0.0


def test_an_index_from_before_runtimes_is_torch(index_dir, tmp_path, embedder):
    old = tmp_path / "old"
    shutil.copytree(index_dir, old)
    data = manifest(old)
    data.pop("runtime")
    (old / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    assert Retriever.load(old).runtime == "torch"
    with pytest.raises(IndexMismatch, match="built with the torch runtime"):
        build_index([tmp_path], old, runtime="onnx-int8", progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="auto picks torch on a GPU")
def test_the_default_on_a_cpu_is_int8(embedder, index_dir):
    assert embedder.runtime == "onnx-int8" and manifest(index_dir)["runtime"] == "onnx-int8"
    assert Embedder(precision="float32").runtime == Embedder(device="cuda").runtime == "torch"


def test_unknown_runtime_is_refused(monkeypatch):
    with pytest.raises(InvalidInput, match="Unknown runtime 'fast'"):
        Embedder(runtime="fast")
    monkeypatch.setenv("QA_RUNTIME", "fast")
    with pytest.raises(InvalidInput, match="Unknown runtime 'fast'"):
        Embedder()


def test_onnx_runtimes_need_a_local_bert_folder_and_the_cpu():
    with pytest.raises(InvalidInput, match="needs a local folder"):
        _ = Embedder("sentence-transformers/some-hub-model", runtime="onnx").runtime
    with pytest.raises(InvalidInput, match="runs on the CPU"):
        _ = Embedder(runtime="onnx-int8", precision="bfloat16").runtime
    assert Embedder("sentence-transformers/some-hub-model").runtime == "torch"  # auto


def test_thresholds_are_per_model_and_runtime(index_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(index_dir, copy)
    assert Retriever.load(copy).not_found_threshold == shipped_model().threshold
    save_calibration(copy, 0.5, model=DEFAULT_MODEL)
    assert manifest(copy)["not_found"]["runtime"] == "onnx-int8"
    assert Retriever.load(copy).not_found_threshold == 0.5
    data = manifest(copy)
    data["runtime"] = "onnx"  # the stored threshold was set for int8 vectors
    (copy / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    assert Retriever.load(copy).not_found_threshold == shipped_model().threshold


@pytest.mark.slow
def test_loading_a_model_prints_nothing():
    """The Python API prints nothing unasked: no "Loading weights" bar from transformers."""
    code = ("from qa import Embedder; Embedder(precision='float32').encode(['Who makes the MK-20?']); "
            "Embedder().encode(['Who makes the MK-20?'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stderr == "" and result.stdout == ""


def test_bf16_check_still_exists_in_torch():
    """qa's one use of a private torch API (qa.embed.model.cpu_has_bf16): fails loudly when torch drops it."""
    assert isinstance(torch.ops.mkldnn._is_mkldnn_bf16_supported(), bool)
    assert cpu_has_bf16() == torch.ops.mkldnn._is_mkldnn_bf16_supported()


def test_cli_runtime_option(docs, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from qa.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["index", str(docs), "--index-dir", str(tmp_path / "i"), "--runtime", "fast"])
    assert result.exit_code == 2 and "'fast' is not one of 'auto', " + ", ".join(f"'{r}'" for r in RUNTIMES) in result.output
    monkeypatch.setenv("QA_RUNTIME", "fast")
    result = runner.invoke(cli, ["index", str(docs), "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 1 and result.output.startswith("Error: Unknown runtime 'fast'")


def test_the_chat_page_embeds_uploads_with_the_index_runtime(index_dir, tmp_path):
    from ui.app import open_index

    copy = tmp_path / "copy"
    shutil.copytree(index_dir, copy)
    data = manifest(copy)
    data.pop("runtime")  # an index from before runtimes: uploads must not be embedded in int8
    (copy / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    retriever, embedder = open_index(copy, tmp_path)
    assert embedder.runtime == retriever.runtime == "torch"
