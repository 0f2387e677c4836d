"""What ``qa info`` shows of a Qdrant store beyond the folder store's fields: the collection,
its points and shards, and how it is laid out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from qdrant_client import models as qm

from embeddings.qdrant import schema
from embeddings.qdrant.reads import QdrantReads
from embeddings.qdrant.url import StoreURL

MAX_SOURCES = 10_000


def index_type(url: StoreURL, meta: dict[str, Any]) -> str:
    """``qdrant-local,Flat`` (exact: local mode searches by brute force), or the server's
    ``qdrant,HNSW`` (+``SQ8`` with scalar quantization)."""
    if url.local:
        return "qdrant-local,Flat"
    quantized = (meta.get("layout") or {}).get("quantization") == "int8"
    return "qdrant,HNSW,SQ8" if quantized else "qdrant,HNSW"


def collection_info(reads: QdrantReads, url: StoreURL) -> dict[str, Any]:
    conn, name = reads.conn, reads.collection
    described = conn.call(conn.client.get_collection, name)
    params = described.config.params
    facets = conn.call(conn.client.facet, name, key="source", limit=MAX_SOURCES,
                       facet_filter=schema.kind(schema.ARTICLE))
    sources = sorted(str(h.value) for h in facets.hits)
    layout = reads.meta.read().get("layout") or {}
    return {
        "sources": sources, "earliest": _edge(reads, qm.Direction.ASC),
        "latest": _edge(reads, qm.Direction.DESC), "size_bytes": _size(url),
        "store": url.text, "collection": name, "points": described.points_count or 0,
        "shards": params.shard_number or 1, "replicas": params.replication_factor or 1,
        "status": str(getattr(described.status, "value", described.status)),
        "quantization": layout.get("quantization") or "none",
        "on_disk": bool(layout.get("on_disk")),
    }


def _edge(reads: QdrantReads, direction: qm.Direction) -> dt.date | None:
    where = schema.kind(schema.ARTICLE, qm.FieldCondition(key="day", range=qm.Range(gte=0)))
    for r in reads.scroll(where, payload=qm.PayloadSelectorInclude(include=["published"]),
                          order_by=qm.OrderBy(key="day", direction=direction)):
        published = (r.payload or {}).get("published")
        return dt.date.fromisoformat(published) if published else None
    return None


def _size(url: StoreURL) -> int:
    """Bytes on disk in local mode; 0 for a server (its disks are its own)."""
    if url.path is None or not url.path.exists():
        return 0
    return sum(f.stat().st_size for f in url.path.rglob("*") if f.is_file())
