"""Opening an index kept in Qdrant (a store URL), for reading or for writing, with what qa
hands the store: its tokeniser and BM25 parameters (:func:`analyzer`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embeddings import TextEncoder
    from embeddings.qdrant import QdrantStore
    from embeddings.qdrant.terms import Analyzer


def analyzer() -> Analyzer:
    """How a Qdrant store turns passages into terms: qa's tokeniser and BM25 parameters."""
    from embeddings.qdrant.terms import Analyzer
    from qa.engine.lexical import K1, B
    from qa.engine.terms import terms

    return Analyzer(terms=terms, k1=K1, b=B)


def open_store(url: str, *, writable: bool = False, encoder: TextEncoder | None = None,
               wait: bool | float = False) -> QdrantStore:
    """The Qdrant store at ``url``. For writing, an ``encoder`` is needed: a store that does not
    exist yet is made for its model, one that does must hold that model's vectors."""
    from embeddings.qdrant import create_store
    from embeddings.qdrant import open_store as open_qdrant

    if not writable:
        return open_qdrant(url)
    if encoder is None:
        raise ValueError("open_store(writable=True) needs the encoder")
    return create_store(url, model=encoder.name, dim=encoder.dim,
                        weights_sha256=encoder.weights_sha256, analyzer=analyzer(), wait=wait)
