"""The index in Qdrant: a second :class:`~embeddings.protocols.PassageStore`.

Importing this package is light (store URLs only); :func:`open_store` and :func:`create_store`
load qdrant-client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from embeddings.qdrant.url import API_KEY_ENV, Layout, StoreURL, is_store_url, parse

if TYPE_CHECKING:
    from embeddings.qdrant.store import QdrantStore
    from embeddings.qdrant.terms import Analyzer


def open_store(url: str | StoreURL, *, writable: bool = False,
               analyzer: Analyzer | None = None, wait: bool | float = False) -> QdrantStore:
    from embeddings.qdrant.store import QdrantStore

    return QdrantStore.open(parse(url) if isinstance(url, str) else url, writable=writable,
                            analyzer=analyzer, wait=wait)


def create_store(url: str | StoreURL, *, model: str, dim: int, weights_sha256: str,
                 analyzer: Analyzer, wait: bool | float = False) -> QdrantStore:
    from embeddings.qdrant.store import QdrantStore

    return QdrantStore.create(parse(url) if isinstance(url, str) else url, model=model,
                              dim=dim, weights_sha256=weights_sha256, analyzer=analyzer,
                              wait=wait)


__all__ = ["API_KEY_ENV", "Layout", "StoreURL", "create_store", "is_store_url", "open_store",
           "parse"]
