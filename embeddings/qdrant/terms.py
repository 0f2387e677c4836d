"""The lexical side kept in Qdrant: each passage's sparse term vector, and term statistics.

A term is a sparse index: 32 bits of a hash of the term (qa's own tokeniser makes the terms;
the store is handed it as an :class:`Analyzer`). A passage's value for a term is its BM25
term-frequency part ``tf / (tf + k1 * (1 - b + b * dl / avgdl))`` with the collection's average
length when it was written, so a sparse search whose query values are the terms' idf ranks
by BM25 (exactly so while the average length holds). The payload keeps ``dl`` and that
``avgdl``, from which the exact term counts come back (:func:`term_counts`): qa then scores
candidates with today's statistics, as the folder store's BM25 does.

Document frequencies live in ``df`` points, one per bucket of term indexes; the one writer
keeps the buckets it touched in memory and writes them back when a batch commits. Two terms
whose hashes collide count as one (at a million distinct terms, a few hundred pairs).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from qdrant_client import models as qm

from embeddings.qdrant import schema

BUCKETS = 64


def term_index(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8", "surrogatepass"),
                                          digest_size=4).digest(), "big")


def bucket_of(index: int) -> int:
    return index % BUCKETS


@dataclass(frozen=True)
class Analyzer:
    """How passages become terms (qa's tokeniser) and the BM25 parameters of the weights."""

    terms: Callable[[str], list[str]]
    k1: float
    b: float

    def counts(self, text: str) -> tuple[Counter[int], int]:
        """Term counts by index and the length in terms. A text with no terms counts as one
        empty term, as bm25s (the folder store's BM25) indexes it."""
        toks = self.terms(text) or [""]
        return Counter(term_index(t) for t in toks), len(toks)


def weights(tf: Mapping[int, int], dl: int, avgdl: float, k1: float, b: float
            ) -> qm.SparseVector:
    norm = k1 * (1 - b + b * dl / max(avgdl, 1e-9))
    indices = sorted(tf)
    return qm.SparseVector(indices=indices, values=[tf[i] / (tf[i] + norm) for i in indices])


def term_counts(vector: qm.SparseVector, dl: int, avgdl: float, k1: float, b: float
                ) -> dict[int, int]:
    """The exact term counts a sparse vector was made from (:func:`weights` inverted)."""
    norm = k1 * (1 - b + b * dl / max(avgdl, 1e-9))
    return {i: int(round(v * norm / (1 - v))) for i, v in zip(vector.indices, vector.values)
            if v < 1}


def query_vector(term_weights: Mapping[str, float]) -> qm.SparseVector:
    merged: dict[int, float] = {}
    for term, w in term_weights.items():
        i = term_index(term)
        merged[i] = merged.get(i, 0.0) + float(w)
    indices = sorted(merged)
    return qm.SparseVector(indices=indices, values=[merged[i] for i in indices])


class Frequencies:
    """Document frequencies by term index, read from the ``df`` points a bucket at a time;
    the writer's copy also records changes (:meth:`add`) and the buckets they touched."""

    def __init__(self, fetch: Callable[[list[str]], list[Any]]) -> None:
        self._fetch = fetch  # point ids -> records (Qdrant's retrieve)
        self._buckets: dict[int, dict[int, int]] = {}
        self.dirty: set[int] = set()

    def load(self, buckets: Iterable[int]) -> None:
        todo = sorted(set(buckets) - set(self._buckets))
        if not todo:
            return
        found = {r.payload["bucket"]: r.payload.get("df") or {}
                 for r in self._fetch([schema.df_point(b) for b in todo])}
        for b in todo:
            self._buckets[b] = {int(k): int(v) for k, v in found.get(b, {}).items()}

    def get(self, indices: Sequence[int]) -> list[int]:
        self.load(bucket_of(i) for i in indices)
        return [self._buckets[bucket_of(i)].get(i, 0) for i in indices]

    def add(self, indices: Iterable[int], delta: int) -> None:
        indices = list(indices)
        self.load(bucket_of(i) for i in indices)
        for i in indices:
            b = bucket_of(i)
            n = self._buckets[b].get(i, 0) + delta
            if n > 0:
                self._buckets[b][i] = n
            else:
                self._buckets[b].pop(i, None)
            self.dirty.add(b)

    def reset(self) -> None:
        """Start from zero counts in every bucket (a recount after a crash)."""
        self._buckets = {b: {} for b in range(BUCKETS)}
        self.dirty = set(range(BUCKETS))

    def dirty_points(self) -> list[qm.PointStruct]:
        return [qm.PointStruct(id=schema.df_point(b), vector={}, payload={
            schema.KIND: schema.DF, "bucket": b,
            "df": {str(i): n for i, n in self._buckets[b].items()}}) for b in sorted(self.dirty)]


def scores_matrix(counts: Sequence[dict[int, int]], terms: Sequence[str]) -> np.ndarray:
    """``(len(counts), len(terms))`` term counts of each passage for each term."""
    idx = [term_index(t) for t in terms]
    return np.array([[c.get(i, 0) for i in idx] for c in counts], dtype=np.float64
                    ).reshape(len(counts), len(terms))
