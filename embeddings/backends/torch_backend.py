"""sentence-transformers on torch, fp32 (the reference) or bf16 weights."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from embeddings.backends.base import threads
from embeddings.errors import ModelError
from embeddings.model_files import ModelFiles
from embeddings.tokenizer import Tokenizer


class TorchBackend:
    """Runs the model's full sentence-transformers pipeline (tokenize, transformer, pooling...)."""

    def __init__(self, files: ModelFiles, *, dtype: str = "fp32", attn: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        if threads():
            torch.set_num_threads(threads())
        self.name = f"torch-{dtype}"
        self._torch = torch
        model_kwargs = {"attn_implementation": attn} if attn else None
        try:
            model = SentenceTransformer(str(files.path), device="cpu", local_files_only=True,
                                        model_kwargs=model_kwargs)
        except Exception as exc:
            raise ModelError(f"cannot load the embedding model from {files.path} "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}): "
                             "reinstall or re-download it") from None
        if dtype == "bf16":
            model = model.to(torch.bfloat16)
        model.eval()
        self.model = model
        get_dim = getattr(model, "get_embedding_dimension", None) or \
            model.get_sentence_embedding_dimension
        dim, max_tokens = get_dim(), model.max_seq_length
        if dim is None or max_tokens is None:
            raise ModelError(f"the embedding model in {files.path} does not say its dimension "
                             "or input limit: check its sentence-transformers config")
        self.dim, self.max_tokens = int(dim), int(max_tokens)
        self._tokenize = getattr(model, "preprocess", None) or model.tokenize
        self.files = files
        self._tokenizer: Tokenizer | None = None

    def tokenize(self, texts: Sequence[str]) -> dict[str, Any]:
        """The model's own features (torch tensors) for ``texts``."""
        features: dict[str, Any] = self._tokenize(list(texts))
        return features

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        features = self.tokenize(texts)
        with self._torch.inference_mode():
            out = self.model(features)["sentence_embedding"]
        vectors: np.ndarray = out.float().numpy()
        return vectors

    def embed_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`OnnxBackend.embed_tokens`: pooled, token vectors and their offsets."""
        if self._tokenizer is None:
            self._tokenizer = Tokenizer(self.files, self.max_tokens)
        feed = self._tokenizer.encode(texts, offsets=True)
        features = {k: self._torch.from_numpy(v) for k, v in feed.items() if k != "offsets"}
        with self._torch.inference_mode():
            out = self.model(features)
        return (out["sentence_embedding"].float().numpy(), out["token_embeddings"].float().numpy(),
                feed["offsets"])
