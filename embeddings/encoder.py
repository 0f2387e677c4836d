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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from embeddings.backends import OTHER_MODELS_BACKEND, check_backend, create_backend
from embeddings.backends import batch_size as backend_batch_size
from embeddings.backends import pipelined as backend_pipelined
from embeddings.backends.base import Backend, TokenBackend
from embeddings.errors import ModelError
from embeddings.model_files import ModelFiles, resolve_model, weights_sha256
from embeddings.tokenizer import Tokenizer, max_tokens_of

log = logging.getLogger(__name__)

_SIMPLE_MODULES = {"Transformer", "Pooling", "Normalize"}
# A late-chunked sentence vector carries its passage's context: sentences of one passage come out
# closer to each other (and to anything on the passage's topic) than when encoded alone. Taking
# this share of the passage vector out brings cross-article sentence cosines back to the
# distribution the answer thresholds were set on (sample articles, share 0 / 0.3 / 0.5: mean
# 0.48 / 0.41 / 0.32, alone 0.34; correlation with sentences encoded alone 0.65 / 0.71 / 0.72).
# 0.3: the one of these that keeps tests/test_answering.py's conflicting-figures case.
LATE_CENTERING = 0.3
Spans = Sequence[tuple[int, int]]  # (start, end) character offsets of sentences in a passage


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


