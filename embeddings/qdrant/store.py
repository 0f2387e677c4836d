"""An index in a Qdrant collection: the :class:`~embeddings.protocols.PassageStore` Protocol
(and :class:`~embeddings.protocols.LexicalStore`) on Qdrant, local mode or a server.

Everything an answer needs is in the collection (see :mod:`embeddings.qdrant.schema`), so a
``qa serve`` on any machine needs only the URL. Readers see each point as soon as it is
written; a batch's term statistics and generation land when it ends.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qdrant_client import models as qm

from corpus.models import Article, Passage
from embeddings.database import now
from embeddings.errors import IndexStoreError
from embeddings.models import FORMAT_VERSION, Manifest, StoredPassage
from embeddings.qdrant import schema
from embeddings.qdrant.connection import Connection
from embeddings.qdrant.info import collection_info, index_type
from embeddings.qdrant.lookup import QdrantLookup
from embeddings.qdrant.meta import MetaPoint
from embeddings.qdrant.reads import QdrantReads
from embeddings.qdrant.terms import Analyzer
from embeddings.qdrant.url import Layout, StoreURL
from embeddings.qdrant.writer import QdrantBatch, QdrantWriter


class QdrantStore:
    """One collection, opened for reading or (holding the lock in its meta point) writing."""

    def __init__(self, conn: Connection, *, writable: bool, analyzer: Analyzer | None = None,
                 wait: bool | float = False) -> None:
        self.url = conn.url
        self._conn = conn
        conn.tune_local(conn.url.collection)
        self.meta = MetaPoint(conn, conn.url.collection)
        m = self.meta.read()
        self.dim = int(m["dim"])
        self.reads = QdrantReads(conn, conn.url.collection, self.dim, self.meta)
        self.reads.quantized = bool(m.get("layout", {}).get("quantization") == "int8")
        self.writable = writable
        self._open = True
        self._manifest: Manifest | None = None
        self.writer: QdrantWriter | None = None
        if writable:
            owner = self.meta.acquire(wait)
            try:
                self.writer = QdrantWriter(self.reads, analyzer, owner)
            except BaseException:
                self.meta.release(owner)
                raise

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, url: StoreURL, *, writable: bool = False, analyzer: Analyzer | None = None,
             wait: bool | float = False) -> QdrantStore:
        """Open the index in ``url``'s collection; :class:`IndexStoreError` if there is none."""
        conn = Connection(url)
        try:
            if not conn.call(conn.client.collection_exists, url.collection):
                raise IndexStoreError(f"no index at {url} (no collection {url.collection!r}): "
                                      f"build one with `qa index ARTICLES --store {url.text}`")
            return cls(conn, writable=writable, analyzer=analyzer, wait=wait)
        except BaseException:
            conn.close()
            raise

    @classmethod
    def create(cls, url: StoreURL, *, model: str, dim: int, weights_sha256: str,
               analyzer: Analyzer, wait: bool | float = False) -> QdrantStore:
        """Open ``url``'s collection for writing, making it (with ``url.layout``) if absent;
        an existing one must hold an index of the same model."""
        conn = Connection(url)
        try:
            if not conn.call(conn.client.collection_exists, url.collection):
                _make_collection(conn, url, model=model, dim=dim, weights_sha256=weights_sha256,
                                 analyzer=analyzer)
            store = cls(conn, writable=True, analyzer=analyzer, wait=wait)
        except BaseException:
            conn.close()
            raise
        try:
            store.check_model(model, dim, weights_sha256)
        except BaseException:
            store.close()
            raise
        return store

    @property
    def path(self) -> Path:
        """The local-mode folder; for a server, a name for messages only."""
        return self.url.path if self.url.path is not None else Path(str(self.url))

    @property
    def is_open(self) -> bool:
        return self._open

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        try:
            if self.writer is not None:
                self.meta.release(self.writer.owner)
        finally:
            self._conn.close()

    def __enter__(self) -> QdrantStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_model(self, model: str, dim: int, weights_sha256: str | None = None) -> None:
        m = self.meta.read()
        same_weights = weights_sha256 is not None and weights_sha256 == m["weights_sha256"]
        if int(m["dim"]) != dim or (m["model"] != model and not same_weights):
            raise IndexStoreError(
                f"index {self.url} was built with {m['model']} ({m['dim']}-dim vectors), not "
                f"{model} ({dim}-dim): use --model {m['model']}, or another --store")

    # -- identity and figures --------------------------------------------------------------
    @property
    def manifest(self) -> Manifest:
        m = self.meta.read()
        cached = self._manifest
        if cached is not None and cached.generation == int(m["generation"]):
            return cached
        articles, passages = self.reads.counts()
        self._manifest = Manifest(
            format_version=FORMAT_VERSION, model=m["model"], dim=int(m["dim"]),
            weights_sha256=m["weights_sha256"], index_type=index_type(self.url, m),
            articles=articles, passages=passages, generation=int(m["generation"]),
            created=dt.datetime.fromisoformat(m["created"]),
            updated=dt.datetime.fromisoformat(m["updated"]))
        return self._manifest

    @property
    def generation(self) -> int:
        return int(self.meta.read()["generation"])

    def info(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "path": str(self.url), "articles": m.articles, "passages": m.passages,
            "model": m.model, "dim": m.dim, "index_type": m.index_type, "created": m.created,
            "updated": m.updated, "generation": m.generation,
            "weights_sha256": m.weights_sha256, "format_version": m.format_version,
            "copy_groups": self.reads.count_groups(),
            **collection_info(self.reads, self.url),
        }

    # -- reading ---------------------------------------------------------------------------
    def counts(self) -> tuple[int, int]:
        return self.reads.counts()

    def search(self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        return self.reads.search(queries, k, allowed)

    def vectors(self, vids: Sequence[int]) -> np.ndarray:
        return self.reads.vectors(vids)

    def passages(self, vids: Sequence[int]) -> list[StoredPassage]:
        return self.reads.passages(vids)

    def iter_passages(self) -> Iterator[StoredPassage]:
        return self.reads.iter_passages()

    def sentence_vectors(self, vids: Sequence[int]) -> dict[int, np.ndarray]:
        return self.reads.sentence_vectors(vids)

    def passages_without_sentence_vectors(self) -> list[int]:
        return self.reads.passages_without_sentence_vectors()

    def article(self, article_id: str) -> Article | None:
        return self.reads.article(article_id)

    def articles(self) -> Iterator[Article]:
        return self.reads.articles()

    def vids_matching(self, *, source: str | None = None, published_from: dt.date | None = None,
                      published_to: dt.date | None = None, undated: bool = False
                      ) -> np.ndarray:
        return self.reads.vids_matching(source=source, published_from=published_from,
                                        published_to=published_to, undated=undated)

    def copy_groups(self, article_ids: Sequence[str]) -> dict[str, str]:
        return self.reads.copy_groups(article_ids)

    def group_members(self, group_ids: Sequence[str]) -> dict[str, list[str]]:
        return self.reads.group_members(group_ids)

    def ungrouped(self) -> dict[str, list[int]]:
        return self.reads.ungrouped()

    def lookup(self) -> QdrantLookup:
        return QdrantLookup(self.reads)

    # the lexical side (LexicalStore)
    def term_stats(self) -> tuple[int, float]:
        return self.reads.term_stats()

    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        return self.reads.document_frequencies(terms)

    def term_counts(self, vids: Sequence[int], terms: Sequence[str]
                    ) -> tuple[np.ndarray, np.ndarray]:
        return self.reads.term_counts(vids, terms)

    def sparse_search(self, term_weights: Mapping[str, float], k: int, *,
                      allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.reads.sparse_search(term_weights, k, allowed=allowed)

    # -- writing ---------------------------------------------------------------------------
    def _writer(self) -> QdrantWriter:
        if self.writer is None:
            raise IndexStoreError(f"index {self.url} is open read-only: open it with "
                                  "writable=True to change it")
        return self.writer

    def batch(self) -> AbstractContextManager[QdrantBatch]:
        return self._writer().batch()

    def upsert(self, article: Article, passages: Sequence[Passage], vectors: np.ndarray,
               sentence_vectors: Sequence[np.ndarray] | None = None) -> None:
        with self.batch() as b:
            b.upsert(article, passages, vectors, sentence_vectors)

    def remove(self, article_ids: Sequence[str]) -> int:
        with self.batch() as b:
            return b.remove(article_ids)


def _make_collection(conn: Connection, url: StoreURL, *, model: str, dim: int,
                     weights_sha256: str, analyzer: Analyzer) -> None:
    """The collection with ``url.layout``, its payload indexes and its meta point."""
    layout = _defaults(url)
    quantization = (qm.ScalarQuantization(scalar=qm.ScalarQuantizationConfig(
        type=qm.ScalarType.INT8, quantile=0.99, always_ram=True))
        if layout.quantization == "int8" else None)
    client, name = conn.client, url.collection
    conn.call(client.create_collection, name,
              vectors_config={schema.DENSE: qm.VectorParams(
                  size=dim, distance=qm.Distance.DOT, on_disk=layout.on_disk)},
              sparse_vectors_config={schema.SPARSE: qm.SparseVectorParams(
                  index=qm.SparseIndexParams(on_disk=bool(layout.on_disk)))},
              shard_number=layout.shards, replication_factor=layout.replicas,
              on_disk_payload=True, quantization_config=quantization)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # local mode: "payload indexes have no..."
        for field, kind in {**schema.INDEXES, "id": qm.PayloadSchemaType.KEYWORD}.items():
            conn.call(client.create_payload_index, name, field, field_schema=kind, wait=True)
    created = now().isoformat()
    conn.call(client.upsert, name, wait=True, points=[qm.PointStruct(
        id=schema.META_ID, vector={}, payload={
            schema.KIND: schema.META, "format_version": FORMAT_VERSION, "model": model,
            "dim": dim, "weights_sha256": weights_sha256, "generation": 0, "created": created,
            "updated": created, "lex_docs": 0, "lex_total": 0, "lex_k1": analyzer.k1,
            "lex_b": analyzer.b, "seq": 0, "pending": None, "lock": None,
            "sentence_bits": schema.SENTENCE_BITS,
            "layout": {"shards": layout.shards, "replicas": layout.replicas,
                       "on_disk": layout.on_disk, "quantization": layout.quantization}})])


def _defaults(url: StoreURL) -> Layout:
    """Local mode: one shard in memory (it has no quantization: search is brute force). A
    server: int8 scalar quantization of the dense vectors (kept in RAM, originals rescore),
    originals in RAM unless ``on_disk``; shards and replicas as the server decides."""
    given = url.layout
    if url.local:
        return Layout(shards=None, replicas=None, on_disk=given.on_disk,
                      quantization=given.quantization)
    return Layout(shards=given.shards, replicas=given.replicas, on_disk=given.on_disk,
                  quantization=given.quantization or "int8")


if TYPE_CHECKING:  # mypy checks that the Qdrant store is what qa codes against
    from embeddings.protocols import LexicalStore, PassageStore, StoreLookup, WriteBatch

    def _seams(store: QdrantStore) -> None:
        passages: PassageStore = store
        lexical: LexicalStore = store
        lookup: StoreLookup = store.lookup()
        with store.batch() as b:
            batch: WriteBatch = b
        print(passages, lexical, lookup, batch)
