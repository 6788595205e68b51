"""A numpy forward pass for BERT-type sentence-transformers model folders.

Embedding one question is a few milliseconds of arithmetic, but importing torch, transformers and
sentence-transformers to do it takes ~10 s. This runs the same model in fp32 with only numpy,
tokenizers and safetensors, and agrees with sentence-transformers' fp32 vectors to a cosine of
0.99999 or better (tests/test_question_encoder.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

POOLING_MODES = ("mean", "cls")
_MODULES = ("Transformer", "Pooling", "Normalize")
_LEGACY_POOLING_KEYS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
_FLOAT_DTYPES = {"F16", "F32", "F64"}
_MASKED = np.float32(-1e9)
"""Added to the attention scores of padding; exp() of it is 0 in fp32."""


def supports(folder: str | Path) -> bool:
    """Whether ``folder`` holds a sentence-transformers model that this module runs like the original.

    That is: a BERT encoder (absolute positions, exact GELU) in model.safetensors with a BERT
    tokenizer.json, followed by mean or CLS pooling and optionally Normalize, and no default prompt.
    """
    folder = Path(folder)
    try:
        config = _read_json(folder / "config.json")
        modules = _read_json(folder / "modules.json")
        settings = _read_json(folder / "config_sentence_transformers.json", missing={})
        transformer = _read_json(folder / "sentence_bert_config.json", missing={})
        tokenizer = _read_json(folder / "tokenizer.json")
        tokenizer_settings = _read_json(folder / "tokenizer_config.json", missing={})
        kinds = tuple(m["type"].rsplit(".", 1)[-1] for m in modules)
        if kinds not in (_MODULES[:2], _MODULES) or modules[0]["path"] not in ("", "."):
            return False
        _pooling_mode(_read_json(folder / modules[1]["path"] / "config.json"))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return False
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and not settings.get("default_prompt_name")
        and transformer.get("transformer_task", "feature-extraction") == "feature-extraction"
        and _is_bert_tokenizer(tokenizer, tokenizer_settings)
        and _has_float_weights(folder / "model.safetensors")
    )


class _Layer(NamedTuple):
    qkv: np.ndarray  # (hidden, 3 * hidden), query part pre-scaled by 1/sqrt(head size)
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


class QuestionEncoder:
    """A BERT sentence-transformers folder run in numpy on the CPU; check it with :func:`supports` first.

    Vectors are always unit length, with or without a Normalize module: qa compares by inner product.

    Example:
        >>> encoder = QuestionEncoder(folder)
        >>> encoder.encode(["Who makes the MK-20?"]).shape
        (1, 384)
    """

    def __init__(self, folder: str | Path) -> None:
        from safetensors.numpy import load_file
        from threadpoolctl import ThreadpoolController
        from tokenizers import Tokenizer, normalizers

        folder = Path(folder)
        config = _read_json(folder / "config.json")
        modules = _read_json(folder / "modules.json")
        transformer = _read_json(folder / "sentence_bert_config.json", missing={})
        tokenizer_config = _read_json(folder / "tokenizer_config.json", missing={})
        self._pooling = _pooling_mode(_read_json(folder / modules[1]["path"] / "config.json"))

        # sentence-transformers' own limit wins over the tokenizer's; the position table caps both.
        positions = config["max_position_embeddings"]
        limit = transformer.get("max_seq_length") or tokenizer_config.get("model_max_length") or positions
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(min(int(limit), positions))
        if transformer.get("do_lower_case"):
            current = self._tokenizer.normalizer
            self._tokenizer.normalizer = normalizers.Sequence(
                [normalizers.Lowercase(), *([current] if current else [])]
            )

        weights = load_file(str(folder / "model.safetensors"))
        prefix = "" if "embeddings.word_embeddings.weight" in weights else "bert."

        def get(name: str) -> np.ndarray:
            return weights[prefix + name].astype(np.float32, copy=False)

        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._heads = int(config["num_attention_heads"])
        self._hidden = int(config["hidden_size"])
        scale = np.float32(1 / math.sqrt(self._hidden // self._heads))
        self._words = get("embeddings.word_embeddings.weight")
        self._positions = get("embeddings.position_embeddings.weight")
        self._types = get("embeddings.token_type_embeddings.weight")
        self._norm = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self._layers = [_layer_weights(get, f"encoder.layer.{i}.", scale) for i in range(config["num_hidden_layers"])]
        # A question's matrices are small: BLAS threads only add start-up and, when the cores are
        # busy, waiting (one encode at load 5 on 2 cores: 10-14 ms on one thread, ~420 ms on two).
        self._one_blas_thread = ThreadpoolController().select(user_api="blas")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text; texts are padded to the longest and masked."""
        if not texts:
            return np.zeros((0, self._hidden), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros((len(encodings), length), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            types[row, : len(encoding.ids)] = encoding.type_ids
            mask[row, : len(encoding.ids)] = 1.0

        x = self._words[ids] + self._positions[:length] + self._types[types]
        x = self._layer_norm(x, self._norm)
        padding = ((1.0 - mask) * _MASKED)[:, None, None, :]
        with self._one_blas_thread.limit(limits=1):
            for layer in self._layers:
                x = self._layer(x, layer, padding)

        if self._pooling == "cls":
            pooled = x[:, 0]
        else:
            pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _layer(self, x: np.ndarray, layer: _Layer, padding: np.ndarray) -> np.ndarray:
        batch, length, hidden = x.shape
        heads = (x @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, self._heads, hidden // self._heads)
        query, key, value = heads.transpose(2, 0, 3, 1, 4)  # each (batch, heads, length, head size)
        scores = query @ key.transpose(0, 1, 3, 2) + padding
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = self._layer_norm(x + context @ layer.out + layer.out_bias, layer.norm1)
        return self._layer_norm(x + _gelu(x @ layer.up + layer.up_bias) @ layer.down + layer.down_bias, layer.norm2)

    def _layer_norm(self, x: np.ndarray, weights: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        centred = x - x.mean(axis=-1, keepdims=True)
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / np.sqrt(variance + np.float32(self._eps)) * weights[0] + weights[1]


def _layer_weights(get: Callable[[str], np.ndarray], prefix: str, scale: np.float32) -> _Layer:
    def w(name: str) -> np.ndarray:
        return get(prefix + name)

    return _Layer(
        qkv=np.concatenate([w("attention.self.query.weight") * scale, w("attention.self.key.weight"),
                            w("attention.self.value.weight")]).T.copy(),
        qkv_bias=np.concatenate([w("attention.self.query.bias") * scale, w("attention.self.key.bias"),
                                 w("attention.self.value.bias")]),
        # Stored (in, out) and contiguous: a transposed view multiplied ~20% slower (23 tokens by the
        # feed-forward's first matrix: 0.80 vs 0.63 ms on one core).
        out=w("attention.output.dense.weight").T.copy(), out_bias=w("attention.output.dense.bias"),
        norm1=(w("attention.output.LayerNorm.weight"), w("attention.output.LayerNorm.bias")),
        up=w("intermediate.dense.weight").T.copy(), up_bias=w("intermediate.dense.bias"),
        down=w("output.dense.weight").T.copy(), down_bias=w("output.dense.bias"),
        norm2=(w("output.LayerNorm.weight"), w("output.LayerNorm.bias")),
    )


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x), with erf from Abramowitz & Stegun 7.1.26.

    numpy has no erf; scipy.special takes ~0.5 s to import and math.erf per element is ~15x slower.
    The formula's error (< 1.5e-7, ~5e-7 evaluated in fp32) is at fp32 rounding level.
    """
    z = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = ((((np.float32(1.061405429) * t - np.float32(1.453152027)) * t + np.float32(1.421413741)) * t
             - np.float32(0.284496736)) * t + np.float32(0.254829592)) * t
    erf = np.copysign(1 - poly * np.exp(-z * z), x)
    return np.float32(0.5) * x * (1 + erf)


def _pooling_mode(config: dict) -> str:
    """The one pooling mode of a Pooling config: today's ``pooling_mode`` or the older ``pooling_mode_*`` flags."""
    modes = config.get("pooling_mode") or [key for key, on in config.items() if key.startswith("pooling_mode_") and on]
    modes = [_LEGACY_POOLING_KEYS.get(mode, mode) for mode in ([modes] if isinstance(modes, str) else modes)]
    if len(modes) != 1 or modes[0] not in POOLING_MODES:
        raise ValueError(f"Unsupported pooling {modes}")
    return modes[0]


def _is_bert_tokenizer(tokenizer: dict, settings: dict) -> bool:
    # transformers' BERT tokenizer rebuilds its normaliser from tokenizer_config.json, so
    # tokenizer.json alone tokenises the same only where the two files agree.
    normalizer = tokenizer.get("normalizer") or {}
    return (
        settings.get("tokenizer_class", "BertTokenizer") in ("BertTokenizer", "BertTokenizerFast")
        and tokenizer["model"]["type"] == "WordPiece"
        and normalizer.get("type") == "BertNormalizer"
        and normalizer.get("lowercase") == settings.get("do_lower_case", True)
        and normalizer.get("strip_accents") == settings.get("strip_accents")
        and normalizer.get("handle_chinese_chars") == settings.get("tokenize_chinese_chars", True)
    )


def _has_float_weights(path: Path) -> bool:
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as weights:
        names = set(weights.keys())
        if not names & {"embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight"}:
            return False
        return all(weights.get_slice(name).get_dtype() in _FLOAT_DTYPES
                   for name in names if name.endswith((".weight", ".bias")))


def _read_json(path: Path, *, missing: dict | None = None) -> dict | list:
    if missing is not None and not path.is_file():
        return missing
    with open(path, encoding="utf-8") as file:
        return json.load(file)
