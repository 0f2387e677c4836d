"""Exporting a sentence-transformers model to ONNX once, from its local weights, into the cache.

Files live in ``<cache>/onnx/<weights sha256[:16]>-<variant>-<RECIPE>.onnx``:

- ``raw``: ``torch.onnx.export`` of the whole pipeline (transformer, pooling, normalisation),
  checked against torch on sample texts; OpenVINO reads this one.
- ``fp32``: ``raw`` with onnxruntime's transformer fusions (attention, layer norm, GELU) for BERT.
- ``int8``: ``fp32`` with dynamic int8 quantization of the matrix products, except the word
  embeddings and each layer's FFN output product, whose activations have outliers (quantizing
  them drops the cosine to fp32 below 0.99 on this CPU's u8s8 kernels).

Only the ``raw`` export imports torch. Each file is written atomically under a file lock, so two
processes racing to export wait for one another and never see a partial file.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.cache import cache_dir
from embeddings.errors import ModelError
from embeddings.files import atomic_file
from embeddings.model_files import ModelFiles

log = logging.getLogger(__name__)

RECIPE = "r2"  # bump when the export or quantization recipe changes (r2: token vectors too)
VARIANTS = ("raw", "fp32", "int8")
_CHECK_TEXTS = [
    "The central bank raised interest rates by half a point on Thursday.",
    "Rebels shelled the town overnight, killing at least twelve civilians, officials said.",
    "Who won the match?",
    "A long sentence " + "about the weather and the markets and the elections " * 12,
]
_FFN_ACTIVATIONS = {"Gelu", "BiasGelu", "FastGelu", "QuickGelu"}


def onnx_path(files: ModelFiles, weights_sha256: str, variant: str) -> Path:
    """The cached ONNX file for ``variant``, exporting it (and what it derives from) if missing."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}")
    target = cache_folder() / f"{weights_sha256[:16]}-{variant}-{RECIPE}.onnx"
    return built_once(target, lambda: _build(files, weights_sha256, variant, target),
                      "export", lambda: target.is_file())


def built_once(target: Path, build: Callable[[], None], doing: str,
               ready: Callable[[], bool]) -> Path:
    """``target``, made by ``build()`` unless ``ready()`` already, under a file lock: a second
    process waits for the first and finds it done (at most 15 minutes)."""
    if ready():
        return target
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(target) + ".lock", timeout=900):
            if not ready():  # another process may have finished it while we waited
                build()
    except Timeout:
        raise ModelError(f"timed out waiting for another process to {doing} {target.name}: "
                         f"delete {target}.lock if no qa process is running") from None
    return target


def discard(path: Path) -> None:
    """Remove a cached file that failed to load, so the next call re-exports it."""
    path.unlink(missing_ok=True)


