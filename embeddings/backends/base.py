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
