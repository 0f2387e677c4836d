"""The bundled model quantized to int8 for OpenVINO, once, into the cache.

``<cache>/openvino/<weights sha256[:16]>-int8-<RECIPE>.xml`` (and ``.bin``): the ``raw`` ONNX
export (:mod:`embeddings.backends.onnx_export`) read by OpenVINO and statically quantized by
NNCF (its transformer preset: every matrix product in int8, activations scaled from
calibration, SmoothQuant at :data:`SMOOTH_QUANT`), on calibration passages cut from the bundled
sample articles with their context headers, as indexing embeds them. Static scales make the
matrix products pure VNNI int8 work, where onnxruntime's dynamic quantization measures each
activation at run time and leaves each layer's FFN output product in fp32; on an AVX-512 VNNI
Xeon this runs the encoder about twice as fast as onnx-int8 (``python -m bench encoder``).

The result is checked against the fp32 export on sample texts (cosine >= :data:`MIN_COSINE`)
before it is kept. Both files are written under a file lock, the ``.bin`` first: the ``.xml``
appearing is what says the pair is complete.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.backends.base import openvino_config
from embeddings.backends.onnx_export import _CHECK_TEXTS, built_once, cache_folder, onnx_path
from embeddings.errors import ModelError
from embeddings.files import sync_folder
from embeddings.model_files import ModelFiles

log = logging.getLogger(__name__)

RECIPE = "q2"  # bump when the quantization recipe or its calibration texts change
# SmoothQuant strength for the matrix products: NNCF's transformer default (0.95) left a passage
# at cosine 0.978 to fp32; 0.7 gives mean 0.9975, min 0.995 (onnx-int8: 0.9972, 0.9936) on 320
# news passages, at the same speed
SMOOTH_QUANT = 0.7
MIN_COSINE = 0.98  # of each check text's vector to the fp32 export's
CALIBRATION = 120  # calibration passages at most (NNCF's subset size)


def ir_folder() -> Path:
    """``<cache>/openvino``."""
    folder = cache_folder().parent / "openvino"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ir_path(files: ModelFiles, weights_sha256: str, max_tokens: int) -> Path:
    """The cached int8 OpenVINO model (``.xml``; the ``.bin`` beside it), quantizing it first if
    missing. :class:`ModelError` if OpenVINO or NNCF is missing or the result drifts."""
    target = ir_folder() / f"{weights_sha256[:16]}-int8-{RECIPE}.xml"

    def build() -> None:
        raw = onnx_path(files, weights_sha256, "raw")
        log.warning("quantizing the embedding model to int8 for OpenVINO (one time, about 15 s)")
        _quantize(files, raw, target, max_tokens)

    return built_once(target, build, "quantize", lambda: ir_ready(target))


def ir_ready(target: Path) -> bool:
    """Both files of the model are there (the ``.xml`` is written last)."""
    return target.is_file() and target.with_suffix(".bin").is_file()


def _quantize(files: ModelFiles, raw: Path, target: Path, max_tokens: int) -> None:
    from embeddings.tokenizer import Tokenizer

    ov = require_openvino(" or use --backend onnx-int8")
    tokenizer = Tokenizer(files, max_tokens)
    core = ov.Core()
    model = core.read_model(str(raw))
    names = [i.get_any_name() for i in model.inputs]

    def feed(text: str) -> dict[str, np.ndarray]:
        encoded = tokenizer.encode([text])
        return {n: encoded[n] for n in names}

    texts = calibration_texts(tokenizer, max_tokens)
    quantized = quantize_static(model, [feed(t) for t in texts],
                                "the embedding model", ": use --backend onnx-int8")
    _check(core, model, quantized, [feed(t) for t in _CHECK_TEXTS + texts[:20]])
    save_ir(quantized, target)


def require_openvino(advice: str = "") -> Any:
    """The openvino module, with NNCF importable; :class:`ModelError` if either is missing
    (``advice`` follows the install hint)."""
    # NNCF reports usage over the network unless it believes it runs in CI: nothing here may
    # reach the network, so it gets its own stub (set before the import, which reads it)
    os.environ.setdefault("NNCF_CI", "1")
    try:
        import nncf  # noqa: F401
        import openvino as ov
    except ModuleNotFoundError as exc:
        raise ModelError(f"{exc.name} is not installed: `pip install openvino nncf`"
                         f"{',' + advice if advice else ''}") from None
    return ov


def quantize_static(model: Any, feeds: list[dict[str, np.ndarray]], what: str,
                    advice: str = "") -> Any:
    """``model`` (an OpenVINO model read from ONNX) quantized statically to int8 by NNCF's
    transformer preset, activations scaled on ``feeds``, SmoothQuant at :data:`SMOOTH_QUANT`.
    Nothing reaches stdout (`qa ask --json`). Call :func:`require_openvino` first."""
    import nncf
    from nncf.quantization.advanced_parameters import (
        AdvancedQuantizationParameters,
        AdvancedSmoothQuantParameters,
    )

    logging.getLogger("nncf").setLevel(logging.ERROR)
    try:
        smooth = AdvancedSmoothQuantParameters(matmul=SMOOTH_QUANT)
        # NNCF draws progress bars on stdout: it must stay clean, and the caller's warning
        # already says what is happening
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return nncf.quantize(model, nncf.Dataset(feeds),
                                 model_type=nncf.ModelType.TRANSFORMER, subset_size=len(feeds),
                                 advanced_parameters=AdvancedQuantizationParameters(
                                     smooth_quant_alphas=smooth))
    except Exception as exc:
        raise ModelError(f"could not quantize {what} for OpenVINO ({type(exc).__name__})"
                         f"{advice}") from exc


def save_ir(model: Any, target: Path, check: Callable[[Path], None] | None = None) -> None:
    """``model`` saved as ``target`` (``.xml``) and its ``.bin``: written in a temporary folder
    beside it, ``check(xml)`` there if given, then the ``.bin`` moved first and the ``.xml``
    last, so a complete pair is what an ``.xml`` says."""
    import openvino as ov

    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.stem}."))
    try:
        ov.save_model(model, str(tmp / "model.xml"), compress_to_fp16=False)
        if check is not None:
            check(tmp / "model.xml")
        os.replace(tmp / "model.bin", target.with_suffix(".bin"))
        os.replace(tmp / "model.xml", target)
        sync_folder(target.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def calibration_texts(tokenizer: Any, max_tokens: int) -> list[str]:
    """Passages of the bundled sample articles, each with its context header, as indexing
    embeds them; and some questions (queries are encoded with the same model)."""
    from corpus import chunk_article, context_prefix, load_articles, sample_path

    texts = []
    for article in load_articles(sample_path()):
        prefix = context_prefix(article.title, article.source, article.published)
        for p in chunk_article(article, max_tokens=max_tokens - 40,
                               count_tokens=tokenizer.count):
            texts.append(prefix + p.text)
            texts.extend(p.text[s.start - p.start:s.end - p.start] for s in p.sentences[:1])
    texts += ["How many Turkish soldiers were killed in Idlib?", "What did NATO urge?",
              "Who won the election?", "When did the talks start?"]
    return texts[:CALIBRATION]


def _check(core: Any, reference: Any, quantized: Any, feeds: list[dict[str, np.ndarray]]
           ) -> None:
    ref = core.compile_model(reference, "CPU", openvino_config(exact=True))
    got = core.compile_model(quantized, "CPU", openvino_config())  # as it will run
    a = np.concatenate([np.asarray(ref(f)[ref.outputs[0]]) for f in feeds])
    b = np.concatenate([np.asarray(got(f)[got.outputs[0]]) for f in feeds])
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    cos = (a * b).sum(1)
    if cos.min() < MIN_COSINE:
        raise ModelError(f"the int8 OpenVINO model drifts from fp32 (cosine {cos.min():.4f}): "
                         "use --backend onnx-int8")
