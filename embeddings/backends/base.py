"""What every backend provides, and the thread setting they share."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


class Backend(Protocol):
    """Turns a batch of texts into float vectors (not necessarily normalised)."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class TokenBackend(Protocol):
    """A backend that also gives each text's word-piece vectors from the same forward pass
    (for late-chunked sentence vectors)."""

    def embed_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(pooled (n, dim), token vectors (n, tokens, dim), character offsets (n, tokens,
        2))``; special and padding tokens have offsets ``(0, 0)``."""


def threads() -> int:
    """``$QA_THREADS`` if set, else 0 (the runtime's default: one per physical core)."""
    try:
        return max(0, int(os.environ.get("QA_THREADS", "0")))
    except ValueError:
        return 0


def openvino_config(exact: bool = False) -> dict[str, str | int]:
    """How OpenVINO's CPU plugin compiles a model here: for latency, on :func:`threads`, and the
    layers int8 leaves in floating point at f32 unless the CPU has AMX (``exact``: at f32 on
    any CPU, for an fp32 model and the reference int8 is checked against). OpenVINO's own choice on
    a CPU with AVX512-BF16 is bf16, but without AMX its bf16 is slower: on an AVX-512 VNNI Xeon
    (no AMX), 256-word-piece passages in batches of 16, int8 ran 91-92 passages/s with bf16 and
    96-98 with f32, side by side in one run, and closer to fp32 (cosine min 0.9960 -> 0.9968).
    """
    from embeddings.cpu import cpu_class

    config: dict[str, str | int] = {"PERFORMANCE_HINT": "LATENCY"}
    if exact or cpu_class() != "amx":
        config["INFERENCE_PRECISION_HINT"] = "f32"
    if threads():
        config["INFERENCE_NUM_THREADS"] = threads()
    return config
