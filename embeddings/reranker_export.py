"""The answer re-ranker (:mod:`embeddings.reranker_model`) made fast for the CPU, once, into
the cache.

The merged cross-encoder (bundled weights plus the adapter) is exported to ONNX
(``<cache>/onnx/reranker-<adapter sha256[:16]>-raw-<RECIPE>.onnx``), then, by what the CPU does
best (:func:`embeddings.cpu.best_backend`, or ``$QA_BACKEND``):

- ``openvino``: statically quantized to int8 by NNCF on calibration pairs cut from the bundled
  samples, as the embedding model is (``<cache>/openvino/reranker-…-int8-<RECIPE>.xml``). On an
  AVX-512 VNNI Xeon it scores 8 pairs in about 30 ms, against 55 ms for onnxruntime.
- ``onnx``: onnxruntime's BERT fusions, then dynamic int8 quantization
  (``<cache>/onnx/reranker-…-int8-<RECIPE>.onnx``).

Each result is checked against the fp32 export before it is kept: the scores must correlate at
:data:`MIN_CORRELATION` and keep the order of the check pairs. Files are written under a file
lock, atomically, so racing processes wait for one another.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embeddings.errors import ModelError

log = logging.getLogger(__name__)

RECIPE = "r3"  # bump when the export or quantization recipe changes
MIN_CORRELATION = 0.98  # of the quantized scores to the fp32 export's, on the check pairs
BUCKET = 16             # OpenVINO: token counts padded to a multiple of this (fewer shapes)
# The first two pairs are an answer and a non-answer to one question: their order must survive.
CHECK_PAIRS = [
    ("How many soldiers were killed?", "At least 33 Turkish soldiers were killed on Thursday."),
    ("How many soldiers were killed?", "The talks will resume on Monday in Geneva."),
    ("Who leads NATO?", "NATO Secretary General Jens Stoltenberg urged calm."),
    ("Where is the UN headquartered?", "The meeting took place " + "far away " * 60),
]
_QUESTIONS = ["How many Turkish soldiers were killed in Idlib?", "What did NATO urge?",
              "Who called for a ceasefire?", "When did the talks start?",
              "Where did the air strike happen?", "Which country hosts the refugees?"]


class Scorer(Protocol):
    name: str

    def scores(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray: ...


def load_scorer(adapter: Path, folder: Path, backend: str | None = None) -> Scorer:
    """The fastest scorer this CPU runs (``backend``: "openvino" or "onnx"; default by CPU),
    building it first if it is not in the cache. OpenVINO that fails falls back to onnx."""
    if backend is None:
        from embeddings.cpu import best_backend

        backend = os.environ.get("QA_BACKEND") or best_backend()[0]
    digest = hashlib.sha256(adapter.read_bytes()).hexdigest()[:16]
    if backend.startswith("openvino"):
        try:
            return _OpenVino(_openvino_model(adapter, folder, digest), folder)
        except ModelError as exc:
            log.warning("the re-ranker runs on onnxruntime: %s", str(exc).splitlines()[0])
    return _Onnx(_onnx_model(adapter, folder, digest), folder)


# -- building -------------------------------------------------------------------------------
def _raw(adapter: Path, folder: Path, digest: str) -> Path:
    from embeddings.backends.onnx_export import _folder, built_once

    target = _folder() / f"reranker-{digest}-raw-{RECIPE}.onnx"
    return built_once(target, lambda: _export(adapter, folder, target), "export",
                      target.is_file)


def _export(adapter: Path, folder: Path, target: Path) -> None:
    import torch

    from embeddings.files import atomic_file
    from embeddings.reranker_model import PairModel

    log.warning("preparing the answer re-ranker (one time, about 30 s)")
    model = PairModel.from_bundled(folder, adapter=adapter)

    class Scores(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder, self.head = model.encoder, model.head

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled).squeeze(-1)

    x = model.encode([q for q, _ in CHECK_PAIRS[:2]], [s for _, s in CHECK_PAIRS[:2]])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with atomic_file(target, suffix=".onnx") as tmp, warnings.catch_warnings(), \
            torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Scores().eval(), tuple(x[n] for n in names), str(tmp),
                          input_names=names, output_names=["score"],
                          dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                        "score": {0: "batch"}},
                          opset_version=17, dynamo=False)


def _onnx_model(adapter: Path, folder: Path, digest: str) -> Path:
    from embeddings.backends.onnx_export import _folder, built_once

    target = _folder() / f"reranker-{digest}-int8-{RECIPE}.onnx"

    def build() -> None:
        from embeddings.backends.onnx_export import _atomic, _quantize

        raw = _raw(adapter, folder, digest)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            fused = Path(tmp) / "fused.onnx"
            _fuse(raw, fused, folder)
            _atomic(target, lambda out: _quantize(fused, out))
        try:
            _check(_Onnx(raw, folder), _Onnx(target, folder), folder)
        except ModelError:
            target.unlink(missing_ok=True)
            raise

    return built_once(target, build, "quantize", target.is_file)


def _fuse(raw: Path, dest: Path, folder: Path) -> None:
    """onnxruntime's transformer fusions (attention, layer norm, GELU) for BERT."""
    import json

    from onnxruntime.transformers import optimizer

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    model = optimizer.optimize_model(str(raw), model_type="bert",
                                     num_heads=int(config["num_attention_heads"]),
                                     hidden_size=int(config["hidden_size"]))
    model.save_model_to_file(str(dest))


