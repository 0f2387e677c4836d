"""The seams between the layers: what ``qa`` needs of a passage store and of a text encoder.

:class:`embeddings.IndexStore` and :class:`embeddings.Encoder` implement them; another store
(e.g. one on Qdrant) implements :class:`PassageStore` to take its place. ``isinstance`` works
(runtime-checkable) but checks only that the members exist; mypy checks their types.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from corpus.models import Article, Passage
from embeddings.models import Manifest, StoredPassage


@runtime_checkable
class WriteBatch(Protocol):
    """The changes of one transaction (``with store.batch() as b``)."""

    @property
    def added_vids(self) -> list[int]:
        """The vids of the passages upserted so far in this batch, in order."""

    def upsert(self, article: Article, passages: Sequence[Passage], vectors: np.ndarray,
               sentence_vectors: Sequence[np.ndarray] | None = None) -> None: ...

    def set_sentence_vectors(self, vids: Sequence[int], passages: Sequence[Passage],
                             vectors: Sequence[np.ndarray]) -> None: ...

    def update_metadata(self, article: Article) -> None: ...

    def remove(self, article_ids: Sequence[str]) -> int: ...

    def touch_file(self, path: str, size: int, mtime_ns: int,
                   recipe: str | None = None) -> None: ...

    def forget_files(self, paths: Sequence[str]) -> None: ...

    def set_copy_group(self, article_id: str, group_id: str) -> None:
        """Put ``article_id`` in copy group ``group_id`` (the id of the group's first article):
        the article is a wire copy, reprint or re-headlined copy of that story."""


@runtime_checkable
class StoreLookup(Protocol):
    """Read-only questions an indexing run asks from its reader thread (``store.lookup()``)."""

    def article_meta(self, article_id: str) -> tuple[Any, ...] | None: ...

    def file_stamps(self) -> dict[str, tuple[int, int, str | None]]: ...

    def count_articles(self, path: str) -> int: ...

    def articles_under(self, root: str) -> list[tuple[str, str]]: ...

    def files_under(self, root: str) -> list[str]: ...

    def close(self) -> None: ...


@runtime_checkable
class PassageStore(Protocol):
    """Passages with their vectors and articles: everything ``qa.engine``, ``qa.indexing`` and
    ``qa.assistant`` read and write. Vids are the store's int64 passage ids."""

    @property
    def path(self) -> Path:
        """The index folder (``bm25/`` is kept in it)."""

    @property
    def writable(self) -> bool: ...

    @property
    def is_open(self) -> bool: ...

    @property
    def manifest(self) -> Manifest: ...

    @property
    def generation(self) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...

    def check_model(self, model: str, dim: int, weights_sha256: str | None = None) -> None: ...

    # reading
    def counts(self) -> tuple[int, int]: ...

    def search(self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]: ...

    def vectors(self, vids: Sequence[int]) -> np.ndarray: ...

    def passages(self, vids: Sequence[int]) -> list[StoredPassage]: ...

    def iter_passages(self) -> Iterator[StoredPassage]: ...

    def sentence_vectors(self, vids: Sequence[int]) -> dict[int, np.ndarray]:
        """Stored sentence vectors by vid (one row per sentence); passages without are left
        out (their sentences are then embedded alone)."""

    def passages_without_sentence_vectors(self) -> list[int]: ...

    def article(self, article_id: str) -> Article | None: ...

    def vids_matching(self, *, source: str | None = None, published_from: dt.date | None = None,
                      published_to: dt.date | None = None, undated: bool = False
                      ) -> np.ndarray:
        """The vids of the passages whose article matches the filters (dates inclusive; an
        undated article matches a date range only with ``undated``)."""

    def info(self) -> dict[str, Any]:
        """Counts and identity for ``qa info``; includes ``copy_groups`` (distinct stories)."""

    # copy groups (one story printed by several outlets), set at index time
    def copy_groups(self, article_ids: Sequence[str]) -> dict[str, str]:
        """The copy group id of each known article; an article grouped with no other is its
        own group (its id). Unknown ids are left out."""

    def group_members(self, group_ids: Sequence[str]) -> dict[str, list[str]]:
        """The article ids of each group, oldest-indexed first (groups unknown: left out)."""

    def lookup(self) -> StoreLookup: ...

    # writing
    def batch(self) -> AbstractContextManager[WriteBatch]: ...

    def upsert(self, article: Article, passages: Sequence[Passage], vectors: np.ndarray,
               sentence_vectors: Sequence[np.ndarray] | None = None) -> None: ...

    def remove(self, article_ids: Sequence[str]) -> int: ...


@runtime_checkable
class TextEncoder(Protocol):
    """Texts in, float32 L2-normalised vectors out, with the model's identity and limits."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def weights_sha256(self) -> str: ...

    @property
    def max_tokens(self) -> int: ...

    @property
    def backend(self) -> str: ...

    @property
    def batch_size(self) -> int:
        """Texts per forward pass when a call does not say."""

    def encode(self, texts: Sequence[str], batch_size: int | None = None,
               progress: Callable[[int], None] | None = None) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                        batch_size: int | None = None, progress: Callable[[int], None] | None = None
                        ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, per passage, one vector per sentence span ``(start, end)``
        (character offsets into its text); see :meth:`embeddings.Encoder.encode_passages`."""

    def encode_query(self, text: str) -> np.ndarray: ...

    def release(self) -> None:
        """Let go of what the loaded model holds; the next call loads it again."""

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def warm_up(self) -> None:
        """Load the model now rather than on the first ``encode``."""


class FilteredVids(np.ndarray[Any, np.dtype[np.int64]]):
    """What :meth:`PassageStore.vids_matching` returns from a store that filters by payload
    (Qdrant): the matching vids, and in ``where`` the filter that found them, so the store's
    own searches apply the filter (with its payload indexes) rather than a list of ids."""

    where: dict[str, Any] | None = None

    @classmethod
    def of(cls, vids: np.ndarray, where: dict[str, Any]) -> FilteredVids:
        out = np.asarray(vids, dtype=np.int64).view(cls)
        out.where = where
        return out


@runtime_checkable
class LexicalStore(Protocol):
    """A store that keeps the lexical side itself (Qdrant: sparse term vectors and term
    statistics in the collection), so BM25 needs no local files. ``qa.engine.lexical`` scores
    with these; terms are the strings ``qa.engine.terms`` makes."""

    def term_stats(self) -> tuple[int, float]:
        """``(documents, average length in terms)`` of the lexical side."""

    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]: ...

    def term_counts(self, vids: Sequence[int], terms: Sequence[str]
                    ) -> tuple[np.ndarray, np.ndarray]:
        """``(lengths, counts)``: each passage's length in terms (0: not stored) and its
        ``(len(vids), len(terms))`` term counts."""

    def sparse_search(self, term_weights: Mapping[str, float], k: int, *,
                      allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(vids, scores)`` of the ``k`` passages whose term weights best match
        ``term_weights`` (BM25 with the statistics of when each passage was written)."""
