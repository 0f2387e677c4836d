"""Ways to run an embedding model. Each backend turns a batch of texts into float vectors (not
necessarily normalised); :class:`embeddings.encoder.Encoder` does batching and normalisation."""

from __future__ import annotations

from embeddings.backends.base import Backend, threads
from embeddings.errors import ModelError
from embeddings.model_files import ModelFiles

# Every backend name; aliases map short spellings onto them.
BACKENDS = ["onnx-int8", "onnx-fp32", "openvino-int8", "openvino-fp32", "torch-fp32",
            "torch-bf16"]
ALIASES = {"torch": "torch-fp32", "onnx": "onnx-fp32", "int8": "onnx-int8",
           "openvino": "openvino-fp32", "bf16": "torch-bf16"}
DEFAULT_BACKEND = "onnx-int8"  # the bundled model on any CPU; embeddings.cpu picks per CPU class
OTHER_MODELS_BACKEND = "onnx-fp32"  # int8 accuracy is only verified for the bundled model

__all__ = ["ALIASES", "BACKENDS", "DEFAULT_BACKEND", "OTHER_MODELS_BACKEND", "Backend",
           "check_backend", "create_backend", "threads"]


def check_backend(name: str) -> str:
    """The canonical backend name for ``name``, or :class:`ModelError` listing the choices."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in BACKENDS:
        raise ModelError(f"unknown embedding backend {name!r}: choose one of {', '.join(BACKENDS)}")
    return key


# Texts per forward pass by backend kind, where not 32 (Encoder.batch_size). OpenVINO: 16 encodes
# news passages as fast as 32 (117.9 and 120.8 against 115.8 and 117.0 passages/s, alternating;
# 8: 122), and the state it keeps per input shape grows with the rows: after 2,048 passages a
# process holds 310 MB against 352 (8: 291).
BATCH_SIZES = {"openvino": 16}


# Backend kinds that can start a forward pass and return at once (prepare_tokens, launch_tokens):
# the only ones Encoder.encode_passages feeds the chunker's kept word pieces to.
PIPELINED = {"openvino"}


def pipelined(name: str) -> bool:
    """Whether backend ``name`` takes word pieces put together (:meth:`Tokenizer.join`)."""
    return name.partition("-")[0] in PIPELINED


def batch_size(name: str) -> int:
    """The batch size backend ``name`` (canonical) works best with."""
    return BATCH_SIZES.get(name.partition("-")[0], 32)


def create_backend(name: str, files: ModelFiles, *, weights_sha256: str, max_tokens: int
                   ) -> Backend:
    """Load backend ``name`` (canonical) for the model in ``files``."""
    kind, _, dtype = name.partition("-")
    if kind == "torch":
        from embeddings.backends.torch_backend import TorchBackend

        return TorchBackend(files, dtype=dtype)
    if kind == "onnx":
        from embeddings.backends.onnx_backend import OnnxBackend

        return OnnxBackend(files, variant=dtype, weights_sha256=weights_sha256,
                           max_tokens=max_tokens)
    if kind == "openvino":
        from embeddings.backends.openvino_backend import OpenVinoBackend

        return OpenVinoBackend(files, weights_sha256=weights_sha256, max_tokens=max_tokens,
                               variant=dtype)
    raise ModelError(f"embedding backend {name!r} is not available in this build: "
                     "use --backend torch-fp32")
