"""An index on disk: a folder with ``manifest.json``, ``store.sqlite`` and, for an IVF index,
``faiss.index``.

SQLite is the truth (articles, passages, sentence spans, passage and sentence vectors, each
write one transaction); ``manifest.json`` and ``faiss.index`` are derived from it and rebuilt
when missing, stale or damaged (an exact index is built from SQLite on every open). One writer
at a time (a lock on ``.write.lock``); readers keep working during a write and pick up its
commits on their next search.

:class:`IndexStore` puts together the parts: the connection (:mod:`embeddings.database`), the
reads (:class:`~embeddings.reading.StoreReads`), the live faiss index
(:class:`~embeddings.live_index.LiveIndex`) and, when writable, the writer
(:class:`~embeddings.writer.StoreWriter`).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
from filelock import BaseFileLock

from corpus.models import Article, Passage
from embeddings import database as db
from embeddings import faiss_index as fx
from embeddings import migrations
from embeddings.errors import IndexStoreError, sqlite_error, translated
from embeddings.layout import DATABASE, FAISS, MANIFEST, IndexLayout
from embeddings.live_index import LiveIndex
from embeddings.lock import acquire, try_acquire
from embeddings.lookup import Lookup
from embeddings.models import FORMAT_VERSION, Manifest, StoredPassage
from embeddings.opening import check_index_folder, check_new_folder, connect_checked, manifest_ok
from embeddings.reading import StoreReads
from embeddings.writer import Batch, StoreWriter, write_manifest

log = logging.getLogger("embeddings")


class IndexStore:
    """One index folder, opened for reading or (holding the write lock) for writing."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, writable: bool,
                 lock: BaseFileLock | None = None) -> None:
        self.path = path
        self.writable = writable
        self._lock = lock
        self._db = db.StoreConnection(path, conn)
        self.dim = int(db.get_meta(conn)["dim"])
        self.reads = StoreReads(self._db, self.dim)
        self._live = LiveIndex(self._db, self.dim, writable=writable)
        self.writer = StoreWriter(self._db, self.reads, self._live) if writable else None

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, *, model: str, dim: int, weights_sha256: str,
               wait: bool | float = False) -> IndexStore:
        """Make a new index in ``path`` (absent, empty, or holding only what an index may leave
        behind: see :meth:`IndexLayout.holds_only_leftovers`) and open it for writing."""
        path = Path(path).expanduser().absolute()
        check_new_folder(path)
        lock, conn = None, None
        try:
            path.mkdir(parents=True, exist_ok=True)
            lock = acquire(path, wait)
            conn = db.connect(IndexLayout(path).database)
            migrations.migrate(conn)
            created = db.now().isoformat()
            conn.execute("BEGIN IMMEDIATE")
            db.set_meta(conn, format_version=FORMAT_VERSION, model=model, dim=dim,
                        weights_sha256=weights_sha256, index_type=fx.FLAT, generation=0,
                        created=created, updated=created)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _release(lock, conn)
            raise sqlite_error(exc, path) from None
        except OSError as exc:
            _release(lock, conn)
            raise IndexStoreError(f"cannot create an index in {path} ({exc.strerror}): choose a "
                                  "writable folder with --index (or QA_INDEX)") from None
        store = cls(path, conn, writable=True, lock=lock)
        store._live.start_empty()
        store._live.save()
        write_manifest(path, store.manifest)
        return store

    @classmethod
    def open(cls, path: str | Path, *, writable: bool = False,
             wait: bool | float = False) -> IndexStore:
        """Open an existing index; :class:`IndexStoreError` if ``path`` is not one. Opening for
        writing brings the database's schema up to date (see :mod:`embeddings.migrations`)."""
        path = Path(path).expanduser().absolute()
        check_index_folder(path)
        lock = acquire(path, wait) if writable else None
        try:
            conn = connect_checked(path, writable=writable)
        except BaseException:
            _release(lock)
            raise
        store = cls(path, conn, writable=writable, lock=lock)
        try:
            store._start()
        except BaseException:
            store.close()
            raise
        return store

    def _start(self) -> None:
        """Clear what a killed writer left, load the faiss index, write a missing manifest."""
        layout = IndexLayout(self.path)
        if self.writable:
            for tmp in layout.temp_files():
                tmp.unlink(missing_ok=True)
        with translated(self.path):
            self._live.load()
        if self.writer is not None:
            self.writer.write_manifest()
        elif not manifest_ok(layout.manifest):
            self._heal_manifest()

    def _heal_manifest(self) -> None:
        """A reader rewrites a missing or unreadable manifest when no writer is running."""
        lock = try_acquire(self.path)
        if lock is None:
            return
        try:
            log.info("%s is missing or unreadable; writing it from %s", MANIFEST, DATABASE)
            write_manifest(self.path, self.manifest)
        except IndexStoreError as exc:
            log.warning("%s", exc)
        finally:
            lock.release()

    @property
    def is_open(self) -> bool:
        """Whether the store is open (:meth:`close` not called yet)."""
        return self._db.is_open

    def close(self) -> None:
        """Save ``faiss.index`` if this writer changed it, and release the lock."""
        with self._db.lock:
            if not self._db.is_open:
                return
            try:
                if self.writer is not None and self._live.generation >= 0:
                    self.writer.maintain()
                    if self._live.unsaved:
                        self._live.save()
                    if not IndexLayout(self.path).manifest.exists():  # deleted while open
                        self.writer.write_manifest()
            except (OSError, IndexStoreError, sqlite3.Error) as exc:  # rebuilt on the next open
                log.warning("could not save %s (%s); it will be rebuilt from %s", FAISS,
                            getattr(exc, "strerror", None) or exc, DATABASE)
            finally:
                self._db.close()
                _release(self._lock)
                self._lock = None

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing (see embeddings.writer) ----------------------------------------------------
    def _writer(self) -> StoreWriter:
        if self.writer is None:
            raise IndexStoreError(f"index {self.path} is open read-only: open it with "
                                  "writable=True to change it")
        return self.writer

    def batch(self) -> AbstractContextManager[Batch]:
        """``with store.batch() as b: b.upsert(...); b.remove(...)``: one transaction."""
        return self._writer().batch()

    def upsert(self, article: Article, passages: Sequence[Passage], vectors: np.ndarray,
               sentence_vectors: Sequence[np.ndarray] | None = None) -> None:
        """Store (or replace) one article with its passages and their vectors (and, if given,
        their sentences' vectors)."""
        self._writer().upsert(article, passages, vectors, sentence_vectors)

    def remove(self, article_ids: Sequence[str]) -> int:
        """Remove articles and their passages; returns how many were stored."""
        return self._writer().remove(article_ids)

    def lookup(self) -> Lookup:
        """A read-only view on a connection of its own, for another thread."""
        return Lookup(IndexLayout(self.path).database)

    def check_model(self, model: str, dim: int, weights_sha256: str | None = None) -> None:
        """:class:`IndexStoreError` naming both models if ``model``/``dim`` is not this index's
        (the same weights under another name or path are accepted)."""
        m = self.reads.meta()
        same_weights = weights_sha256 is not None and weights_sha256 == m["weights_sha256"]
        if int(m["dim"]) != dim or (m["model"] != model and not same_weights):
            raise IndexStoreError(
                f"index {self.path} was built with {m['model']} ({m['dim']}-dim vectors), not "
                f"{model} ({dim}-dim): use --model {m['model']}, or another --index folder")

    # -- the faiss index (see embeddings.live_index) ----------------------------------------
    def rebuild_faiss(self, index_type: str | None = None) -> None:
        """Build the faiss index afresh from the vectors in SQLite (and save it)."""
        with translated(self.path):
            self._live.rebuild(index_type)

    def save_faiss(self) -> None:
        self._live.save()

    def refresh(self) -> None:
        """Bring the in-memory faiss index up to the last committed generation."""
        with translated(self.path):
            self._live.refresh()

    @property
    def index_type(self) -> str:
        return self._live.index_type

    @property
    def faiss_ntotal(self) -> int:
        """How many vectors the in-memory faiss index holds."""
        return self._live.ntotal

    def search(self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, vids)``, each ``(n, k)``, best first; vid ``-1`` (score ``-inf``) marks an
        empty slot. ``allowed``: the only vids to consider (see :meth:`vids_matching`)."""
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        n = len(queries)
        scores = np.full((n, max(k, 0)), -np.inf, dtype=np.float32)
        vids = np.full((n, max(k, 0)), -1, dtype=np.int64)
        if k <= 0:
            return scores, vids
        if queries.shape[1] != self.dim:
            raise ValueError(f"queries have dimension {queries.shape[1]}, the index {self.dim}")
        if allowed is not None:
            allowed = np.unique(np.asarray(allowed, dtype=np.int64))
            if not len(allowed):
                return scores, vids
        with translated(self.path):
            return self._live.search(queries, k, allowed)

    # -- reading (see embeddings.reading) ---------------------------------------------------
    @property
    def manifest(self) -> Manifest:
        """The manifest as of the last commit."""
        return self.reads.manifest

    @property
    def generation(self) -> int:
        """+1 for every committed write: a cheap way to tell that the index changed."""
        return self.reads.generation

    def counts(self) -> tuple[int, int]:
        """``(articles, passages)`` stored."""
        return self.reads.counts()

    def passages(self, vids: Sequence[int]) -> list[StoredPassage]:
        """The passages with these vids, in the same order; unknown vids are left out."""
        return self.reads.passages(vids)

    def iter_passages(self) -> Iterator[StoredPassage]:
        """Every passage, ordered by vid."""
        return self.reads.iter_passages()

    def vectors(self, vids: Sequence[int]) -> np.ndarray:
        """float32 ``(len(vids), dim)``; :class:`IndexStoreError` if a vid is not stored."""
        return self.reads.vectors(vids)

    def sentence_vectors(self, vids: Sequence[int]) -> dict[int, np.ndarray]:
        """``{vid: (sentences, dim) float32}`` for those of ``vids`` with stored sentence
        vectors (late-chunked at indexing time)."""
        return self.reads.sentence_vectors(vids)

    def passages_without_sentence_vectors(self) -> list[int]:
        return self.reads.passages_without_sentence_vectors()

    def article(self, article_id: str) -> Article | None:
        return self.reads.article(article_id)

    def articles(self) -> Iterator[Article]:
        return self.reads.articles()

    def copy_groups(self, article_ids: Sequence[str]) -> dict[str, str]:
        """The copy group id of each known article (an article with no copy: its own id)."""
        return self.reads.copy_groups(article_ids)

    def group_members(self, group_ids: Sequence[str]) -> dict[str, list[str]]:
        """The article ids of each known group, oldest-indexed first."""
        return self.reads.group_members(group_ids)

    def ungrouped(self) -> dict[str, list[int]]:
        """``{article id: vids}`` of the articles not compared for copies yet (an index from
        before copy groups, or articles written outside ``qa index``), oldest first."""
        return self.reads.ungrouped()

    def vids_matching(self, *, source: str | None = None, published_from: dt.date | None = None,
                      published_to: dt.date | None = None, undated: bool = False
                      ) -> np.ndarray:
        """The vids of passages whose article matches all the filters given."""
        return self.reads.vids_matching(source=source, published_from=published_from,
                                        published_to=published_to, undated=undated)

    def info(self) -> dict[str, Any]:
        """What ``qa info`` shows (the fields of ``qa.IndexInfo``, plus a few)."""
        return self.reads.info()


def _release(lock: BaseFileLock | None, conn: sqlite3.Connection | None = None) -> None:
    if conn is not None:
        conn.close()
    if lock is not None:
        lock.release()
