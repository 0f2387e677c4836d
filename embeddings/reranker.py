"""The answer re-ranker: a cross-encoder on the bundled MiniLM (:mod:`embeddings.reranker_model`)
that reads a question and a sentence together and says how likely the sentence answers it, run
as an int8 model built for this CPU (:mod:`embeddings.reranker_export`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.errors import ModelError
from embeddings.reranker_export import Scorer, load_scorer
from embeddings.reranker_model import PairModel, RerankerError, adapter_meta, save_adapter


class Reranker:
    """Scores (question, sentence) pairs with the merged cross-encoder, quantized to int8 for
    this CPU (:mod:`embeddings.reranker_export`); loads on first use and is safe to share
    between threads."""

    def __init__(self, adapter: Path, backend: str | None = None) -> None:
        self.adapter = adapter
        self.backend = backend
        self._scorer: Scorer | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """What runs it ("openvino-int8", "onnx-int8")."""
        return self._load().name

    def _load(self) -> Scorer:
        with self._lock:
            if self._scorer is None:
                if not self.adapter.is_file():
                    raise RerankerError(f"no re-ranker adapter at {self.adapter}")
                try:
                    self._scorer = load_scorer(self.adapter, self.backend)
                except RerankerError:
                    raise
                except (ModelError, OSError, ImportError, ValueError, RuntimeError) as exc:
                    raise RerankerError(f"the re-ranker could not load ({type(exc).__name__}: "
                                        f"{str(exc).splitlines()[0] if str(exc) else ''})"
                                        ) from exc
            return self._scorer

    def warm_up(self) -> None:
        """Load (and on first use build) the model now."""
        self._load().scores([("warm up?", "Warm up.")])

    def scores(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """One score a sentence: higher, the likelier it answers ``question``."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        return self._load().scores([(question, s) for s in sentences])


__all__ = ["PairModel", "Reranker", "RerankerError", "adapter_meta", "save_adapter"]