def cache_folder() -> Path:
    """``<cache>/onnx`` (a private temporary folder if the cache is read-only)."""
    folder = cache_dir() / "onnx"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".probe")
        probe.close()
    except OSError:  # read-only cache: fall back to a private temporary folder
        folder = Path(tempfile.gettempdir()) / f"newsqa-onnx-{os.getuid()}"
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def _build(files: ModelFiles, sha: str, variant: str, target: Path) -> None:
    if variant == "raw":
        log.warning("preparing the embedding model for onnxruntime (one time, about 20 s)")
        write_atomically(target, lambda tmp: _export_raw(files, tmp))
    elif variant == "fp32":
        raw = onnx_path(files, sha, "raw")
        write_atomically(target, lambda tmp: _optimize(files, raw, tmp))
    else:
        fp32 = onnx_path(files, sha, "fp32")
        log.warning("quantizing the embedding model to int8 (one time, about 10 s)")
        write_atomically(target, lambda tmp: quantize_int8(fp32, tmp))


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` then ``tmp`` renamed to ``target``; a failure is a :class:`ModelError`."""
    try:
        with atomic_file(target, suffix=".onnx") as tmp:
            write(tmp)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"could not export the embedding model to ONNX ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:160] if str(exc) else ''}): use "
                         "--backend torch-fp32") from exc


def _export_raw(files: ModelFiles, dest: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from embeddings.backends.torch_backend import TorchBackend

    reference = TorchBackend(files, attn="eager")
    model = reference.model
    features = reference.tokenize(_CHECK_TEXTS[:2])
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in features]
    tensors = {k for k, v in features.items() if isinstance(v, torch.Tensor)}
    if tensors - set(names):
        raise ModelError(f"model {files.name} needs inputs ONNX export does not handle "
                         f"({', '.join(sorted(tensors - set(names)))}): use --backend "
                         "torch-fp32")

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> Any:
            out = self.model(dict(zip(names, inputs, strict=True)))
            return out["sentence_embedding"], out["token_embeddings"]

    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "tokens"} for n in names}
    axes["sentence_embedding"] = {0: "batch"}
    axes["token_embeddings"] = {0: "batch", 1: "tokens"}  # for sentence vectors (late chunking)
    import warnings

    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Pipeline().eval(), tuple(features[n] for n in names), str(dest),
                          input_names=names,
                          output_names=["sentence_embedding", "token_embeddings"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    got = _run(dest, files, reference.max_tokens)
    want = reference.embed(_CHECK_TEXTS)
    cos = _cosines(got, want)
    if not np.all(cos > 0.9999):
        raise ModelError(f"the ONNX export of {files.name} does not match torch (cosine "
                         f"{cos.min():.4f}): use --backend torch-fp32")


def _optimize(files: ModelFiles, raw: Path, dest: Path) -> None:
    if not fuse_bert(raw, dest, files.path / "config.json"):
        dest.write_bytes(raw.read_bytes())  # no fusion recipe for this architecture
        return
    _check_close(files, raw, dest, 0.9999)


def fuse_bert(raw: Path, dest: Path, config_json: Path) -> bool:
    """onnxruntime's transformer fusions (attention, layer norm, GELU) of a BERT model, into
    ``dest``; False (nothing written) for another architecture."""
    config = json.loads(config_json.read_text(encoding="utf-8"))
    if config.get("model_type") != "bert":
        return False
    from onnxruntime.transformers import optimizer

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    model = optimizer.optimize_model(str(raw), model_type="bert",
                                     num_heads=int(config["num_attention_heads"]),
                                     hidden_size=int(config["hidden_size"]))
    model.save_model_to_file(str(dest))
    return True


def quantize_int8(fp32: Path, dest: Path) -> None:
    """Dynamic int8 quantization of ``fp32``'s matrix products (see the module docstring)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32)).graph
    producers = {out: node for node in graph.node for out in node.output}
    exclude = []
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        source = producers.get(node.input[0])
        by_op = source is not None and source.op_type in _FFN_ACTIVATIONS
        by_name = "/output/dense/" in node.name and "/attention/" not in node.name
        if by_op or by_name:
            exclude.append(node.name)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs advice to the root logger
    try:
        quantize_dynamic(str(fp32), str(dest), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=exclude,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.setLevel(level)


def _check_close(files: ModelFiles, a: Path, b: Path, minimum: float) -> None:
    from embeddings.tokenizer import max_tokens_of

    cos = _cosines(_run(a, files, max_tokens_of(files)), _run(b, files, max_tokens_of(files)))
    if cos.min() < minimum:
        raise ModelError(f"the optimized ONNX model of {files.name} drifts from the export "
                         f"(cosine {cos.min():.4f}): use --backend torch-fp32")


def _run(path: Path, files: ModelFiles, max_tokens: int) -> np.ndarray:
    import onnxruntime as ort

    from embeddings.tokenizer import Tokenizer

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = Tokenizer(files, max_tokens).encode(_CHECK_TEXTS)
    out: np.ndarray = session.run(None, {i.name: feed[i.name] for i in session.get_inputs()})[0]
    return out


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    cos: np.ndarray = (a * b).sum(axis=1)
    return cos
