"""Writing to an index: batches of article upserts and removals, one SQLite transaction each.

A committed batch bumps the generation, then updates the live faiss index and the manifest.
``faiss.index`` itself is saved when the store closes (or heals on the next open).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from corpus.models import Article, Passage
from embeddings import database as db
from embeddings import faiss_index as fx
from embeddings import groups
from embeddings.errors import IndexStoreError, sqlite_error
from embeddings.files import atomic_write
from embeddings.layout import IndexLayout
from embeddings.live_index import LiveIndex
from embeddings.models import Manifest
from embeddings.reading import StoreReads


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` of the index in ``root`` (atomically)."""
    path = IndexLayout(root).manifest
    try:
        atomic_write(path, [manifest.model_dump_json(indent=2).encode() + b"\n"])
    except OSError as exc:
        raise IndexStoreError(f"cannot write {path} ({exc.strerror}): check the folder's space "
                              "and permissions") from None


class Batch:
    """The changes of one transaction. Made by :meth:`StoreWriter.batch`."""

    def __init__(self, conn: sqlite3.Connection, generation: int, dim: int) -> None:
        self._conn = conn
        self.generation = generation
        self.dim = dim
        self.added_vids: list[int] = []
        self.added_vectors: list[np.ndarray] = []
        self.removed_vids: list[int] = []
        self.changed = False

    def upsert(self, article: Article, passages: Sequence[Passage], vectors: np.ndarray,
               sentence_vectors: Sequence[np.ndarray] | None = None) -> None:
        """Store ``article`` with its passages and their vectors, replacing any earlier version.
        ``sentence_vectors``: per passage, one vector per sentence (``p.sentences`` order);
        without them the passages' sentences get theirs later (``qa.indexing``)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(passages), self.dim):
            raise ValueError(f"expected {len(passages)} vectors of dimension {self.dim}, got "
                             f"{vectors.shape}")
        conn = self._conn
        self._drop_passages([article.id])
        groups.leave_groups(conn, [article.id])  # compared again (qa.indexing.copies)
        conn.execute(
            f"INSERT INTO articles({db.ARTICLE_COLUMNS}, generation, indexed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "title=excluded.title, text=excluded.text, source=excluded.source, "
            "site=excluded.site, published=excluded.published, url=excluded.url, "
            "path=excluded.path, content_hash=excluded.content_hash, "
            "generation=excluded.generation, indexed_at=excluded.indexed_at, copy_group=NULL",
            (article.id, article.title, article.text, article.source, article.site,
             article.published.isoformat() if article.published else None, article.url,
             article.path, article.content_hash, self.generation, db.now().isoformat()))
        vids: list[int] = []
        for p in passages:
            if p.article_id != article.id or article.text[p.start:p.end] != p.text:
                raise ValueError(f"passage {p.id} does not belong to article {article.id}")
            (vid,) = conn.execute(
                'INSERT INTO passages(id, article_id, idx, start, "end", text, sentences, '
                "generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING vid",
                (p.id, p.article_id, p.index, p.start, p.end, "",  # text: the article's span
                 db.sentences_json(p.sentences), self.generation)).fetchone()
            vids.append(vid)
        conn.executemany("INSERT INTO vectors(vid, vector) VALUES (?, ?)",
                         [(v, db.to_blob(x)) for v, x in zip(vids, vectors, strict=True)])
        if sentence_vectors is not None:
            self.set_sentence_vectors(vids, passages, sentence_vectors)
        self.added_vids += vids
        self.added_vectors.append(db.from_blobs([db.to_blob(x) for x in vectors], self.dim))
        self.changed = True

    def set_sentence_vectors(self, vids: Sequence[int], passages: Sequence[Passage],
                             vectors: Sequence[np.ndarray]) -> None:
        """Store the sentence vectors of stored passages (``vids``), one per sentence each."""
        rows = []
        for vid, p, v in zip(vids, passages, vectors, strict=True):
            if len(v) != len(p.sentences):
                raise ValueError(f"passage {p.id}: {len(v)} sentence vectors for "
                                 f"{len(p.sentences)} sentences")
            rows.append((int(vid), db.sentence_blob(np.asarray(v, np.float32).reshape(-1,
                                                                                    self.dim))))
        self._conn.executemany("INSERT OR REPLACE INTO sentence_vectors(vid, vectors) "
                               "VALUES (?, ?)", rows)
        self.changed = self.changed or bool(rows)

    def update_metadata(self, article: Article) -> None:
        """Refresh an unchanged article's path and metadata (no re-embedding)."""
        n = self._conn.execute(
            "UPDATE articles SET path = ?, url = ?, site = ? WHERE id = ? AND "
            "(path IS NOT ? OR url IS NOT ? OR site IS NOT ?)",
            (article.path, article.url, article.site, article.id, article.path, article.url,
             article.site)).rowcount
        self.changed = self.changed or n > 0

    def remove(self, article_ids: Sequence[str]) -> int:
        """Remove these articles and their passages; returns how many were stored."""
        ids = list(article_ids)
        self._drop_passages(ids)
        groups.leave_groups(self._conn, ids)
        n = 0
        for part, marks in db.in_lists(ids):
            n += self._conn.execute(f"DELETE FROM articles WHERE id IN ({marks})", part).rowcount
        self.changed = self.changed or n > 0
        return n

    def set_copy_group(self, article_id: str, group_id: str) -> None:
        """Put ``article_id`` in the copy group ``group_id`` (the id of its first article; the
        article's own id: a group of its own, compared and found no copy of another)."""
        self.changed = groups.set_group(self._conn, article_id, group_id) > 0 or self.changed

    def touch_file(self, path: str, size: int, mtime_ns: int, recipe: str | None = None) -> None:
        """Record that every article of file ``path`` (this size and mtime, read the way
        ``recipe`` says) is stored, so an unchanged file need not be read again."""
        self._conn.execute("INSERT INTO files(path, size, mtime_ns, recipe) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT(path) DO UPDATE SET size=excluded.size, "
                           "mtime_ns=excluded.mtime_ns, recipe=excluded.recipe",
                           (path, size, mtime_ns, recipe))
        self.changed = True

    def forget_files(self, paths: Sequence[str]) -> None:
        self._conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])
        self.changed = self.changed or bool(paths)  # a batch of only this is committed too

    def _drop_passages(self, article_ids: Sequence[str]) -> None:
        for part, marks in db.in_lists(article_ids):
            vids = [r[0] for r in self._conn.execute(
                f"SELECT vid FROM passages WHERE article_id IN ({marks})", part)]
            if vids:
                self._conn.executemany("INSERT OR REPLACE INTO removed(vid, generation) "
                                       "VALUES (?, ?)", [(v, self.generation) for v in vids])
                self._conn.execute(f"DELETE FROM passages WHERE article_id IN ({marks})", part)
                self.removed_vids += vids
                self.changed = True


