"""Writing to a Qdrant store: batches of upserts and removals, and the repair after a crash.

Qdrant has no transaction over many points, so a batch is made safe another way. Its start
is journalled in the meta point (``pending``); its points are written as it goes, and at the
end the touched ``df`` buckets, then the meta point (generation + 1, term statistics, journal
cleared). Point ids come from the passages' ids (:func:`schema.vid_of`), so writing the same
article again replaces rather than duplicates. A writer that finds a journal left behind (its
predecessor was killed, or a batch failed half-way) repairs first (:meth:`QdrantWriter.repair`):
passages whose article version is not stored are deleted, as are articles missing passages
(their files are read again on the next run: a file's record is written after its articles),
and the term statistics are counted afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from qdrant_client import models as qm

from corpus import indexed_text
from corpus.models import Article, Passage
from embeddings.database import now
from embeddings.errors import IndexStoreError
from embeddings.qdrant import schema, terms
from embeddings.qdrant.reads import QdrantReads

log = logging.getLogger("embeddings")
UPSERT = 256  # points per request


class WriterState:
    """What the one writer keeps in memory between batches (loaded once, after any repair)."""

    def __init__(self, reads: QdrantReads, analyzer: terms.Analyzer | None, owner: str) -> None:
        self.reads = reads
        self.analyzer = analyzer
        self.owner = owner
        m = reads.meta.read()
        self.generation = int(m["generation"])
        self.lex_docs = int(m.get("lex_docs", 0))
        self.lex_total = int(m.get("lex_total", 0))
        self.seq = int(m.get("seq", 0))
        self.k1, self.b = float(m["lex_k1"]), float(m["lex_b"])
        self.df = terms.Frequencies(lambda ids: reads.retrieve(ids))


class QdrantBatch:
    """The changes of one batch (``with store.batch() as b``); see :class:`WriteBatch`."""

    def __init__(self, state: WriterState, generation: int) -> None:
        self._s = state
        self._r = state.reads
        self.generation = generation
        self.added_vids: list[int] = []
        self.changed = False

    # -- articles and passages -------------------------------------------------------------
    def upsert(self, article: Article, passages: Sequence[Passage], vectors: np.ndarray,
               sentence_vectors: Sequence[np.ndarray] | None = None) -> None:
        dim, s = self._r.dim, self._s
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(passages), dim):
            raise ValueError(f"expected {len(passages)} vectors of dimension {dim}, got "
                             f"{vectors.shape}")
        for p in passages:
            if p.article_id != article.id or article.text[p.start:p.end] != p.text:
                raise ValueError(f"passage {p.id} does not belong to article {article.id}")
        if s.analyzer is None:
            raise IndexStoreError(f"{self._r.conn.url} was opened without a tokeniser: open it "
                                  "through qa to write passages")
        if self._r.article_payload(article.id, ["id"]) is not None:
            # outside a journalled batch every passage has its article: a new one has none
            self._drop_passages([article.id])
            self._leave_groups([article.id])
        counted = [s.analyzer.counts(indexed_text(p.text, article.title, article.source,
                                                  article.published)) for p in passages]
        s.lex_docs += len(counted)
        s.lex_total += sum(dl for _, dl in counted)
        avgdl = s.lex_total / max(s.lex_docs, 1)
        stored = schema.as_stored(vectors, dim)
        points = []
        for i, (p, (tf, dl)) in enumerate(zip(passages, counted, strict=True)):
            payload = schema.passage_payload(article, p, dl=dl, avgdl=avgdl)
            if sentence_vectors is not None:
                payload.update(self._sentences(p, sentence_vectors[i]))
            points.append(qm.PointStruct(
                id=schema.vid_of(p.id, article.content_hash), payload=payload,
                vector={schema.DENSE: stored[i].tolist(),
                        schema.SPARSE: terms.weights(tf, dl, avgdl, s.k1, s.b)}))
            s.df.add(tf, +1)
        self._upsert(points)
        s.seq += 1
        self._upsert([qm.PointStruct(
            id=schema.article_point(article.id), vector={},
            payload=schema.article_payload(article, seq=s.seq, generation=self.generation,
                                           passages=len(passages)))])
        self.added_vids += [int(p.id) for p in points]
        self.changed = True

    def _sentences(self, p: Passage, vectors: np.ndarray) -> dict[str, Any]:
        v = np.asarray(vectors, np.float32).reshape(-1, self._r.dim)
        if len(v) != len(p.sentences):
            raise ValueError(f"passage {p.id}: {len(v)} sentence vectors for "
                             f"{len(p.sentences)} sentences")
        return {schema.SENTENCES: schema.encode_sentences(v, self._r.dim,
                                                          self._r.sentence_bits()),
                "has_sv": True}

    def set_sentence_vectors(self, vids: Sequence[int], passages: Sequence[Passage],
                             vectors: Sequence[np.ndarray]) -> None:
        for vid, p, v in zip(vids, passages, vectors, strict=True):
            payload = self._sentences(p, v)
            self._r.conn.call(self._r.conn.client.set_payload, self._r.collection,
                              payload=payload, points=[int(vid)], wait=True)
            self.changed = True

    def update_metadata(self, article: Article) -> None:
        old = self._r.article_payload(article.id, ["path", "url", "site"])
        if old is None or (old.get("path"), old.get("url"), old.get("site")) == (
                article.path, article.url, article.site):
            return
        payload = schema.moved_payload(article)
        client, coll = self._r.conn.client, self._r.collection
        self._r.conn.call(client.set_payload, coll, payload=payload,
                          points=[schema.article_point(article.id)], wait=True)
        self._r.conn.call(client.set_payload, coll, payload=payload, wait=True,
                          points=qm.Filter(must=[schema.match(schema.KIND, schema.PASSAGE),
                                                 schema.match("article_id", article.id)]))
        self.changed = True

    def remove(self, article_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(article_ids))
        stored = self._r.retrieve([schema.article_point(a) for a in ids], payload=False)
        self._drop_passages(ids)
        self._leave_groups(ids)
        if stored:
            self._delete([r.id for r in stored])
            self.changed = True
        return len(stored)

    def _drop_passages(self, article_ids: Sequence[str]) -> None:
        """Delete the passages of these articles (every version, even a crash's leftovers),
        taking their terms out of the statistics."""
        s = self._s
        for i in range(0, len(article_ids), 100):
            where = schema.kind(schema.PASSAGE, qm.FieldCondition(
                key="article_id", match=qm.MatchAny(any=list(article_ids[i:i + 100]))))
            found = list(self._r.scroll(where, payload=qm.PayloadSelectorInclude(
                include=["dl"]), vectors=[schema.SPARSE]))
            for r in found:
                vec = r.vector.get(schema.SPARSE) if isinstance(r.vector, dict) else None
                if isinstance(vec, qm.SparseVector):
                    s.df.add(vec.indices, -1)
                s.lex_docs -= 1
                s.lex_total -= int((r.payload or {}).get("dl", 0))
            if found:
                self._delete([r.id for r in found])
                self.changed = True

    # -- files and copy groups -------------------------------------------------------------
    def touch_file(self, path: str, size: int, mtime_ns: int, recipe: str | None = None) -> None:
        self._upsert([qm.PointStruct(id=schema.file_point(path), vector={}, payload={
            schema.KIND: schema.FILE, "path": path, "dirs": schema.dirs(path), "size": size,
            "mtime_ns": mtime_ns, "recipe": recipe})])
        self.changed = True

    def forget_files(self, paths: Sequence[str]) -> None:
        if paths:
            self._delete([schema.file_point(p) for p in paths])
            self.changed = True

    def set_copy_group(self, article_id: str, group_id: str) -> None:
        if self._r.article_payload(article_id, ["id"]) is None:
            return
        self._r.conn.call(self._r.conn.client.set_payload, self._r.collection,
                          payload={"group": group_id, "head": group_id == article_id},
                          points=[schema.article_point(article_id)], wait=True)
        self.changed = True

    def _leave_groups(self, article_ids: Sequence[str]) -> None:
        """The other members of groups labelled by ``article_ids`` take their oldest member's
        id as the label (as the folder store does: no label names an article that left)."""
        leaving = set(article_ids)
        where = schema.kind(schema.ARTICLE, qm.FieldCondition(
            key="group", match=qm.MatchAny(any=sorted(leaving))))
        members: dict[str, list[tuple[int, str]]] = {}
        for r in self._r.scroll(where, payload=qm.PayloadSelectorInclude(
                include=["id", "group", "seq"])):
            p = r.payload or {}
            if p["id"] not in leaving:
                members.setdefault(p["group"], []).append((p["seq"], p["id"]))
        for rows in members.values():
            rows.sort()
            first = rows[0][1]
            for _, aid in rows:
                self._r.conn.call(self._r.conn.client.set_payload, self._r.collection,
                                  payload={"group": first, "head": aid == first},
                                  points=[schema.article_point(aid)], wait=True)

    # -- requests --------------------------------------------------------------------------
    def _upsert(self, points: list[qm.PointStruct]) -> None:
        for i in range(0, len(points), UPSERT):
            self._r.conn.call(self._r.conn.client.upsert, self._r.collection,
                              points=points[i:i + UPSERT], wait=True)

    def _delete(self, ids: list[Any]) -> None:
        for i in range(0, len(ids), UPSERT):
            self._r.conn.call(self._r.conn.client.delete, self._r.collection,
                              points_selector=qm.PointIdsList(points=ids[i:i + UPSERT]),
                              wait=True)


class QdrantWriter:
    """The write side of a store opened for writing, holding the lock (``owner``)."""

    def __init__(self, reads: QdrantReads, analyzer: terms.Analyzer | None, owner: str) -> None:
        self.reads = reads
        self.owner = owner
        if reads.meta.read().get("pending") is not None:
            log.warning("%s: the last write was cut short; repairing it", reads.conn.url)
            repair(reads)
        self.state = WriterState(reads, analyzer, owner)

    @contextmanager
    def batch(self) -> Iterator[QdrantBatch]:
        meta, s = self.reads.meta, self.state
        meta.renew(self.owner)
        batch = QdrantBatch(s, s.generation + 1)
        meta.update(pending={"generation": batch.generation})
        try:
            yield batch
        except BaseException:
            if batch.changed:  # written half-way: make the collection consistent again
                repair(self.reads)
                self.state = WriterState(self.reads, s.analyzer, self.owner)
            else:
                meta.update(pending=None)
            raise
        if not batch.changed:
            meta.update(pending=None)
            return
        self._upsert_df()
        s.generation = batch.generation
        meta.update(generation=s.generation, updated=now().isoformat(), lex_docs=s.lex_docs,
                    lex_total=s.lex_total, seq=s.seq, pending=None)

    def _upsert_df(self) -> None:
        points = self.state.df.dirty_points()
        for i in range(0, len(points), 16):
            self.reads.conn.call(self.reads.conn.client.upsert, self.reads.collection,
                                 points=points[i:i + 16], wait=True)
        self.state.df.dirty.clear()


def repair(reads: QdrantReads) -> None:
    """Make the collection consistent after a cut-short batch: delete passages of article
    versions not stored, and articles missing passages; count the term statistics again."""
    articles: dict[str, dict[str, Any]] = {}
    for r in reads.scroll(schema.kind(schema.ARTICLE), payload=qm.PayloadSelectorInclude(
            include=["id", "content_hash", "passages", "seq"])):
        articles[(r.payload or {})["id"]] = {**(r.payload or {}), "found": 0}
    df = terms.Frequencies(lambda ids: [])
    df.reset()
    orphans: list[Any] = []
    kept: list[tuple[str, int, list[int]]] = []
    for r in reads.scroll(schema.kind(schema.PASSAGE), payload=qm.PayloadSelectorInclude(
            include=["article_id", "content_hash", "dl"]), vectors=[schema.SPARSE]):
        p = r.payload or {}
        a = articles.get(p["article_id"])
        vec = r.vector.get(schema.SPARSE) if isinstance(r.vector, dict) else None
        if a is None or a["content_hash"] != p["content_hash"] or vec is None:
            orphans.append(r.id)
            continue
        a["found"] += 1
        kept.append((p["article_id"], int(p["dl"]), list(getattr(vec, "indices", []))))
    broken = {aid for aid, a in articles.items() if a["found"] != a["passages"]}
    docs = total = 0
    for aid, dl, indices in kept:
        if aid in broken:
            continue
        docs, total = docs + 1, total + dl
        df.add(indices, +1)
    doomed = orphans + [schema.article_point(a) for a in broken]
    if broken:
        doomed += [r.id for r in reads.scroll(schema.kind(schema.PASSAGE, qm.FieldCondition(
            key="article_id", match=qm.MatchAny(any=sorted(broken)))), payload=False)]
    for i in range(0, len(doomed), UPSERT):
        reads.conn.call(reads.conn.client.delete, reads.collection,
                        points_selector=qm.PointIdsList(points=doomed[i:i + UPSERT]), wait=True)
    points = df.dirty_points()
    for i in range(0, len(points), 16):
        reads.conn.call(reads.conn.client.upsert, reads.collection, points=points[i:i + 16],
                        wait=True)
    seq = max((int(a.get("seq", 0)) for a in articles.values()), default=0)
    m = reads.meta.read()
    reads.meta.update(generation=int(m["generation"]) + 1, updated=now().isoformat(),
                      lex_docs=docs, lex_total=total, seq=seq, pending=None)
    log.info("%s repaired: %d stray passages and %d incomplete articles removed",
             reads.conn.url, len(orphans), len(broken))
