"""``store.sqlite``: connections, queries and row conversions of an index's database (the schema
is in :mod:`embeddings.migrations`).

Vectors are float32 BLOBs in ``vectors``, one row a passage, written in the same transaction as
the passage. ``vid`` (the faiss id) is an AUTOINCREMENT key, never reused, so a stale faiss index
is brought up to date from ``passages.generation`` (added) and ``removed`` (deleted) alone.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from corpus.models import Article, Sentence
from embeddings.models import StoredPassage

T = TypeVar("T")
IN_LIST = 900  # values per SQL ``IN (...)`` list, below SQLite's limit of bound parameters
Row = tuple[Any, ...]

PASSAGE_COLUMNS = ("p.vid, p.id, p.article_id, p.idx, p.start, p.\"end\", p.text, p.sentences, "
                   "a.title, a.source, a.published, a.url, a.path")
ARTICLE_COLUMNS = "id, title, text, source, site, published, url, path, content_hash"


def in_lists(values: Sequence[T], size: int = IN_LIST) -> Iterator[tuple[list[T], str]]:
    """``values`` in chunks of at most ``size``, each with its ``?,?,...`` placeholders: for
    ``f"... IN ({marks})"`` queries over more values than SQLite binds at once."""
    for i in range(0, len(values), size):
        part = list(values[i:i + size])
        yield part, ",".join("?" * len(part))


class StoreConnection:
    """An index's one SQLite connection, shared by the store's reads, writes and faiss index,
    and the lock that serialises its use across threads."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = root
        self.conn = conn
        self.lock = threading.RLock()
        self._open = True

    @property
    def is_open(self) -> bool:
        return self._open

    def close(self) -> None:
        with self.lock:
            if self._open:
                self._open = False
                self.conn.close()


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode (readers never block the writer, nor it them)."""
    if readonly:
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                   check_same_thread=False, isolation_level=None)
            conn.execute("SELECT 1 FROM meta LIMIT 1")
        except sqlite3.OperationalError:  # a read-only folder: no -shm can be made
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True,
                                   check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def get_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta")}


def set_meta(conn: sqlite3.Connection, **values: object) -> None:
    conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     [(k, str(v)) for k, v in values.items()])


def generation(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0


def to_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def all_vids(conn: sqlite3.Connection) -> np.ndarray:
    return np.fromiter((r[0] for r in conn.execute("SELECT vid FROM vectors ORDER BY vid")),
                       dtype=np.int64)


def vector_rows(conn: sqlite3.Connection, dim: int, chunk: int = 50_000
                ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(vids, vectors)`` of every stored vector, ``chunk`` rows at a time, by vid."""
    cur = conn.execute("SELECT vid, vector FROM vectors ORDER BY vid")
    while rows := cur.fetchmany(chunk):
        yield (np.array([r[0] for r in rows], dtype=np.int64),
               from_blobs([r[1] for r in rows], dim))


def vectors_of(conn: sqlite3.Connection, vids: Sequence[int], dim: int) -> np.ndarray:
    """float32 ``(len(vids), dim)``; ``KeyError(vid)`` for a vid that is not stored."""
    rows: dict[int, bytes] = {}
    ids = [int(v) for v in vids if int(v) >= 0]
    for part, marks in in_lists(ids):
        rows.update(conn.execute(f"SELECT vid, vector FROM vectors WHERE vid IN ({marks})", part))
    return from_blobs([rows[int(v)] for v in vids], dim)


def changes_since(conn: sqlite3.Connection, generation: int, dim: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(removed vids, added vids, added vectors)`` of the commits after ``generation``."""
    gone = [r[0] for r in conn.execute("SELECT vid FROM removed WHERE generation > ?",
                                       (generation,))]
    rows = conn.execute("SELECT v.vid, v.vector FROM vectors v JOIN passages p ON p.vid = v.vid "
                        "WHERE p.generation > ? ORDER BY v.vid", (generation,)).fetchall()
    return (np.asarray(gone, dtype=np.int64), np.asarray([r[0] for r in rows], dtype=np.int64),
            from_blobs([r[1] for r in rows], dim))


def from_blobs(blobs: list[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.empty((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim).astype(
        np.float32, copy=False)


def passage_from_row(row: Row) -> StoredPassage:
    vid, pid, article_id, idx, start, end, text, sentences, title, source, pub, url, path = row
    return StoredPassage(
        vid=vid, id=pid, article_id=article_id, index=idx, start=start, end=end, text=text,
        sentences=[Sentence(start=s, end=e) for s, e in json.loads(sentences)],
        title=title, source=source, published=dt.date.fromisoformat(pub) if pub else None,
        url=url, path=path)


def article_from_row(row: Row) -> Article:
    aid, title, text, source, site, pub, url, path, content_hash = row
    return Article(id=aid, title=title, text=text, source=source, site=site,
                   published=dt.date.fromisoformat(pub) if pub else None, url=url, path=path,
                   content_hash=content_hash)


def sentences_json(sentences: list[Sentence]) -> str:
    return json.dumps([[s.start, s.end] for s in sentences], separators=(",", ":"))
