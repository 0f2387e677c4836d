"""An index on disk: a folder with ``manifest.json``, ``store.sqlite`` and ``faiss.index``.

SQLite is the truth (articles, passages, sentence spans and vectors, each write one
transaction); ``faiss.index`` is derived from it and rebuilt or topped up when missing, stale or
damaged. One writer at a time (a lock on ``.write.lock``); readers keep working during a write
and pick up its commits on their next search.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpus.models import Article
from embeddings import database as db
from embeddings import faiss_index as fx
from embeddings.errors import IndexStoreError
from embeddings.layout import DATABASE, FAISS, LOCK, MANIFEST, IndexLayout
from embeddings.models import FORMAT_VERSION
from embeddings.reading import StoreReads
from embeddings.writer import StoreWriter, sqlite_error

log = logging.getLogger("embeddings")

EXACT_SUBSET = 20_000  # a filter allowing at most this many vids is searched exactly


class IndexStore(StoreReads):
    """One index folder, opened for reading or (holding the write lock) for writing."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, writable: bool, lock=None):
        self.path = path
        self.writable = writable
        self._conn = conn
        self._lock = lock
        self._mutex = threading.RLock()
        self._index = None
        self._index_type = ""
        self._index_gen = -1
        self._saved_gen = -1
        meta = db.get_meta(conn)
        self.dim = int(meta["dim"])
        self.writer = StoreWriter(self) if writable else None

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, *, model: str, dim: int, weights_sha256: str,
               wait: bool | float = False) -> IndexStore:
        """Make a new index in ``path`` (absent or an empty folder) and open it for writing."""
        path = Path(path).expanduser().absolute()
        if (path / MANIFEST).exists():
            raise IndexStoreError(f"{path} already holds an index: open it instead")
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise IndexStoreError(f"{path} is not empty and not an index: choose a new or empty "
                                  "folder with --index (or QA_INDEX)")
        try:
            path.mkdir(parents=True, exist_ok=True)
            lock = _acquire(path, wait)
            conn = db.connect(path / DATABASE)
            conn.executescript(db.SCHEMA)
            created = db.now().isoformat()
            conn.execute("BEGIN IMMEDIATE")
            db.set_meta(conn, format_version=FORMAT_VERSION, model=model, dim=dim,
                        weights_sha256=weights_sha256, index_type=fx.FLAT, generation=0,
                        created=created, updated=created)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise sqlite_error(exc, path) from None
        except OSError as exc:
            raise IndexStoreError(f"cannot create an index in {path} ({exc.strerror}): choose a "
                                  "writable folder with --index (or QA_INDEX)") from None
        store = cls(path, conn, writable=True, lock=lock)
        store._index = fx.build(fx.FLAT, dim, np.empty(0, np.int64), np.empty((0, dim)))
        store._index_type, store._index_gen = fx.FLAT, 0
        store.save_faiss()
        store.writer.write_manifest()
        return store

    @classmethod
    def open(cls, path: str | Path, *, writable: bool = False,
             wait: bool | float = False) -> IndexStore:
        """Open an existing index; :class:`IndexStoreError` if ``path`` is not one."""
        path = Path(path).expanduser().absolute()
        if not path.is_dir():
            raise IndexStoreError(f"no index at {path}: build one with `qa index PATH --index "
                                  f"{path}`")
        if not (path / MANIFEST).is_file() or not (path / DATABASE).is_file():
            raise IndexStoreError(f"{path} is not an index (no {MANIFEST} or {DATABASE}): give "
                                  "an index folder, or a new or empty one to build an index in")
        lock = _acquire(path, wait) if writable else None
        try:
            conn = db.connect(path / DATABASE, readonly=not writable)
            meta = db.get_meta(conn)
            if writable:
                conn.executescript(db.SCHEMA)  # a no-op unless a table was added since
        except sqlite3.Error as exc:
            if lock:
                lock.release()
            if "not a database" in str(exc) or "no such table" in str(exc):
                raise IndexStoreError(f"{path / DATABASE} is damaged or not an index database "
                                      f"({exc}): rebuild the index in a new folder") from None
            raise sqlite_error(exc, path) from None
        if int(meta.get("format_version", 0)) > FORMAT_VERSION:
            if lock:
                lock.release()
            raise IndexStoreError(f"{path} was written by a newer version of this program "
                                  f"(format {meta['format_version']}): upgrade it")
        if writable:  # temp files of a writer that was killed while saving
            for tmp in IndexLayout(path).temp_files():
                tmp.unlink(missing_ok=True)
        store = cls(path, conn, writable=writable, lock=lock)
        store._load_faiss()
        if writable:
            store.writer.write_manifest()
        return store

    def close(self) -> None:
        """Save ``faiss.index`` if this writer changed it, and release the lock."""
        with self._mutex:
            if self._conn is None:
                return
            try:
                if self.writable and self._index_gen >= 0:
                    self.writer.maintain()
                    if self._index_gen != self._saved_gen:
                        self.save_faiss()
            except (OSError, IndexStoreError) as exc:  # derived data: rebuilt on the next open
                log.warning("could not save %s (%s); it will be rebuilt from %s", FAISS,
                            getattr(exc, "strerror", None) or exc, DATABASE)
            finally:
                self._conn.close()
                self._conn = None
                if self._lock is not None:
                    self._lock.release()

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing (see embeddings.writer) ----------------------------------------------------
    def _writer(self) -> StoreWriter:
        if self.writer is None:
            raise IndexStoreError(f"index {self.path} is open read-only: open it with "
                                  "writable=True to change it")
        return self.writer

    def batch(self):
        """``with store.batch() as b: b.upsert(...); b.remove(...)``: one transaction."""
        return self._writer().batch()

    def upsert(self, article: Article, passages: Sequence, vectors: np.ndarray) -> None:
        """Store (or replace) one article with its passages and their vectors."""
        self._writer().upsert(article, passages, vectors)

    def remove(self, article_ids: Sequence[str]) -> int:
        """Remove articles and their passages; returns how many were stored."""
        return self._writer().remove(article_ids)

    def lookup(self) -> db.Lookup:
        """A read-only view on a connection of its own, for another thread."""
        return db.Lookup(self.path / DATABASE)

    def check_model(self, model: str, dim: int, weights_sha256: str | None = None) -> None:
        """:class:`IndexStoreError` naming both models if ``model``/``dim`` is not this index's
        (the same weights under another name or path are accepted)."""
        m = db.get_meta(self._conn)
        same_weights = weights_sha256 is not None and weights_sha256 == m["weights_sha256"]
        if int(m["dim"]) != dim or (m["model"] != model and not same_weights):
            raise IndexStoreError(
                f"index {self.path} was built with {m['model']} ({m['dim']}-dim vectors), not "
                f"{model} ({dim}-dim): use --model {m['model']}, or another --index folder")

    # -- faiss -----------------------------------------------------------------------------
    def _load_faiss(self) -> None:
        generation = db.generation(self._conn)
        try:
            loaded = fx.load(self.path / FAISS)
        except fx.IndexFileError as exc:
            missing = not (self.path / FAISS).exists()
            (log.info if missing else log.warning)("%s; rebuilding it from %s", exc, DATABASE)
            self.rebuild_faiss()
            return
        if loaded.generation > generation or loaded.index.d != self.dim:
            log.warning("%s does not match %s; rebuilding it", FAISS, DATABASE)
            self.rebuild_faiss()
            return
        self._index, self._index_type = loaded.index, loaded.index_type
        self._index_gen = self._saved_gen = loaded.generation
        self.refresh()

    def rebuild_faiss(self, index_type: str | None = None) -> None:
        """Build the faiss index afresh from the vectors in SQLite (and save it if writable),
        streaming them in chunks."""
        with self._mutex:
            self._conn.execute("BEGIN")
            try:
                generation = db.generation(self._conn)
                vids = np.fromiter((r[0] for r in self._conn.execute(
                    "SELECT vid FROM vectors ORDER BY vid")), dtype=np.int64)
                index_type = index_type or fx.choose_type(len(vids), self._index_type or None)
                want, sample = fx.training_size(index_type), None
                if want:
                    pick = vids if len(vids) <= want else np.sort(
                        np.random.default_rng(0).choice(vids, want, replace=False))
                    sample = self.vectors(pick)
                index = fx.new_index(index_type, self.dim, sample)
                del sample
                cur = self._conn.execute("SELECT vid, vector FROM vectors ORDER BY vid")
                while rows := cur.fetchmany(50_000):
                    fx.add(index, np.array([r[0] for r in rows], dtype=np.int64),
                           db.from_blobs([r[1] for r in rows], self.dim))
            finally:
                self._conn.execute("COMMIT")
            self._index, self._index_type, self._index_gen = index, index_type, generation
            if self.writable:
                db.set_meta(self._conn, index_type=index_type)
                self.save_faiss()
            else:
                self._try_save_as_reader()

    def _try_save_as_reader(self) -> None:
        """A reader that healed the file saves it when no writer is running."""
        try:
            lock = _acquire(self.path, False)
        except IndexStoreError:
            return
        try:
            if db.generation(self._conn) == self._index_gen:
                self.save_faiss()
        except OSError:
            pass
        finally:
            lock.release()

    def save_faiss(self) -> None:
        with self._mutex:
            fx.save(self._index, self._index_type, self._index_gen, self.path / FAISS)
            self._saved_gen = self._index_gen

    def refresh(self) -> None:
        """Bring the in-memory faiss index up to the last committed generation."""
        with self._mutex:
            if self._conn.in_transaction or db.generation(self._conn) == self._index_gen:
                return
            if self._index_gen < 0:  # an update was cut short: start again
                self.rebuild_faiss()
                return
            self._conn.execute("BEGIN")
            try:
                generation = db.generation(self._conn)
                gone = [r[0] for r in self._conn.execute(
                    "SELECT vid FROM removed WHERE generation > ?", (self._index_gen,))]
                rows = self._conn.execute(
                    "SELECT v.vid, v.vector FROM vectors v JOIN passages p ON p.vid = v.vid "
                    "WHERE p.generation > ? ORDER BY v.vid", (self._index_gen,)).fetchall()
            finally:
                self._conn.execute("COMMIT")
            fx.remove(self._index, np.asarray(gone, dtype=np.int64))
            fx.add(self._index, np.asarray([r[0] for r in rows], dtype=np.int64),
                   db.from_blobs([r[1] for r in rows], self.dim))
            self._index_gen = generation

    @property
    def index_type(self) -> str:
        return self._index_type

    # -- reading ---------------------------------------------------------------------------
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
        with self._mutex:
            self.refresh()
            if self._index.ntotal == 0:
                return scores, vids
            if fx.is_exact(self._index_type):
                s, v = fx.search(self._index, self._index_type, queries, k, allowed)
            elif allowed is not None and len(allowed) <= EXACT_SUBSET:
                return self._exact(queries, k, allowed)
            else:
                _, cand = fx.search(self._index, self._index_type, queries, k * fx.RERANK, allowed)
                return self._rerank(queries, k, cand)
        w = min(k, s.shape[1])
        scores[:, :w], vids[:, :w] = s[:, :w], v[:, :w]
        return scores, vids

    def _exact(self, queries: np.ndarray, k: int, vids: np.ndarray):
        return _top_k(queries @ self.vectors(vids).T, vids, k)

    def _rerank(self, queries: np.ndarray, k: int, cand: np.ndarray):
        """Re-score IVF/SQ8 candidates with the exact float32 vectors from SQLite."""
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        vids = np.full((len(queries), k), -1, dtype=np.int64)
        for i, row in enumerate(cand):
            row = row[row >= 0]
            s, v = _top_k(queries[i:i + 1] @ self.vectors(row).T, row, k)
            scores[i], vids[i] = s[0], v[0]
        return scores, vids

def _top_k(scores: np.ndarray, vids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
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


def _acquire(path: Path, wait: bool | float):
    """The write lock of ``path``; fails fast (or waits up to ``wait`` s, forever if True)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(path / LOCK), timeout=-1 if wait is True else float(wait or 0),
                    thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise IndexStoreError(f"another process is writing to the index {path}: wait for it to "
                              "finish, or pass --wait") from None
    except OSError as exc:
        if exc.errno in (13, 30):  # EACCES, EROFS
            raise IndexStoreError(f"index folder {path} is read-only: make it writable or "
                                  "choose another with --index") from None
        raise IndexStoreError(f"cannot lock the index {path} ({exc.strerror})") from None
    return lock
