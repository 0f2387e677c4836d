"""What every backend provides, and the thread setting they share."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Backend(Protocol):
    """Turns a batch of texts into float vectors (not necessarily normalised)."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def threads() -> int:
    """``$QA_THREADS`` if set, else 0 (the runtime's default: one per physical core)."""
    try:
        return max(0, int(os.environ.get("QA_THREADS", "0")))
    except ValueError:
        return 0
