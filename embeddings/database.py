"""``store.sqlite``: connections, queries and row conversions of an index's database (the schema
is in :mod:`embeddings.migrations`).

Vectors are int8 BLOBs with a per-vector float32 scale (format 2, see :func:`quantize`; format 1
kept float32, still read) in ``vectors``, one row a passage, written in the same transaction as
the passage; the vectors of a passage's sentences (late chunking: from the passage's own forward
pass) are one BLOB a passage in ``sentence_vectors``, in the same transaction: 4-bit codes
with a scale (schema 4, :func:`quantize4`; int8 before). A
passage's text is not stored twice: an empty ``passages.text`` is read back as its span of the
article's text. ``vid`` (the faiss id) is an AUTOINCREMENT key, never reused, so a stale faiss
index is brought up to date from ``passages.generation`` (added) and ``removed`` (deleted) alone.
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

PASSAGE_COLUMNS = ("p.vid, p.id, p.article_id, p.idx, p.start, p.\"end\", "
                   "CASE WHEN p.text = '' THEN substr(a.text, p.start + 1, p.\"end\" - p.start) "
                   "ELSE p.text END, p.sentences, "
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
        # vector BLOBs of 0.4-4 KB fill 16 KB pages better than the default 4 KB (a new file
        # only: ignored once the database exists). SQuAD index: -10% on disk.
        conn.execute("PRAGMA page_size=16384")
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


def quantize(vectors: np.ndarray) -> bytes:
    """``(n, dim)`` unit vectors as int8 codes (row-major), each row scaled so its largest
    magnitude is 127, then the n float32 scales (row = codes * scale; kept for other tools:
    reading renormalises the codes, as every stored vector is unit length)."""
    v = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    scale = np.abs(v).max(axis=1) / 127.0 if v.size else np.zeros(len(v), np.float32)
    codes = np.rint(v / np.maximum(scale, 1e-30)[:, None]).astype(np.int8)
    return bytes(codes.tobytes()) + bytes(scale.astype("<f4").tobytes())


def dequantize(blob: bytes, dim: int, *, legacy: bool = True) -> np.ndarray:
    """The inverse of :func:`quantize` (unit rows); with ``legacy``, a format-1 passage vector
    (float32, ``4 * dim`` bytes) as it is (sentence vectors only ever had format 2)."""
    if legacy and len(blob) == 4 * dim:
        return np.frombuffer(blob, dtype="<f4").reshape(1, dim).astype(np.float32)
    n = len(blob) // (dim + 4)
    codes = np.frombuffer(blob, dtype=np.int8, count=n * dim).reshape(n, dim)
    return _unit(codes.astype(np.float32))


# Sentence vectors are 4-bit from schema version 4 on (half the size of int8; on the news
# dev set the answers are the same: ``python -m bench news`` with both). They are read, never
# searched: a sentence's cosine to the question is one feature of its score among six.
SENTENCE_BITS_4 = 4  # the schema version from which sentence vectors are 4-bit


def quantize4(vectors: np.ndarray) -> bytes:
    """``(n, dim)`` unit vectors as 4-bit codes in [-7, 7] (two a byte, row-major, rows padded
    to whole bytes), each row scaled so its largest magnitude is 7, then the n float32 scales."""
    v = np.asarray(vectors, dtype=np.float32)
    v = v if v.ndim == 2 else v.reshape(len(v), -1)
    n, dim = v.shape
    scale = np.abs(v).max(axis=1) / 7.0 if v.size else np.zeros(n, np.float32)
    codes = (np.rint(v / np.maximum(scale, 1e-30)[:, None]).clip(-7, 7) + 8).astype(np.uint8)
    if dim % 2:
        codes = np.concatenate([codes, np.full((n, 1), 8, np.uint8)], axis=1)
    packed = (codes[:, 0::2] << 4) | codes[:, 1::2]
    return bytes(packed.tobytes()) + bytes(scale.astype("<f4").tobytes())


def dequantize4(blob: bytes, dim: int) -> np.ndarray:
    """The inverse of :func:`quantize4` (unit rows)."""
    row = (dim + 1) // 2
    n = len(blob) // (row + 4)
    packed = np.frombuffer(blob, dtype=np.uint8, count=n * row).reshape(n, row)
    codes = np.empty((n, 2 * row), np.float32)
    codes[:, 0::2] = (packed >> 4).astype(np.float32) - 8
    codes[:, 1::2] = (packed & 0x0F).astype(np.float32) - 8
    return _unit(codes[:, :dim])


def sentence_blob(vectors: np.ndarray) -> bytes:
    """A passage's sentence vectors as stored (schema 4 on: 4-bit)."""
    return quantize4(vectors)


def to_blob(vector: np.ndarray) -> bytes:
    """One vector as stored (format 2: int8 and its scale)."""
    return quantize(np.asarray(vector).reshape(1, -1))


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
    """``(len(blobs), dim)`` float32 unit rows from stored vectors (either format)."""
    if not blobs:
        return np.empty((0, dim), dtype=np.float32)
    if all(len(b) == dim + 4 for b in blobs):
        rows = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), dim + 4)
        return _unit(rows[:, :dim].view(np.int8).astype(np.float32))
    return np.concatenate([dequantize(b, dim) for b in blobs])


def _unit(v: np.ndarray) -> np.ndarray:
    """Rows scaled back to unit length (every vector stored is L2-normalised, so the scale
    only matters for a zero row)."""
    out: np.ndarray = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return out


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


def has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(r[1] == column for r in conn.execute(f"PRAGMA table_info({table})"))


def sentence_vectors_of(conn: sqlite3.Connection, vids: Sequence[int], dim: int
                        ) -> dict[int, np.ndarray]:
    """``{vid: (sentences, dim) float32}`` for the passages among ``vids`` whose sentence
    vectors are stored (a database not migrated to format 2 has none)."""
    out: dict[int, np.ndarray] = {}
    if not has_table(conn, "sentence_vectors"):
        return out
    ids = [int(v) for v in vids if int(v) >= 0]
    four = int(conn.execute("PRAGMA user_version").fetchone()[0]) >= SENTENCE_BITS_4
    for part, marks in in_lists(ids):
        for vid, blob in conn.execute(
                f"SELECT vid, vectors FROM sentence_vectors WHERE vid IN ({marks})", part):
            out[int(vid)] = dequantize4(blob, dim) if four else dequantize(blob, dim,
                                                                          legacy=False)
    return out


def vids_without_sentence_vectors(conn: sqlite3.Connection) -> list[int]:
    if not has_table(conn, "sentence_vectors"):
        return [int(r[0]) for r in conn.execute("SELECT vid FROM passages ORDER BY vid")]
    return [int(r[0]) for r in conn.execute(
        "SELECT p.vid FROM passages p LEFT JOIN sentence_vectors s ON s.vid = p.vid "
        "WHERE s.vid IS NULL ORDER BY p.vid")]


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
