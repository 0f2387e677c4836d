"""OpenVINO on the locally exported model: ``openvino-fp32`` reads the ONNX export,
``openvino-int8`` the statically quantized model (:mod:`embeddings.backends.openvino_export`),
the fastest on CPUs with int8 dot products (VNNI, AMX)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.backends.base import openvino_config
from embeddings.backends.onnx_export import onnx_path
from embeddings.errors import ModelError
from embeddings.model_files import ModelFiles
from embeddings.tokenizer import Tokenizer

BUCKET = 16  # word pieces: inputs are padded (masked) to a multiple of this


class OpenVinoBackend:
    """Inference with OpenVINO's CPU plugin; the graph includes pooling and gives the word-piece
    vectors too (late-chunked sentence vectors)."""

    def __init__(self, files: ModelFiles, *, weights_sha256: str, max_tokens: int,
                 variant: str = "fp32") -> None:
        try:
            import openvino as ov
        except ModuleNotFoundError:
            raise ModelError("OpenVINO is not installed: `pip install openvino`, or use "
                             "--backend onnx-int8") from None
        if variant not in ("fp32", "int8"):
            raise ModelError(f"unknown OpenVINO variant {variant!r}")
        self.name = f"openvino-{variant}"
        self.tokenizer = Tokenizer(files, max_tokens)
        config = openvino_config(exact=variant == "fp32")
        core = ov.Core()
        for attempt in (1, 2):
            path = self._source(files, weights_sha256, max_tokens, variant)
            # OpenVINO keeps the compiled model beside the source: later starts skip compiling
            config["CACHE_DIR"] = str(path.parent / "compiled")
            try:
                self.compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
                break
            except Exception as exc:  # a damaged cache file: made again, once
                if variant == "int8" and attempt == 1:
                    for damaged in (path, path.with_suffix(".bin")):
                        damaged.unlink(missing_ok=True)
                    continue
                raise ModelError(f"cannot load the OpenVINO model {path} "
                                 f"({type(exc).__name__}): delete it to rebuild it, or use "
                                 "--backend onnx-int8") from None
        self.inputs = [i.get_any_name() for i in self.compiled.inputs]
        outputs = [o.get_any_name() for o in self.compiled.outputs]
        self._pooled = self.compiled.outputs[0]
        self._tokens = (self.compiled.outputs[outputs.index("token_embeddings")]
                        if "token_embeddings" in outputs else None)
        self._local = threading.local()  # an infer request per thread
        self.dim = int(self.embed(["dimension probe"]).shape[1])

    @staticmethod
    def _source(files: ModelFiles, weights_sha256: str, max_tokens: int, variant: str) -> Path:
        if variant == "fp32":
            return onnx_path(files, weights_sha256, "raw")
        from embeddings.backends.openvino_export import ir_path

        return ir_path(files, weights_sha256, max_tokens)

    def _request(self) -> Any:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        return request

    def _inputs(self, feed: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int, int]:
        """The model's inputs from ``feed``, padded (masked) to a power-of-two number of texts
        and a multiple of :data:`BUCKET` word pieces; and the real ``(texts, length)``.

        OpenVINO keeps state for every input shape it has seen. Indexing news (any length
        from 20 to 256, and every batch size up to 32 at the ends of chunks) grew the process
        past 1.7 GB on shapes alone; in buckets it stays near 0.6 GB (at most 6 x 16 shapes)."""
        rows, length = (int(n) for n in feed["input_ids"].shape)
        more_rows = (1 << (rows - 1).bit_length()) - rows if rows else 0
        more_tokens = -length % BUCKET
        inputs = {n: np.pad(feed[n], ((0, more_rows), (0, more_tokens)))
                  if more_rows or more_tokens else feed[n] for n in self.inputs}
        return inputs, rows, length

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        inputs, rows, _ = self._inputs(self.tokenizer.encode(texts))
        result = self._request().infer(inputs)
        return np.array(result[self._pooled][:rows], dtype=np.float32)

    def embed_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(pooled (n, dim), token vectors (n, tokens, dim), offsets (n, tokens, 2))`` from
        one forward pass (see :meth:`Tokenizer.encode` for the offsets)."""
        return self.launch_tokens(self.prepare_tokens(texts))()

    # -- a pass started, the caller working meanwhile (Encoder.encode_passages) -------------
    def prepare_tokens(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        if self._tokens is None:
            raise ModelError("this OpenVINO model gives no token vectors")
        return self.tokenizer.encode(texts, offsets=True)

    def launch_tokens(self, feed: dict[str, np.ndarray]
                      ) -> Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Start the forward pass of a prepared batch; the function returned waits for it and
        gives what :meth:`embed_tokens` gives (copied out: the request can run again)."""
        inputs, rows, length = self._inputs(feed)
        request = self._request()
        request.start_async(inputs)

        def wait() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            request.wait()
            return (np.array(request.get_tensor(self._pooled).data[:rows], dtype=np.float32),
                    np.array(request.get_tensor(self._tokens).data[:rows, :length],
                             dtype=np.float32), feed["offsets"])

        return wait
