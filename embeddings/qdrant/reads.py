"""The read side of a Qdrant store: passages, vectors, articles, filters, searches, figures.

Every call goes through the :class:`~embeddings.qdrant.connection.Connection` (one-line errors,
the local-mode lock). Searches ask Qdrant for passage points only, with the filters as payload
conditions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from qdrant_client import models as qm

from corpus.models import Article
from embeddings.errors import IndexStoreError
from embeddings.models import StoredPassage
from embeddings.protocols import FilteredVids
from embeddings.qdrant import schema, terms
from embeddings.qdrant.connection import Connection
from embeddings.qdrant.meta import MetaPoint

PAGE = 1000
NOT_SV = qm.PayloadSelectorExclude(exclude=[schema.SENTENCES])


def _only(conditions: list[qm.Condition]) -> qm.Filter | None:
    """A search's filter: only passage points have vectors, so no ``kind`` condition is needed
    (local mode then skips checking every point's payload when there is no filter)."""
    return qm.Filter(must=conditions) if conditions else None


class QdrantReads:
    def __init__(self, conn: Connection, collection: str, dim: int, meta: MetaPoint) -> None:
        self.conn = conn
        self.collection = collection
        self.dim = dim
        self.meta = meta
        self.quantized = False  # set by the store from the collection's config
        self._params: tuple[float, float] | None = None
        self._bits: int | None = None

    # -- plumbing --------------------------------------------------------------------------
    def retrieve(self, ids: Sequence[int | str], *, payload: Any = True,
                 vectors: Any = False) -> list[qm.Record]:
        out: list[qm.Record] = []
        for i in range(0, len(ids), PAGE):
            out += self.conn.call(self.conn.client.retrieve, self.collection,
                                  list(ids[i:i + PAGE]), with_payload=payload,
                                  with_vectors=vectors)
        return out

    def scroll(self, where: qm.Filter, *, payload: Any = True, vectors: Any = False,
               order_by: qm.OrderBy | None = None) -> Iterator[qm.Record]:
        offset: Any = None
        while True:
            kwargs: dict[str, Any] = {"order_by": order_by} if order_by else {"offset": offset}
            records, offset = self.conn.call(
                self.conn.client.scroll, self.collection, scroll_filter=where, limit=PAGE,
                with_payload=payload, with_vectors=vectors, **kwargs)
            yield from records
            if order_by is not None or offset is None:
                return

    def count(self, where: qm.Filter) -> int:
        return int(self.conn.call(self.conn.client.count, self.collection, count_filter=where,
                                  exact=True).count)

    def conditions(self, allowed: np.ndarray | None) -> list[qm.Condition] | None:
        """Payload conditions for ``allowed`` (None: nothing is allowed)."""
        if allowed is None:
            return []
        where = getattr(allowed, "where", None)
        if where is not None:
            return schema.article_conditions(**where)
        ids = np.unique(np.asarray(allowed, dtype=np.int64))
        return [schema.has_ids(ids.tolist())] if len(ids) else None

    # -- passages --------------------------------------------------------------------------
    def counts(self) -> tuple[int, int]:
        return self.count(schema.kind(schema.ARTICLE)), self.count(schema.kind(schema.PASSAGE))

    def passages(self, vids: Sequence[int]) -> list[StoredPassage]:
        ids = [int(v) for v in vids if int(v) >= 0]
        found = {int(r.id): r.payload for r in self.retrieve(ids, payload=NOT_SV)
                 if r.payload and r.payload.get(schema.KIND) == schema.PASSAGE}
        return [schema.stored_passage(int(v), found[int(v)]) for v in vids if int(v) in found]

    def iter_passages(self) -> Iterator[StoredPassage]:
        for r in self.scroll(schema.kind(schema.PASSAGE), payload=NOT_SV):
            yield schema.stored_passage(int(r.id), r.payload or {})

    def vectors(self, vids: Sequence[int]) -> np.ndarray:
        ids = [int(v) for v in vids]
        found = {int(r.id): r.vector for r in self.retrieve(ids, payload=False,
                                                            vectors=[schema.DENSE])}
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        for row, vid in enumerate(ids):
            vec = found.get(vid)
            if not isinstance(vec, dict) or schema.DENSE not in vec:
                raise IndexStoreError(f"no passage with vid {vid} in {self.conn.url}")
            out[row] = np.asarray(vec[schema.DENSE], dtype=np.float32)
        return out

    def sentence_vectors(self, vids: Sequence[int]) -> dict[int, np.ndarray]:
        ids = [int(v) for v in vids if int(v) >= 0]
        sel = qm.PayloadSelectorInclude(include=[schema.SENTENCES])
        bits = self.sentence_bits()
        return {int(r.id): schema.decode_sentences(r.payload[schema.SENTENCES], self.dim, bits)
                for r in self.retrieve(ids, payload=sel)
                if r.payload and r.payload.get(schema.SENTENCES)}

    def passages_without_sentence_vectors(self) -> list[int]:
        where = schema.kind(schema.PASSAGE, schema.match("has_sv", False))
        return sorted(int(r.id) for r in self.scroll(where, payload=False))

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray]:
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        scores = np.full((len(queries), max(k, 0)), -np.inf, dtype=np.float32)
        vids = np.full((len(queries), max(k, 0)), -1, dtype=np.int64)
        if k <= 0:
            return scores, vids
        if queries.shape[1] != self.dim:
            raise ValueError(f"queries have dimension {queries.shape[1]}, the index {self.dim}")
        more = self.conditions(allowed)
        if more is None:
            return scores, vids
        params = (qm.SearchParams(quantization=qm.QuantizationSearchParams(
            rescore=True, oversampling=2.0)) if self.quantized else None)
        for row, q in enumerate(queries):
            hits = self.conn.call(self.conn.client.query_points, self.collection,
                                  query=q.tolist(), using=schema.DENSE, limit=k,
                                  query_filter=_only(more),
                                  search_params=params, with_payload=False).points
            for col, h in enumerate(hits):
                scores[row, col], vids[row, col] = h.score, int(h.id)
        return scores, vids

    def vids_matching(self, *, source: str | None = None, published_from: dt.date | None = None,
                      published_to: dt.date | None = None, undated: bool = False
                      ) -> np.ndarray:
        where: dict[str, Any] = {"source": source, "published_from": published_from,
                                 "published_to": published_to, "undated": undated}
        found = self.scroll(schema.kind(schema.PASSAGE, *schema.article_conditions(**where)),
                            payload=False)
        return FilteredVids.of(np.array(sorted(int(r.id) for r in found), dtype=np.int64),
                               where)

    # -- articles --------------------------------------------------------------------------
    def article_payload(self, article_id: str, fields: list[str] | None = None
                        ) -> dict[str, Any] | None:
        sel: Any = qm.PayloadSelectorInclude(include=fields) if fields else True
        found = self.retrieve([schema.article_point(article_id)], payload=sel)
        return dict(found[0].payload) if found and found[0].payload else None

    def article(self, article_id: str) -> Article | None:
        payload = self.article_payload(article_id)
        return schema.article_from(payload) if payload else None

    def articles(self) -> Iterator[Article]:
        for r in self.scroll(schema.kind(schema.ARTICLE)):
            yield schema.article_from(r.payload or {})

    # -- the lexical side ------------------------------------------------------------------
    def term_stats(self) -> tuple[int, float]:
        m = self.meta.read()
        docs = int(m.get("lex_docs", 0))
        return docs, (float(m.get("lex_total", 0)) / docs if docs else 0.0)

    def sentence_bits(self) -> int:
        """How the sentence vectors are coded (fixed at creation; 8 before the meta said)."""
        if self._bits is None:
            self._bits = int(self.meta.read().get("sentence_bits", 8))
        return self._bits

    def weights_params(self) -> tuple[float, float]:
        """The ``k1`` and ``b`` the sparse weights were made with (fixed at creation)."""
        if self._params is None:
            m = self.meta.read()
            self._params = float(m["lex_k1"]), float(m["lex_b"])
        return self._params

    def document_frequencies(self, words: Sequence[str]) -> dict[str, int]:
        freq = terms.Frequencies(lambda ids: self.retrieve(ids))
        counts = freq.get([terms.term_index(t) for t in words])
        return dict(zip(words, counts, strict=True))

    def term_counts(self, vids: Sequence[int], words: Sequence[str]
                    ) -> tuple[np.ndarray, np.ndarray]:
        k1, b = self.weights_params()
        sel = qm.PayloadSelectorInclude(include=["dl", "avgdl"])
        found = {int(r.id): r for r in self.retrieve([int(v) for v in vids], payload=sel,
                                                     vectors=[schema.SPARSE])}
        lengths = np.zeros(len(vids), dtype=np.float64)
        counts: list[dict[int, int]] = []
        for row, vid in enumerate(vids):
            r = found.get(int(vid))
            vec = r.vector.get(schema.SPARSE) if r is not None and isinstance(r.vector,
                                                                              dict) else None
            if r is None or not r.payload or not isinstance(vec, qm.SparseVector):
                counts.append({})
                continue
            lengths[row] = r.payload["dl"]
            counts.append(terms.term_counts(vec, int(r.payload["dl"]),
                                            float(r.payload["avgdl"]), k1, b))
        return lengths, terms.scores_matrix(counts, words)

    def sparse_search(self, term_weights: Mapping[str, float], k: int, *,
                      allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        more = self.conditions(allowed)
        if more is None or not term_weights or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        hits = self.conn.call(self.conn.client.query_points, self.collection,
                              query=terms.query_vector(term_weights), using=schema.SPARSE,
                              limit=k, query_filter=_only(more),
                              with_payload=False).points
        return (np.array([int(h.id) for h in hits], dtype=np.int64),
                np.array([h.score for h in hits], dtype=np.float32))

    # -- copy groups -----------------------------------------------------------------------
    def copy_groups(self, article_ids: Sequence[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(article_ids))
        sel = qm.PayloadSelectorInclude(include=["id", "group"])
        found = self.retrieve([schema.article_point(a) for a in wanted], payload=sel)
        return {r.payload["id"]: r.payload.get("group") or r.payload["id"]
                for r in found if r.payload}

    def group_members(self, group_ids: Sequence[str]) -> dict[str, list[str]]:
        wanted = list(dict.fromkeys(group_ids))
        if not wanted:
            return {}
        where = qm.Filter(must=[schema.match(schema.KIND, schema.ARTICLE)], should=[
            qm.FieldCondition(key="group", match=qm.MatchAny(any=wanted)),
            qm.FieldCondition(key="id", match=qm.MatchAny(any=wanted))])
        sel = qm.PayloadSelectorInclude(include=["id", "group", "seq"])
        rows = sorted((r.payload for r in self.scroll(where, payload=sel) if r.payload),
                      key=lambda p: p["seq"])
        out: dict[str, list[str]] = {}
        for p in rows:
            group = p.get("group") or p["id"]
            if group in wanted:
                out.setdefault(group, []).append(p["id"])
        return {g: out[g] for g in wanted if g in out}

    def ungrouped(self) -> dict[str, list[int]]:
        where = schema.kind(schema.ARTICLE, qm.IsNullCondition(is_null=qm.PayloadField(
            key="group")))
        sel = qm.PayloadSelectorInclude(include=["id", "seq"])
        ids = [p["id"] for p in sorted((r.payload for r in self.scroll(where, payload=sel)
                                        if r.payload), key=lambda p: p["seq"])]
        vids: dict[str, list[int]] = {a: [] for a in ids}
        for i in range(0, len(ids), PAGE):
            cond = qm.FieldCondition(key="article_id", match=qm.MatchAny(any=ids[i:i + PAGE]))
            for r in self.scroll(schema.kind(schema.PASSAGE, cond),
                                 payload=qm.PayloadSelectorInclude(include=["article_id"])):
                vids[(r.payload or {})["article_id"]].append(int(r.id))
        return {a: sorted(v) for a, v in vids.items()}

    def count_groups(self) -> int:
        return self.count(schema.kind(schema.ARTICLE, schema.match("head", True)))
