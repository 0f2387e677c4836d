"""OpenVINO on the locally exported ONNX model (optional: ``pip install openvino``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embeddings.backends.base import threads
from embeddings.backends.onnx_export import onnx_path
from embeddings.errors import ModelError
from embeddings.model_files import ModelFiles
from embeddings.tokenizer import Tokenizer


class OpenVinoBackend:
    """fp32 inference with OpenVINO's CPU plugin (int8 brings nothing on CPUs without VNNI)."""

    def __init__(self, files: ModelFiles, *, weights_sha256: str, max_tokens: int) -> None:
        try:
            import openvino as ov
        except ModuleNotFoundError:
            raise ModelError("OpenVINO is not installed: `pip install openvino`, or use another "
                             "--backend") from None
        import threading

        self.name = "openvino-fp32"
        self.tokenizer = Tokenizer(files, max_tokens)
        config: dict[str, str | int] = {"PERFORMANCE_HINT": "LATENCY",
                                        "INFERENCE_PRECISION_HINT": "f32"}
        if threads():
            config["INFERENCE_NUM_THREADS"] = threads()
        core = ov.Core()
        self.compiled = core.compile_model(
            core.read_model(str(onnx_path(files, weights_sha256, "raw"))), "CPU", config)
        self.inputs = [i.get_any_name() for i in self.compiled.inputs]
        self._local = threading.local()  # an infer request per thread
        self.dim = int(self.embed(["dimension probe"]).shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        feed = self.tokenizer.encode(texts)
        result = request.infer({n: feed[n] for n in self.inputs})
        return np.array(result[self.compiled.outputs[0]], dtype=np.float32)
