"""The in-memory faiss index of an open store: the one owner of the index, its type and the
generation it reflects, and of saving it to ``faiss.index``.

An exact index (below :data:`~embeddings.faiss_index.APPROX_FROM` passages) keeps no file: the
vectors in SQLite are the one copy, and the index is built from them when the store opens (well
under a second at that size). Only a trained (IVF) index is saved to ``faiss.index``.

It follows SQLite (the truth): :meth:`LiveIndex.refresh` tops it up with the commits made since
(by this process or another), :meth:`LiveIndex.apply` with a batch this process just committed,
and :meth:`LiveIndex.rebuild` starts again from every stored vector. All use the store's
connection under its lock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from embeddings import database as db
from embeddings import faiss_index as fx
from embeddings.errors import IndexStoreError
from embeddings.layout import DATABASE, IndexLayout
from embeddings.lock import try_acquire

log = logging.getLogger("embeddings")

EXACT_SUBSET = 20_000  # a filter allowing at most this many vids is searched exactly
Hits = tuple[np.ndarray, np.ndarray]  # (scores, vids), each (n, k)


class LiveIndex:
    """The faiss index of the store on ``store_db``, kept at its last committed generation."""

    def __init__(self, store_db: db.StoreConnection, dim: int, *, writable: bool) -> None:
        self._db = store_db
        self.dim = dim
        self.writable = writable
        self._file = IndexLayout(store_db.root).faiss
        self._index: Any = None  # a faiss.Index holding vids as ids
        self._type = ""
        self._generation = -1  # -1: not loaded, or an update was cut short
        self._saved = -1

    @property
    def index_type(self) -> str:
        return self._type

    @property
    def generation(self) -> int:
        """The last committed generation this index reflects (``-1`` if unknown)."""
        return self._generation

    @property
    def ntotal(self) -> int:
        """How many vectors the index holds."""
        return int(self._index.ntotal) if self._index is not None else 0

    @property
    def faiss(self) -> Any:
        """The faiss index itself (read it; change it only through this class)."""
        return self._index

    @property
    def unsaved(self) -> bool:
        """Whether the index holds changes ``faiss.index`` lacks."""
        return self._generation >= 0 and self._generation != self._saved

    # -- getting it ------------------------------------------------------------------------
    def start_empty(self) -> None:
        """An empty exact index, for a new store (generation 0)."""
        with self._db.lock:
            self._index = fx.new_index(fx.FLAT, self.dim)
            self._type, self._generation = fx.FLAT, 0

    def load(self) -> None:
        """Read ``faiss.index`` and top it up; rebuild it if missing, damaged or not this
        database's (a later generation, another dimension). An exact index is built from
        SQLite (a file an older version left is removed by the next writer)."""
        with self._db.lock:
            if db.get_meta(self._db.conn).get("index_type", fx.FLAT) == fx.FLAT:
                self.rebuild(fx.FLAT)
                return
            try:
                loaded = fx.load(self._file)
            except fx.IndexFileError as exc:
                missing = not self._file.exists()
                (log.info if missing else log.warning)("%s; rebuilding it from %s", exc, DATABASE)
                self.rebuild()
                return
            if loaded.generation > db.generation(self._db.conn) or loaded.index.d != self.dim:
                log.warning("%s does not match %s; rebuilding it", self._file.name, DATABASE)
                self.rebuild()
                return
            self._index, self._type = loaded.index, loaded.index_type
            self._generation = self._saved = loaded.generation
            self.refresh()

    def rebuild(self, index_type: str | None = None) -> None:
        """Build the index afresh from the vectors in SQLite, streaming them in chunks (and save
        it: a writer always, a reader when no writer is running)."""
        conn = self._db.conn
        with self._db.lock:
            conn.execute("BEGIN")
            try:
                generation = db.generation(conn)
                vids = db.all_vids(conn)
                index_type = index_type or fx.choose_type(
                    len(vids), self._type or db.get_meta(conn).get("index_type"))
                want, sample = fx.training_size(index_type), None
                if want:
                    pick = vids if len(vids) <= want else np.sort(
                        np.random.default_rng(0).choice(vids, want, replace=False))
                    sample = db.vectors_of(conn, pick.tolist(), self.dim)
                index = fx.new_index(index_type, self.dim, sample)
                del sample
                for ids, vectors in db.vector_rows(conn, self.dim):
                    fx.add(index, ids, vectors)
            finally:
                conn.execute("COMMIT")
            self._index, self._type, self._generation = index, index_type, generation
            if self.writable:
                db.set_meta(conn, index_type=index_type)
                self.save()
            else:
                self._save_as_reader()

    # -- following SQLite ------------------------------------------------------------------
    def refresh(self) -> None:
        """Bring the index up to the last committed generation."""
        conn = self._db.conn
        with self._db.lock:
            if conn.in_transaction or db.generation(conn) == self._generation:
                return
            if self._generation < 0:  # an update was cut short: start again
                self.rebuild()
                return
            conn.execute("BEGIN")
            try:
                generation = db.generation(conn)
                gone, vids, vectors = db.changes_since(conn, self._generation, self.dim)
            finally:
                conn.execute("COMMIT")
            fx.remove(self._index, gone)
            fx.add(self._index, vids, vectors)
            self._generation = generation

    def apply(self, generation: int, removed: Sequence[int], added: Sequence[int],
              vectors: np.ndarray) -> None:
        """Take in a batch just committed as ``generation``: ``removed`` vids out, ``added`` vids
        (``vectors``, in the same order) in, except those removed again in the same batch."""
        with self._db.lock:
            self._generation = -1  # until the update below is complete
            gone = np.asarray(removed, dtype=np.int64)
            fx.remove(self._index, gone)
            vids = np.asarray(added, dtype=np.int64)
            keep = ~np.isin(vids, gone)
            fx.add(self._index, vids[keep], vectors[keep])
            self._generation = generation

    # -- saving ----------------------------------------------------------------------------
    def save(self) -> None:
        """Write ``faiss.index`` (atomically) for a trained (IVF) index; for an exact one, a
        writer removes any file an older version left."""
        with self._db.lock:
            if fx.is_exact(self._type):
                if self.writable:
                    self._file.unlink(missing_ok=True)
            else:
                fx.save(self._index, self._type, self._generation, self._file)
            self._saved = self._generation

    def _save_as_reader(self) -> None:
        """A reader that healed the file saves it when no writer is running."""
        if fx.is_exact(self._type):
            self._saved = self._generation
            return
        lock = try_acquire(self._db.root)
        if lock is None:
            return
        try:
            if db.generation(self._db.conn) == self._generation:
                self.save()
        except OSError:
            pass
        finally:
            lock.release()

    # -- searching -------------------------------------------------------------------------
    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None) -> Hits:
        """``(scores, vids)`` of the ``k`` nearest of float32 ``queries`` (``k`` > 0) among
        ``allowed`` (sorted, unique, not empty) or all; ``-1``/``-inf`` in empty slots."""
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        vids = np.full((len(queries), k), -1, dtype=np.int64)
        with self._db.lock:
            self.refresh()
            if self.ntotal == 0:
                return scores, vids
            if fx.is_exact(self._type):
                s, v = fx.search(self._index, self._type, queries, k, allowed)
            elif allowed is not None and len(allowed) <= EXACT_SUBSET:
                return _top_k(queries @ self._vectors(allowed).T, allowed, k)
            else:
                _, cand = fx.search(self._index, self._type, queries, k * fx.RERANK, allowed)
                return self._rerank(queries, k, cand)
        w = min(k, s.shape[1])
        scores[:, :w], vids[:, :w] = s[:, :w], v[:, :w]
        return scores, vids

    def _rerank(self, queries: np.ndarray, k: int, cand: np.ndarray) -> Hits:
        """Re-score IVF/SQ8 candidates with the exact float32 vectors from SQLite."""
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        vids = np.full((len(queries), k), -1, dtype=np.int64)
        for i, row in enumerate(cand):
            row = row[row >= 0]
            s, v = _top_k(queries[i:i + 1] @ self._vectors(row).T, row, k)
            scores[i], vids[i] = s[0], v[0]
        return scores, vids

    def _vectors(self, vids: np.ndarray) -> np.ndarray:
        try:
            return db.vectors_of(self._db.conn, [int(v) for v in vids], self.dim)
        except KeyError as exc:
            raise IndexStoreError(f"no passage with vid {exc.args[0]} in "
                                  f"{self._db.root}") from None


def _top_k(scores: np.ndarray, vids: np.ndarray, k: int) -> Hits:
    n, m = scores.shape
    out_s = np.full((n, k), -np.inf, dtype=np.float32)
    out_v = np.full((n, k), -1, dtype=np.int64)
    w = min(k, m)
    if w == 0:
        return out_s, out_v
    part = np.argpartition(-scores, w - 1, axis=1)[:, :w]
    top = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-top, axis=1, kind="stable")
    out_s[:, :w] = np.take_along_axis(top, order, axis=1)
    out_v[:, :w] = vids[np.take_along_axis(part, order, axis=1)]
    return out_s, out_v
