"""Texts -> vectors with ONNX Runtime, for BERT-type sentence-transformers model folders.

Tokenising (the folder's tokenizer.json), pooling and normalising happen here in numpy; the
transformer runs in ONNX Runtime from the files :mod:`qa.embed.onnx_export` makes. No torch import
once those files exist: a cold `qa ask` starts in about a second, and a batch of sentences
embeds faster than in PyTorch (benchmarks/bench_runtimes.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.embed.onnx_export import WEIGHT_FILES, onnx_file
from qa.progress import progress_bar

POOLING_MODES = ("mean", "cls")
_MODULES = ("Transformer", "Pooling", "Normalize")
_LEGACY_POOLING_KEYS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}


def supports(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a sentence-transformers model that this module runs like the original.

    That is: a BERT encoder (weights in model.safetensors or pytorch_model.bin) with a BERT
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
        return (
            config.get("model_type") == "bert"
            and not settings.get("default_prompt_name")
            and transformer.get("transformer_task", "feature-extraction") == "feature-extraction"
            and _is_bert_tokenizer(tokenizer, tokenizer_settings)
            and any((folder / name).is_file() for name in WEIGHT_FILES)
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return False


class OnnxEncoder:
    """A BERT sentence-transformers folder run by ONNX Runtime on the CPU; check it with :func:`supports` first.

    ``runtime`` is ``onnx`` (fp32) or ``onnx-int8``; ``threads`` caps ONNX Runtime's threads
    (None: one per core). Vectors are always unit length: qa compares by inner product.

    Example:
        >>> encoder = OnnxEncoder(folder, "onnx-int8")
        >>> encoder.encode(["Who makes the MK-20?"]).shape
        (1, 384)
    """

    def __init__(self, folder: str | os.PathLike, runtime: str, *, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer, normalizers

        folder = Path(folder)
        config = _read_json(folder / "config.json")
        modules = _read_json(folder / "modules.json")
        transformer = _read_json(folder / "sentence_bert_config.json", missing={})
        tokenizer_config = _read_json(folder / "tokenizer_config.json", missing={})
        self._pooling = _pooling_mode(_read_json(folder / modules[1]["path"] / "config.json"))
        self.dimension = int(config["hidden_size"])

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

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: the library prints nothing of its own accord
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # A waiting thread that spins takes a core from whatever else the machine runs.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(onnx_file(folder, runtime)), options,
                                                     providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text.

        Texts are tokenised first and go in order of their token count, in batches of at most
        ``batch_size`` texts and :data:`BATCH_TOKENS` tokens (padding included), each padded to
        its longest and masked.
        """
        output = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        batches = token_batches([len(e.ids) for e in encodings], batch_size, BATCH_TOKENS)
        for rows in progress_bar(batches, progress and len(batches) > 1, desc="Embedding", unit="batch"):
            output[rows] = self._encode_batch([encodings[i] for i in rows])
        return output

    def _encode_batch(self, encodings: list) -> np.ndarray:
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            types[row, : len(encoding.ids)] = encoding.type_ids
            mask[row, : len(encoding.ids)] = 1
        (states,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        if self._pooling == "cls":
            pooled = states[:, 0]
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


BATCH_TOKENS = 256
"""Tokens in a batch, padding included. Small batches of texts of one length embed fastest on a
CPU: 1.7x the sentences per second of batches of 64 texts sorted by characters, on 2 cores
(benchmarks/README.md)."""


def token_batches(lengths: Sequence[int], most_texts: int, most_tokens: int) -> list[np.ndarray]:
    """Indexes of ``lengths`` in batches, shortest first: each batch at most ``most_texts`` long and,
    padded to its longest, at most ``most_tokens`` tokens (or one text, when that alone is more)."""
    order = np.argsort(lengths, kind="stable")
    batches, start = [], 0
    while start < len(order):
        end = start + 1
        while (end < len(order) and end - start < most_texts
               and (end - start + 1) * lengths[order[end]] <= most_tokens):
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


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


def _read_json(path: Path, *, missing: dict | None = None) -> dict | list:
    if missing is not None and not path.is_file():
        return missing
    with open(path, encoding="utf-8") as file:
        return json.load(file)
