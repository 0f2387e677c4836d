"""Shared pieces of the benchmarks: SQuAD, an embedding cache in bench/out/, timing helpers."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench._data import dataset
from embeddings import in_lists

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_encoder():
    """The project's encoder (bundled model, default backend)."""
    from embeddings.encoder import load_encoder as load

    return load()


class VectorCache:
    """Embeddings keyed by sha1(text) in an SQLite file, so reruns embed only new texts."""

    def __init__(self, encoder, path: Path | None = None) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        key = f"{encoder.weights_sha256[:12]}-{encoder.backend}"
        self.encoder = encoder
        self.db = sqlite3.connect(path or OUT / f"vectors-{key}.sqlite")
        self.db.execute("CREATE TABLE IF NOT EXISTS v (k TEXT PRIMARY KEY, vec BLOB)")

    def embed(self, texts: Sequence[str], label: str = "texts") -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        for chunk, marks in in_lists(keys):
            rows = self.db.execute(f"SELECT k, vec FROM v WHERE k IN ({marks})", chunk)
            found.update((k, np.frombuffer(b, dtype=np.float32)) for k, b in rows)
        todo = sorted({k: t for k, t in zip(keys, texts) if k not in found}.items())
        if todo:
            t0 = time.perf_counter()
            print(f"  embedding {len(todo)} {label} (cached in {OUT.name}/)...", flush=True)
            for i in range(0, len(todo), 256):
                part = todo[i:i + 256]
                vecs = self.encoder.encode([t for _, t in part], batch_size=32)
                self.db.executemany("INSERT OR REPLACE INTO v VALUES (?, ?)",
                                    [(k, v.astype(np.float32).tobytes())
                                     for (k, _), v in zip(part, vecs)])
                self.db.commit()
                found.update((k, v) for (k, _), v in zip(part, vecs))
            print(f"  embedded in {time.perf_counter() - t0:.0f} s", flush=True)
        return np.stack([found[k] for k in keys]).astype(np.float32)


def fit_logistic(x: np.ndarray, y: np.ndarray, *, steps: int, rate: float, l2: float
                 ) -> tuple[np.ndarray, float]:
    """Logistic regression by gradient descent on standardised features (penalty ``l2 * w``
    on the standardised weights); returns the raw weights and bias, as answering.py takes
    them (the confidence fits: ``bench refusal --fit``, ``bench news --fit``)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= rate * (z.T @ (p - y) / len(y) + l2 * w)
        b -= rate * float(np.mean(p - y))
    return w / sd, b - float((mu / sd) @ w)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def timed(fn: Callable, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def squad(version: str = "1.1") -> list[dict]:
    """SQuAD dev articles: [{"title", "paragraphs": [{"context", "qas"}]}]."""
    return json.loads(dataset("squad", f"dev-v{version}.json").read_text())["data"]


def split(items: Sequence, part: str) -> list:
    """Even positions are the dev (tuning) half, odd positions the held-out half."""
    if part == "all":
        return list(items)
    return [x for i, x in enumerate(items) if i % 2 == (0 if part == "dev" else 1)]
