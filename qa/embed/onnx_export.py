"""The ONNX files that ONNX Runtime embeds with (fp32 and int8), made once per model folder and cached.

qa runs torch's exporter and ONNX Runtime's optimiser and quantiser itself: sentence-transformers'
``backend="onnx"`` needs optimum-onnx, which does not work with its transformers 5. Nothing is
downloaded. The files go to ``$QA_CACHE_DIR`` (else ``$XDG_CACHE_HOME/qa``, else ``~/.cache/qa``)
under ``onnx/<digest>/``, a digest of the model's config and weight files and of the export's
version (``qa.format_history``); a missing file is made on first use (10-20 s; it imports torch).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from qa.config import cache_dir
from qa.format_history import REEXPORT, version

logger = logging.getLogger(__name__)

ONNX_FILES = {"onnx": "model-fp32.onnx", "onnx-int8": "model-int8.onnx"}
"""The file each ONNX runtime loads."""
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
EXPORT_SIZE, EXPORT_TIME = "about 150 MB", "10-40 s"
"""What preparing the bundled model takes, as the first run says: its two ONNX files (fp32, int8) held
142 MB; it took 9 s on an idle 2-core machine and 35 s on a busy one."""
_OPSET = 17
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_folder(model_folder: str | os.PathLike) -> Path:
    """The cache folder of this model folder's exports (it may not exist yet).

    Named by a digest of the model's config.json and weight files (size and modification time),
    so copies of a folder that share its weights share its export.
    """
    folder = Path(model_folder)
    digest = hashlib.sha256(f"{version(REEXPORT)}".encode())
    digest.update((folder / "config.json").read_bytes())
    for name in WEIGHT_FILES:
        path = folder / name
        if path.is_file():
            stat = path.stat()
            digest.update(f"\0{name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return Path(cache_dir()) / "onnx" / digest.hexdigest()[:24]


def onnx_file(model_folder: str | os.PathLike, runtime: str) -> Path:
    """The ONNX file of ``runtime`` for this model folder, exported first if it is not in the cache."""
    path = export_folder(model_folder) / ONNX_FILES[runtime]
    if not path.is_file():
        from qa.embed.quiet import model_unavailable

        started = time.perf_counter()
        try:
            build(Path(model_folder), path.parent)
        except Exception as err:  # transformers and torch raise many kinds for a folder they can't load
            raise model_unavailable(str(model_folder), err) from err
        logger.info("The model is prepared (%.0f s).", time.perf_counter() - started)
    return path


def build(model_folder: Path, target: Path) -> None:
    """Write every file of :data:`ONNX_FILES` for ``model_folder`` into ``target``.

    Each file is written under a temporary name and renamed into place, so a reader never sees
    half a file and two processes building at once both end with whole files.
    """
    model = _load(model_folder)  # a folder that can't be loaded fails here, before anything is said
    # Said at INFO on this module's logger, which the CLI shows even without -v: it takes a while, once.
    logger.info("Preparing the model for ONNX Runtime, once: %s, %s written to %s. Later runs skip this.",
                EXPORT_TIME, EXPORT_SIZE, target)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".export-") as work:
        plain = Path(work) / "plain.onnx"
        hidden, heads = _export(model, plain)
        fused = Path(work) / ONNX_FILES["onnx"]
        quantised = Path(work) / ONNX_FILES["onnx-int8"]
        with _root_logger_kept():
            _optimise(plain, fused, hidden, heads)
            _quantise(fused, quantised)
        for path in (fused, quantised):
            os.replace(path, target / path.name)


@contextlib.contextmanager
def _root_logger_kept() -> Iterator[None]:
    """Run ONNX Runtime's tools without their root-logger output, and undo the handler that adds.

    They log advisories with ``logging.warning``, which configures the root logger when it has
    no handler: every library's messages would then reach stderr.
    """
    root = logging.getLogger()
    handlers, level, disabled = root.handlers[:], root.level, logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(disabled)
        root.handlers[:] = handlers
        root.setLevel(level)


def _load(model_folder: Path):
    """The folder's transformer, in PyTorch, to export."""
    from transformers import AutoModel

    from qa.embed.quiet import quiet_model_loading

    with quiet_model_loading():
        # Eager attention traces to plain MatMul/Softmax, which ONNX Runtime fuses; SDPA does not.
        return AutoModel.from_pretrained(str(model_folder), attn_implementation="eager").eval()


def _export(model, path: Path) -> tuple[int, int]:
    """The transformer as ONNX (token ids in, last hidden state out); returns (hidden size, heads)."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    example = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer advisories about the Python branches in transformers
        torch.onnx.export(LastHiddenState(), (example, torch.ones_like(example), torch.zeros_like(example)),
                          str(path), input_names=list(_INPUTS), output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=_OPSET, dynamo=False)
    return int(model.config.hidden_size), int(model.config.num_attention_heads)


def _optimise(source: Path, target: Path, hidden: int, heads: int) -> None:
    """Fuse attention, GELU and layer norms (ONNX Runtime's transformer optimiser, BERT patterns)."""
    from onnxruntime.transformers.optimizer import optimize_model

    # opt_level 1 keeps the file portable; the session applies the machine-specific rest at load.
    optimized = optimize_model(str(source), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1)
    optimized.save_model_to_file(str(target))


def _quantise(source: Path, target: Path) -> None:
    """Dynamic int8: weights of MatMul and fused Attention in int8 per output channel, activations per batch."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), op_types_to_quantize=["MatMul", "Attention"],
                     weight_type=QuantType.QInt8, per_channel=True, reduce_range=False,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