# a backend chosen by default that cannot load -> the next one to try
FALLBACK = {"openvino-int8": "onnx-int8", "onnx-int8": "torch-fp32", "onnx-fp32": "torch-fp32",
            "openvino-fp32": "torch-fp32", "torch-bf16": "torch-fp32"}


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

    @property
    def batch_size(self) -> int:
        """Texts per forward pass when the caller does not say: the backend's preference
        (:func:`embeddings.backends.batch_size`), known without loading it."""
        return backend_batch_size(self.backend)

    def warm_up(self) -> None:
        """Load the runtime now (e.g. in a UI worker) instead of on the first ``encode``."""
        self._load()

    def release(self) -> None:
        """Let go of the runtime and what it holds (OpenVINO keeps state for every input
        shape it has run: 0.3-0.4 GB after a large index run); the next call loads it again
        (from the compiled cache: about half a second)."""
        with self._lock:
            self._runtime = None

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
        """The runtime for :attr:`backend`; a chosen-by-default one that cannot load falls back
        along :data:`FALLBACK` (OpenVINO int8 -> onnxruntime int8 -> torch fp32), saying why."""
        while True:
            try:
                return create_backend(self.backend, self.files,
                                      weights_sha256=self.weights_sha256,
                                      max_tokens=self.max_tokens)
            except ModelError as exc:
                nxt = FALLBACK.get(self.backend)
                if self._explicit or nxt is None:
                    raise
                log.warning("%s; falling back to %s for %s", exc, nxt, self.name)
                self.backend = nxt
                self.backend_reason = f"{self.backend_reason}; fell back: {exc}"

    def encode(self, texts: Sequence[str], batch_size: int | None = None,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """``(len(texts), dim)`` float32, L2-normalised. Texts longer than ``max_tokens`` are
        truncated. ``batch_size``: texts per forward pass (default :attr:`batch_size`).
        ``progress(n)`` is called after each batch with the batch's size."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts; use encode_query() for one")
        runtime = self._load()
        out = np.empty((len(texts), runtime.dim), dtype=np.float32)
        if not len(texts):
            return out
        batch_size = max(1, int(batch_size or self.batch_size))
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

    @property
    def late_chunking(self) -> bool:
        """Whether the runtime gives token vectors, so :meth:`encode_passages` takes sentence
        vectors from the passage's own forward pass (else it encodes each sentence alone)."""
        runtime = self._load()
        return (isinstance(runtime, TokenBackend)
                and getattr(runtime, "tokens_output", "") is not None and self._mean_pooled())

    def _mean_pooled(self) -> bool:
        folder = self.files.path
        try:
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
            kinds = {m["type"].rsplit(".", 1)[-1]: m.get("path", "") for m in modules}
            pooling = json.loads((folder / kinds["Pooling"] / "config.json").read_text("utf-8"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        return bool(pooling.get("pooling_mode_mean_tokens")) and set(kinds) <= _SIMPLE_MODULES

    def encode_passages(self, texts: Sequence[str], spans: Sequence[Spans],
                        batch_size: int | None = None,
                        progress: Callable[[int], None] | None = None
                        ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors (as :meth:`encode`) and, for each passage, one vector per sentence
        span ``(start, end)`` (character offsets into its text), L2-normalised float32.

        With late chunking (:attr:`late_chunking`), a sentence's vector is the mean of its word
        pieces' vectors in the passage's forward pass (less :data:`LATE_CENTERING` of the
        passage's vector): no extra encoder work. A passage whose exact text came earlier in
        ``texts`` is encoded once."""
        runtime = self._load()
        if not len(texts):
            return np.empty((0, runtime.dim), np.float32), []
        if not isinstance(runtime, TokenBackend) or not self.late_chunking:
            return self._encode_alone(texts, spans, batch_size, progress)
        first: dict[tuple[str, tuple[tuple[int, int], ...]], int] = {}
        twin = [first.setdefault((t, tuple((a, b) for a, b in sp)), i)
                for i, (t, sp) in enumerate(zip(texts, spans, strict=True))]
        unique = [i for i, j in enumerate(twin) if i == j]
        out = np.zeros((len(texts), runtime.dim), dtype=np.float32)
        sents: list[np.ndarray] = [np.empty((0, runtime.dim), np.float32)] * len(texts)
        order = sorted(unique, key=lambda i: -len(texts[i]))
        batch_size = max(1, int(batch_size or self.batch_size))
        batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
        # the word pieces the chunker counted (count_tokens) are put together, not cut again
        counted = self._counter().join
        for idx, (pooled, tokens, offsets) in zip(batches, _pipelined(
                runtime, [[texts[i] for i in idx] for idx in batches],
                lambda b: counted([texts[i] for i in batches[b]], [spans[i] for i in batches[b]])),
                strict=True):
            out[idx] = pooled
            for row, i in enumerate(idx):
                sents[i] = _span_means(tokens[row], offsets[row], spans[i])
            if progress is not None:
                progress(len(idx))
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        for i in unique:  # take out part of the context all its sentences share
            sents[i] = _centred(sents[i], out[i])
        self._encode_past_limit(texts, spans, sents)
        for i, j in enumerate(twin):
            if i != j:
                out[i], sents[i] = out[j], sents[j].copy()
        if progress is not None and len(unique) < len(texts):
            progress(len(texts) - len(unique))
        return out, sents

    def _encode_alone(self, texts: Sequence[str], spans: Sequence[Spans], batch_size: int | None,
                      progress: Callable[[int], None] | None
                      ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Without late chunking: the passages, then each sentence on its own."""
        out = self.encode(texts, batch_size, progress)
        flat = [t[a:b] for t, sp in zip(texts, spans, strict=True) for a, b in sp]
        vecs = self.encode(flat, batch_size=64)
        sents, i = [], 0
        for sp in spans:
            sents.append(vecs[i:i + len(sp)])
            i += len(sp)
        return out, sents

    def _encode_past_limit(self, texts: Sequence[str], spans: Sequence[Spans],
                           sents: list[np.ndarray]) -> None:
        """A sentence past the model's input limit (no word piece in the forward pass) is
        encoded alone."""
        missing = [(i, k) for i, sv in enumerate(sents) for k in range(len(sv))
                   if not np.isfinite(sv[k, 0])]
        if missing:
            vecs = self.encode([texts[i][slice(*spans[i][k])] for i, k in missing])
            for (i, k), v in zip(missing, vecs, strict=True):
                sents[i][k] = v

    def encode_query(self, text: str) -> np.ndarray:
        """One text as a ``(dim,)`` float32 normalised vector."""
        vector: np.ndarray = self.encode([text], batch_size=1)[0]
        return vector

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, special tokens included (not truncated). Tokenizer only. With a
        backend that will use them, the texts' word pieces are kept (for encode_passages)."""
        return self._counter().count(list(texts), keep=backend_pipelined(self.backend))

    def _counter(self) -> Tokenizer:
        if self._tokenizer is None:
            self._tokenizer = Tokenizer(self.files, self.max_tokens)
        return self._tokenizer


TokenBatch = tuple[np.ndarray, np.ndarray, np.ndarray]


def _pipelined(runtime: TokenBackend, batches: list[list[str]],
               joined: Callable[[int], dict[str, np.ndarray] | None] = lambda b: None
               ) -> Iterator[TokenBatch]:
    """``runtime.embed_tokens`` of each batch, in order. With a backend that can start a forward
    pass and return at once (``prepare_tokens`` and ``launch_tokens``), batch i + 1 is tokenized
    (or its word pieces put together: ``joined(i)``, if not ``None``) and the caller works on
    batch i - 1 while batch i runs: the model's threads are not left idle by the Python work
    between passes."""
    tokenize = getattr(runtime, "prepare_tokens", None)
    launch = getattr(runtime, "launch_tokens", None)
    if tokenize is None or launch is None:
        for batch in batches:
            yield runtime.embed_tokens(batch)
        return

    def prepare(b: int) -> dict[str, np.ndarray]:
        feed = joined(b)
        return tokenize(batches[b]) if feed is None else feed

    pending = launch(prepare(0))
    for b in range(1, len(batches)):
        feed = prepare(b)  # tokenized while the pass under way runs
        done = pending()  # wait for it; its arrays are copied out
        pending = launch(feed)
        yield done  # the caller's work on it overlaps the next pass
    yield pending()


def _span_means(tokens: np.ndarray, offsets: np.ndarray, spans: Spans) -> np.ndarray:
    """Normalised mean of the word-piece vectors starting inside each character span; NaN rows
    for spans with no word piece (past truncation)."""
    starts, ends = offsets[:, 0], offsets[:, 1]
    real = ends > starts  # special tokens and padding have (0, 0)
    out = np.full((len(spans), tokens.shape[1]), np.nan, dtype=np.float32)
    for k, (a, b) in enumerate(spans):
        pick = real & (starts >= a) & (starts < b)
        if pick.any():
            v = tokens[pick].mean(axis=0)
            out[k] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


def _centred(sentences: np.ndarray, passage: np.ndarray) -> np.ndarray:
    """``sentences`` less :data:`LATE_CENTERING` of their passage's unit vector, renormalised
    (NaN rows stay NaN)."""
    if not len(sentences):
        return sentences
    v = sentences - LATE_CENTERING * passage
    out: np.ndarray = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return out.astype(np.float32, copy=False)


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
