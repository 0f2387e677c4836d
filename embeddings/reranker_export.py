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

import hashlib
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embeddings.backends.onnx_export import (
    built_once,
    cache_folder,
    fuse_bert,
    quantize_int8,
    write_atomically,
)
from embeddings.backends.openvino_export import (
    ir_folder,
    ir_ready,
    quantize_static,
    require_openvino,
    save_ir,
)
from embeddings.errors import ModelError
from embeddings.files import atomic_file
from embeddings.reranker_model import MAX_TOKENS, bundled_files

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


def load_scorer(adapter: Path, backend: str | None = None) -> Scorer:
    """The fastest scorer this CPU runs (``backend``: "openvino" or "onnx"; default by CPU),
    building it first if it is not in the cache. OpenVINO that fails falls back to onnx."""
    if backend is None:
        from embeddings.cpu import best_backend

        backend = os.environ.get("QA_BACKEND") or best_backend()[0]
    digest = hashlib.sha256(adapter.read_bytes()).hexdigest()[:16]
    if backend.startswith("openvino"):
        try:
            return _OpenVino(_openvino_model(adapter, digest))
        except ModelError as exc:
            log.warning("the re-ranker runs on onnxruntime: %s", str(exc).splitlines()[0])
    return _Onnx(_onnx_model(adapter, digest))


# -- building -------------------------------------------------------------------------------
def _raw(adapter: Path, digest: str) -> Path:
    target = cache_folder() / f"reranker-{digest}-raw-{RECIPE}.onnx"
    return built_once(target, lambda: _export(adapter, target), "export", target.is_file)


def _export(adapter: Path, target: Path) -> None:
    import torch

    from embeddings.reranker_model import PairModel

    log.warning("preparing the answer re-ranker (one time, about 30 s)")
    model = PairModel.from_bundled(adapter=adapter)
    x = model.encode([q for q, _ in CHECK_PAIRS[:2]], [s for _, s in CHECK_PAIRS[:2]])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with atomic_file(target, suffix=".onnx") as tmp, warnings.catch_warnings(), \
            torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, tuple(x[n] for n in names), str(tmp),
                          input_names=names, output_names=["score"],
                          dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                        "score": {0: "batch"}},
                          opset_version=17, dynamo=False)


def _onnx_model(adapter: Path, digest: str) -> Path:
    target = cache_folder() / f"reranker-{digest}-int8-{RECIPE}.onnx"

    def build() -> None:
        raw = _raw(adapter, digest)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            fused = Path(tmp) / "fused.onnx"
            if not fuse_bert(raw, fused, bundled_files().path / "config.json"):
                fused = raw
            write_atomically(target, lambda out: quantize_int8(fused, out))
        try:
            _check(_Onnx(raw), _Onnx(target))
        except ModelError:
            target.unlink(missing_ok=True)
            raise

    return built_once(target, build, "quantize", target.is_file)


def _openvino_model(adapter: Path, digest: str) -> Path:
    target = ir_folder() / f"reranker-{digest}-int8-{RECIPE}.xml"

    def build() -> None:
        ov = require_openvino()
        raw = _raw(adapter, digest)
        tokens = _Tokens()
        quantized = quantize_static(ov.Core().read_model(str(raw)),
                                    [tokens.feed([p]) for p in calibration_pairs()],
                                    "the re-ranker")
        save_ir(quantized, target, lambda xml: _check(_Onnx(raw), _OpenVino(xml)))

    return built_once(target, build, "quantize", lambda: ir_ready(target))


def calibration_pairs() -> list[tuple[str, str]]:
    """Questions paired with sentences of the bundled sample articles (120 pairs)."""
    from corpus import load_articles, sample_path, split_sentences

    sentences = [a.text[s:e] for a in load_articles(sample_path())
                 for s, e in split_sentences(a.text)]
    return [(_QUESTIONS[i % len(_QUESTIONS)], s) for i, s in enumerate(sentences[:120])]


def _check(reference: Scorer, quantized: Scorer) -> None:
    pairs = CHECK_PAIRS + calibration_pairs()[::4]
    want = np.concatenate([reference.scores(pairs[i:i + 8]) for i in range(0, len(pairs), 8)])
    got = np.concatenate([quantized.scores(pairs[i:i + 8]) for i in range(0, len(pairs), 8)])
    corr = float(np.corrcoef(want, got)[0, 1])
    if corr < MIN_CORRELATION or (got[0] > got[1]) != (want[0] > want[1]):
        raise ModelError(f"the int8 re-ranker ({quantized.name}) drifts from fp32 (correlation "
                         f"{corr:.3f})")


# -- running --------------------------------------------------------------------------------
GROUPS = 3          # pairs run in at most this many calls, each padded to its own longest pair
CALL_TOKENS = 24    # one more call costs about as much as this many more padded tokens


