"""sentence-transformers on torch, fp32 (the reference) or bf16 weights."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from embeddings.errors import ModelError
from embeddings.model_files import ModelFiles


class TorchBackend:
    """Runs the model's full sentence-transformers pipeline (tokenize, transformer, pooling...)."""

    def __init__(self, files: ModelFiles, *, dtype: str = "fp32", attn: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.disable_progress_bar()
        transformers.logging.set_verbosity_error()
        from embeddings.backends import threads

        if threads():
            torch.set_num_threads(threads())
        self.name = f"torch-{dtype}"
        self._torch = torch
        kwargs = {"model_kwargs": {"attn_implementation": attn}} if attn else {}
        try:
            model = SentenceTransformer(str(files.path), device="cpu", local_files_only=True,
                                        **kwargs)
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
        self.dim = int(get_dim())
        self.max_tokens = int(model.max_seq_length)
        self._tokenize = getattr(model, "preprocess", None) or model.tokenize

    def tokenize(self, texts: Sequence[str]) -> dict:
        """The model's own features (torch tensors) for ``texts``."""
        return self._tokenize(list(texts))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        features = self.tokenize(texts)
        with self._torch.inference_mode():
            out = self.model(features)["sentence_embedding"]
        return out.float().numpy()
