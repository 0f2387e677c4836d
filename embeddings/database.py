"""``store.sqlite``: the schema, connections and row conversions of an index's database.

Vectors are float32 BLOBs in ``vectors``, one row a passage, written in the same transaction as
the passage. ``vid`` (the faiss id) is an AUTOINCREMENT key, never reused, so a stale faiss index
is brought up to date from ``passages.generation`` (added) and ``removed`` (deleted) alone.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import numpy as np

from corpus.models import Article, Sentence
from embeddings.models import StoredPassage

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, source TEXT, site TEXT,
    published TEXT, url TEXT, path TEXT, content_hash TEXT NOT NULL,
    generation INTEGER NOT NULL, indexed_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS articles_path ON articles(path);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE TABLE IF NOT EXISTS passages (
    vid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
    sentences TEXT NOT NULL, generation INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS passages_article ON passages(article_id);
CREATE INDEX IF NOT EXISTS passages_generation ON passages(generation);
CREATE TABLE IF NOT EXISTS vectors (
    vid INTEGER PRIMARY KEY REFERENCES passages(vid) ON DELETE CASCADE, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS removed (vid INTEGER PRIMARY KEY, generation INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS removed_generation ON removed(generation);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, recipe TEXT);
"""

PASSAGE_COLUMNS = ("p.vid, p.id, p.article_id, p.idx, p.start, p.\"end\", p.text, p.sentences, "
                   "a.title, a.source, a.published, a.url, a.path")
ARTICLE_COLUMNS = "id, title, text, source, site, published, url, path, content_hash"


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
    return dict(conn.execute("SELECT key, value FROM meta"))


def set_meta(conn: sqlite3.Connection, **values: object) -> None:
    conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     [(k, str(v)) for k, v in values.items()])


def generation(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0


def to_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_blobs(blobs: list[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.empty((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim).astype(
        np.float32, copy=False)


def passage_from_row(row: tuple) -> StoredPassage:
    vid, pid, article_id, idx, start, end, text, sentences, title, source, pub, url, path = row
    return StoredPassage(
        vid=vid, id=pid, article_id=article_id, index=idx, start=start, end=end, text=text,
        sentences=[Sentence(start=s, end=e) for s, e in json.loads(sentences)],
        title=title, source=source, published=dt.date.fromisoformat(pub) if pub else None,
        url=url, path=path)


def article_from_row(row: tuple) -> Article:
    aid, title, text, source, site, pub, url, path, content_hash = row
    return Article(id=aid, title=title, text=text, source=source, site=site,
                   published=dt.date.fromisoformat(pub) if pub else None, url=url, path=path,
                   content_hash=content_hash)


def sentences_json(sentences: list[Sentence]) -> str:
    return json.dumps([[s.start, s.end] for s in sentences], separators=(",", ":"))


class Lookup:
    """Read-only questions an indexing run asks, on a connection of its own (for a thread)."""

    def __init__(self, path: Path) -> None:
        self._conn = connect(path, readonly=True)

    def content_hash(self, article_id: str) -> str | None:
        row = self._conn.execute("SELECT content_hash FROM articles WHERE id = ?",
                                 (article_id,)).fetchone()
        return row[0] if row else None

    def article_meta(self, article_id: str) -> tuple | None:
        """``(content_hash, path, url, site)`` of a stored article."""
        return self._conn.execute("SELECT content_hash, path, url, site FROM articles "
                                  "WHERE id = ?", (article_id,)).fetchone()

    def file_stamps(self) -> dict[str, tuple[int, int, str | None]]:
        return {p: (s, m, r) for p, s, m, r in self._conn.execute(
            "SELECT path, size, mtime_ns, recipe FROM files")}

    def count_articles(self, path: str) -> int:
        return self._conn.execute("SELECT count(*) FROM articles WHERE path = ?",
                                  (path,)).fetchone()[0]

    def articles_under(self, root: str) -> list[tuple[str, str]]:
        """``(id, path)`` of the stored articles read from ``root`` or a file below it."""
        prefix = root.rstrip("/") + "/"
        return self._conn.execute(
            "SELECT id, path FROM articles WHERE path = ? OR substr(path, 1, ?) = ?",
            (root, len(prefix), prefix)).fetchall()

    def files_under(self, root: str) -> list[str]:
        prefix = root.rstrip("/") + "/"
        return [r[0] for r in self._conn.execute(
            "SELECT path FROM files WHERE path = ? OR substr(path, 1, ?) = ?",
            (root, len(prefix), prefix))]

    def close(self) -> None:
        self._conn.close()
