"""onnxruntime on a locally exported model: no torch at run time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embeddings.backends.base import threads
from embeddings.backends.onnx_export import discard, onnx_path
from embeddings.errors import ModelError
from embeddings.model_files import ModelFiles
from embeddings.tokenizer import Tokenizer


class OnnxBackend:
    """Tokenizes with ``tokenizers`` and runs the ONNX graph, which includes pooling."""

    def __init__(self, files: ModelFiles, *, variant: str, weights_sha256: str,
                 max_tokens: int) -> None:
        try:
            import onnxruntime as ort
        except ModuleNotFoundError:
            raise ModelError("onnxruntime is not installed: `pip install onnxruntime`, or use "
                             "--backend torch-fp32") from None
        self.name = f"onnx-{variant}"
        self.tokenizer = Tokenizer(files, max_tokens)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads()
        for attempt in (1, 2):
            path = onnx_path(files, weights_sha256, variant)
            try:
                self.session = ort.InferenceSession(str(path), options,
                                                    providers=["CPUExecutionProvider"])
                break
            except Exception as exc:  # a damaged cache file: export it again, once
                discard(path)
                if attempt == 2:
                    raise ModelError(f"cannot load the ONNX model {path} ({exc}): use "
                                     "--backend torch-fp32") from None
        self.inputs = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        self.output = outputs[0]
        self.tokens_output = "token_embeddings" if "token_embeddings" in outputs else None
        self.dim = int(self.embed(["dimension probe"]).shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        feed = self.tokenizer.encode(texts)
        out: np.ndarray = self.session.run([self.output], {n: feed[n] for n in self.inputs})[0]
        return out

    def embed_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(pooled (n, dim), token vectors (n, tokens, dim), offsets (n, tokens, 2))`` from
        one forward pass (see :meth:`Tokenizer.encode` for the offsets)."""
        if self.tokens_output is None:
            raise ModelError("this ONNX export gives no token vectors")
        feed = self.tokenizer.encode(texts, offsets=True)
        pooled, tokens = self.session.run([self.output, self.tokens_output],
                                          {n: feed[n] for n in self.inputs})
        return np.asarray(pooled), np.asarray(tokens), feed["offsets"]