class StoreWriter:
    """The write side of a store opened with ``writable=True`` (``store.writer``)."""

    def __init__(self, store_db: db.StoreConnection, reads: StoreReads, live: LiveIndex) -> None:
        self._db = store_db
        self._reads = reads
        self._live = live

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """One transaction: commit on success (generation + 1), roll back on any error."""
        conn, root = self._db.conn, self._db.root
        with self._db.lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                batch = Batch(conn, db.generation(conn) + 1, self._live.dim)
            except sqlite3.Error as exc:
                raise sqlite_error(exc, root) from None
            try:
                yield batch
                if not batch.changed:
                    conn.execute("ROLLBACK")
                    return
                db.set_meta(conn, generation=batch.generation, updated=db.now().isoformat())
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise sqlite_error(exc, root) from None
                raise
            vectors = (np.concatenate(batch.added_vectors) if batch.added_vectors
                       else np.empty((0, self._live.dim), np.float32))
            self._live.apply(batch.generation, batch.removed_vids, batch.added_vids, vectors)
        self.write_manifest()

    def upsert(self, article: Article, passages: Sequence[Passage], vectors: np.ndarray,
               sentence_vectors: Sequence[np.ndarray] | None = None) -> None:
        with self.batch() as b:
            b.upsert(article, passages, vectors, sentence_vectors)

    def remove(self, article_ids: Sequence[str]) -> int:
        with self.batch() as b:
            return b.remove(article_ids)

    def maintain(self) -> None:
        """Switch the faiss index type if the corpus has outgrown (or shrunk below) it."""
        wanted = fx.choose_type(self._live.ntotal, self._live.index_type)
        if wanted != self._live.index_type:
            self._live.rebuild(wanted)
            self.write_manifest()

    def write_manifest(self) -> None:
        write_manifest(self._db.root, self._reads.manifest)