def _openvino_model(adapter: Path, folder: Path, digest: str) -> Path:
    from embeddings.backends.onnx_export import _folder, built_once

    out = _folder().parent / "openvino"
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"reranker-{digest}-int8-{RECIPE}.xml"
    return built_once(target, lambda: _quantize_openvino(_raw(adapter, folder, digest), folder,
                                                         target), "quantize",
                      lambda: target.is_file() and target.with_suffix(".bin").is_file())


def _quantize_openvino(raw: Path, folder: Path, target: Path) -> None:
    os.environ.setdefault("NNCF_CI", "1")  # no usage reports over the network
    try:
        import nncf
        import openvino as ov
        from nncf.quantization.advanced_parameters import (
            AdvancedQuantizationParameters,
            AdvancedSmoothQuantParameters,
        )
    except ModuleNotFoundError as exc:
        raise ModelError(f"{exc.name} is not installed") from None
    from embeddings.backends.openvino_export import SMOOTH_QUANT
    from embeddings.files import sync_folder

    tokens = _Tokens(folder)
    core = ov.Core()
    model = core.read_model(str(raw))
    logging.getLogger("nncf").setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            quantized = nncf.quantize(
                model, nncf.Dataset([tokens.feed([p]) for p in calibration_pairs()]),
                model_type=nncf.ModelType.TRANSFORMER, subset_size=len(calibration_pairs()),
                advanced_parameters=AdvancedQuantizationParameters(
                    smooth_quant_alphas=AdvancedSmoothQuantParameters(matmul=SMOOTH_QUANT)))
    except Exception as exc:
        raise ModelError(f"could not quantize the re-ranker for OpenVINO "
                         f"({type(exc).__name__})") from exc
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.stem}."))
    try:
        ov.save_model(quantized, str(tmp / "model.xml"), compress_to_fp16=False)
        _check(_Onnx(raw, folder), _OpenVino(tmp / "model.xml", folder), folder)
        os.replace(tmp / "model.bin", target.with_suffix(".bin"))
        os.replace(tmp / "model.xml", target)
        sync_folder(target.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def calibration_pairs() -> list[tuple[str, str]]:
    """Questions paired with sentences of the bundled sample articles (120 pairs)."""
    from corpus import load_articles, sample_path, split_sentences

    sentences = [a.text[s:e] for a in load_articles(sample_path())
                 for s, e in split_sentences(a.text)]
    return [(_QUESTIONS[i % len(_QUESTIONS)], s) for i, s in enumerate(sentences[:120])]


def _check(reference: Scorer, quantized: Scorer, folder: Path) -> None:
    pairs = CHECK_PAIRS + calibration_pairs()[::4]
    want = np.concatenate([reference.scores(pairs[i:i + 8]) for i in range(0, len(pairs), 8)])
    got = np.concatenate([quantized.scores(pairs[i:i + 8]) for i in range(0, len(pairs), 8)])
    corr = float(np.corrcoef(want, got)[0, 1])
    if corr < MIN_CORRELATION or (got[0] > got[1]) != (want[0] > want[1]):
        raise ModelError(f"the int8 re-ranker ({quantized.name}) drifts from fp32 (correlation "
                         f"{corr:.3f})")


# -- running --------------------------------------------------------------------------------
class _Tokens:
    """Pairs to the model's inputs: ``[CLS] question [SEP] sentence [SEP]``, the sentence cut
    to fit :data:`embeddings.reranker.MAX_TOKENS`."""

    def __init__(self, folder: Path, bucket: int = 1) -> None:
        from tokenizers import Tokenizer

        from embeddings.reranker_model import MAX_TOKENS

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
        self.tokenizer.enable_padding(pad_to_multiple_of=bucket if bucket > 1 else None)

    def feed(self, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
        enc = self.tokenizer.encode_batch(list(pairs))
        return {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}


class _Onnx:
    def __init__(self, path: Path, folder: Path) -> None:
        import onnxruntime as ort

        from embeddings.backends.base import threads

        self.name = "onnx-int8" if "-int8-" in path.name else "onnx-fp32"
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads()
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])
        self.tokens = _Tokens(folder)

    def scores(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        out: np.ndarray = self.session.run(None, self.tokens.feed(pairs))[0]
        return out.astype(np.float32)


class _OpenVino:
    """Token counts are bucketed to a multiple of :data:`BUCKET`: OpenVINO keeps state for every
    input shape it runs, and the answerer sends at most ``RERANK_SENTENCES`` pairs, so the shapes
    stay few (padding the number of pairs too cost a quarter more time for 6 pairs)."""

    def __init__(self, path: Path, folder: Path) -> None:
        import openvino as ov

        from embeddings.backends.base import threads

        self.name = "openvino-int8"
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
        if threads():
            config["INFERENCE_NUM_THREADS"] = threads()
        self.model = ov.Core().compile_model(str(path), "CPU", config)
        self.tokens = _Tokens(folder, BUCKET)
        self._local = threading.local()  # an infer request per thread (the HTTP server's)

    def scores(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.model.create_infer_request()
        out = request.infer(self.tokens.feed(pairs))[self.model.outputs[0]]
        return np.array(out, dtype=np.float32)


__all__ = ["CHECK_PAIRS", "Scorer", "calibration_pairs", "load_scorer"]
