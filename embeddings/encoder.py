"""The text encoder: texts in, float32 L2-normalised vectors out.

``load_encoder()`` is cheap: it finds the model, checks its weights' hash (once, then cached) and
reads its dimension from the config files. The runtime (onnxruntime, torch...) loads on the first
``encode`` or on ``warm_up()``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from embeddings.backends import OTHER_MODELS_BACKEND, check_backend, create_backend
from embeddings.backends.base import Backend
from embeddings.errors import ModelError
from embeddings.model_files import ModelFiles, resolve_model, weights_sha256
from embeddings.tokenizer import Tokenizer, max_tokens_of

log = logging.getLogger(__name__)

_SIMPLE_MODULES = {"Transformer", "Pooling", "Normalize"}


def load_encoder(model: str | None = None, backend: str | None = None) -> Encoder:
    """The encoder for ``model`` (name or folder; default ``$QA_MODEL``, else the bundled
    all-MiniLM-L6-v2) run by ``backend`` (default ``$QA_BACKEND``, else the one measured fastest
    on this CPU's class, see :mod:`embeddings.cpu`). ``encoder.backend_reason`` says why.
    """
    files = resolve_model(model)
    requested = backend or os.environ.get("QA_BACKEND") or None
    if requested:
        name = check_backend(requested)
        why = "chosen with --backend" if backend else "chosen with QA_BACKEND"
    elif files.bundled:
        from embeddings.cpu import best_backend

        name, why = best_backend()
    else:
        name, why = OTHER_MODELS_BACKEND, "int8 accuracy is only checked for the bundled model"
    encoder = Encoder(files, name, explicit=requested is not None)
    encoder.backend_reason = why
    return encoder


class Encoder:
    """Encodes texts with one model and one backend. Safe to share between threads."""

    def __init__(self, files: ModelFiles, backend: str, *, explicit: bool = False) -> None:
        self.files = files
        self.name = files.name
        self.backend = backend
        self.weights_sha256 = weights_sha256(files)
        self.max_tokens = max_tokens_of(files)
        self._explicit = explicit
        self._runtime: Backend | None = None
        self._lock = threading.Lock()
        self._tokenizer: Tokenizer | None = None
        self._dim = _static_dim(files.path)
        self.backend_reason = ""  # why this backend (set by load_encoder)

    def __repr__(self) -> str:
        return f"Encoder(name={self.name!r}, backend={self.backend!r})"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = self._load().dim
        return self._dim

    @property
    def loaded(self) -> bool:
        return self._runtime is not None

    def warm_up(self) -> None:
        """Load the runtime now (e.g. in a UI worker) instead of on the first ``encode``."""
        self._load()

    def _load(self) -> Backend:
        with self._lock:
            if self._runtime is None:
                self._runtime = self._create()
                if self._dim is not None and self._runtime.dim != self._dim:
                    raise ModelError(f"model {self.name} gives {self._runtime.dim}-dim vectors but "
                                     f"its config says {self._dim}: check the model folder")
                self._dim = self._runtime.dim
            return self._runtime

    def _create(self) -> Backend:
        def create() -> Backend:
            return create_backend(self.backend, self.files, weights_sha256=self.weights_sha256,
                                  max_tokens=self.max_tokens)

        try:
            return create()
        except ModelError as exc:
            if self._explicit or self.backend == "torch-fp32":
                raise
            log.warning("%s; falling back to torch-fp32 for %s", exc, self.name)
            self.backend = "torch-fp32"
            self.backend_reason = f"{self.backend_reason}; fell back: {exc}"
            return create()

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """``(len(texts), dim)`` float32, L2-normalised. Texts longer than ``max_tokens`` are
        truncated. ``progress(n)`` is called after each batch with the batch's size."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts; use encode_query() for one")
        runtime = self._load()
        out = np.empty((len(texts), runtime.dim), dtype=np.float32)
        if not len(texts):
            return out
        batch_size = max(1, int(batch_size))
        # Longest first, so each batch pads to similar lengths; results go back in input order.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            vecs = np.asarray(runtime.embed([texts[i] for i in idx]), dtype=np.float32)
            out[idx] = vecs
            if progress is not None:
                progress(len(idx))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.maximum(norms, 1e-12)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One text as a ``(dim,)`` float32 normalised vector."""
        vector: np.ndarray = self.encode([text], batch_size=1)[0]
        return vector

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, special tokens included (not truncated). Tokenizer only."""
        if self._tokenizer is None:
            self._tokenizer = Tokenizer(self.files, self.max_tokens)
        return self._tokenizer.count(list(texts))


def _static_dim(folder: Path) -> int | None:
    """The output dimension from config files, for the usual Transformer+Pooling(+Normalize)
    layout; ``None`` when only loading the model can tell."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = {m["type"].rsplit(".", 1)[-1]: m.get("path", "") for m in modules}
        if not set(kinds) <= _SIMPLE_MODULES or "Pooling" not in kinds:
            return None
        pooling = json.loads((folder / kinds["Pooling"] / "config.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v is True]
    dim = pooling.get("word_embedding_dimension")
    return int(dim) if len(modes) == 1 and isinstance(dim, int) else None