def length_groups(lengths: Sequence[int], bucket: int = 1, most: int = GROUPS
                  ) -> list[list[int]]:
    """The indices of pairs ``lengths`` tokens long, split by length into at most ``most``
    groups so that padding each to its longest (rounded up to ``bucket``) costs the fewest
    tokens, counting :data:`CALL_TOKENS` a group. The model's time goes with the padded tokens:
    one long sentence no longer pads seven short ones to its length."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    n = len(order)

    def cost(i: int, j: int) -> int:  # order[i:j] as one group
        return CALL_TOKENS + (j - i) * _padded(lengths[order[j - 1]], bucket)

    # best[g][j]: the cheapest split of order[:j] into g groups, and where its last one starts
    best = [[(0, 0)] + [(1 << 62, 0)] * n]
    for _ in range(min(most, n)):
        prev = best[-1]
        best.append([(0, 0)] + [min((prev[i][0] + cost(i, j), i) for i in range(j))
                                for j in range(1, n + 1)])
    g = min(range(1, len(best)), key=lambda g: best[g][n][0]) if n else 0
    groups, j = [], n
    while g > 0 and j > 0:
        i = best[g][j][1]
        groups.append(order[i:j])
        j, g = i, g - 1
    return groups[::-1]


def _padded(tokens: int, bucket: int) -> int:
    """``tokens`` rounded up to a multiple of ``bucket``."""
    return -(-tokens // bucket) * bucket


class _Tokens:
    """Pairs to the model's inputs: ``[CLS] question [SEP] sentence [SEP]``, the sentence cut
    to fit :data:`embeddings.reranker_model.MAX_TOKENS`, token counts padded to a multiple of
    ``bucket``."""

    def __init__(self, bucket: int = 1) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(bundled_files().path / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
        self.tokenizer.no_padding()
        self.bucket = bucket

    def feed(self, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
        """All ``pairs`` as one input."""
        return self._inputs(self.tokenizer.encode_batch(list(pairs)))

    def batches(self, pairs: Sequence[tuple[str, str]]
                ) -> list[tuple[list[int], dict[str, np.ndarray]]]:
        """``pairs`` as inputs of similar length (:func:`length_groups`), each with the
        indices of its pairs."""
        enc = self.tokenizer.encode_batch(list(pairs))
        return [(group, self._inputs([enc[i] for i in group]))
                for group in length_groups([len(e.ids) for e in enc], self.bucket)]

    def _inputs(self, enc: Sequence[Any]) -> dict[str, np.ndarray]:
        width = _padded(max(len(e.ids) for e in enc), self.bucket)
        out = {name: np.zeros((len(enc), width), dtype=np.int64)
               for name in ("input_ids", "attention_mask", "token_type_ids")}
        for row, e in enumerate(enc):
            n = len(e.ids)
            out["input_ids"][row, :n] = e.ids
            out["attention_mask"][row, :n] = 1
            out["token_type_ids"][row, :n] = e.type_ids
        return out


def _by_length(pairs: Sequence[tuple[str, str]], tokens: _Tokens,
               run: Callable[[dict[str, np.ndarray]], np.ndarray]) -> np.ndarray:
    """One score a pair, ``run`` called on groups of pairs of similar length."""
    out = np.zeros(len(pairs), dtype=np.float32)
    for group, inputs in tokens.batches(pairs) if pairs else []:
        out[group] = np.asarray(run(inputs), dtype=np.float32).reshape(-1)
    return out


class _Onnx:
    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        from embeddings.backends.base import threads

        self.name = "onnx-int8" if "-int8-" in path.name else "onnx-fp32"
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads()
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])
        self.tokens = _Tokens()

    def scores(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        return _by_length(pairs, self.tokens, lambda inputs: self.session.run(None, inputs)[0])


class _OpenVino:
    """Token counts are bucketed to a multiple of :data:`BUCKET`: OpenVINO keeps state for every
    input shape it runs, and the answerer sends at most ``RERANK_SENTENCES`` pairs in at most
    :data:`GROUPS` calls, so the shapes stay few: 8 pair counts by 8 lengths, each 10-20 ms
    slower the first time it runs (padding the number of pairs too cost a quarter more time for
    6 pairs)."""

    def __init__(self, path: Path) -> None:
        import openvino as ov

        from embeddings.backends.base import openvino_config

        self.name = "openvino-int8"
        self.model = ov.Core().compile_model(str(path), "CPU", openvino_config())
        self.tokens = _Tokens(BUCKET)
        self._local = threading.local()  # an infer request per thread (the HTTP server's)

    def scores(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.model.create_infer_request()
        output = self.model.outputs[0]
        return _by_length(pairs, self.tokens, lambda inputs: request.infer(inputs)[output])


__all__ = ["CHECK_PAIRS", "Scorer", "calibration_pairs", "load_scorer"]
