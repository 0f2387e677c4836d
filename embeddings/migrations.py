"""The schema of ``store.sqlite``, as numbered migrations.

``PRAGMA user_version`` records how many of :data:`MIGRATIONS` a database has had. Opening an
index for writing applies the missing ones in order, in one transaction (all or none). An index
built before migrations existed has version 0 and the tables of step 1 already: its
``CREATE ... IF NOT EXISTS`` statements leave them as they are.

To change the schema, append a step; never edit one that has shipped. Mark it ``readable`` when
code of this version can still read a database that lacks it (a read-only open does not
migrate), e.g. a new index; a new column that reads select is not. A step may also change rows
(``data``, a function of the connection), inside the same transaction: a kill at any point
leaves the database as it was before the migration or as it is after it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from embeddings import database as db


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    sql: str
    readable: bool = True  # may a database without this step still be read?
    data: Callable[[sqlite3.Connection], None] | None = None  # rows to change, after ``sql``


def _format_2(conn: sqlite3.Connection) -> None:
    """Index format 2: the float32 passage vectors as int8 with a scale (one copy, a quarter of
    the size), and passage texts that repeat their article's span read from the article. The
    sentence vectors are added by the next ``qa index`` (until then, embedded on demand)."""
    meta = db.get_meta(conn)
    if "dim" in meta:
        dim = int(meta["dim"])
        cur = conn.execute("SELECT vid, vector FROM vectors")
        while rows := cur.fetchmany(10_000):
            conn.executemany("UPDATE vectors SET vector = ? WHERE vid = ?", [
                (db.quantize(np.frombuffer(b, dtype="<f4").reshape(1, dim)), v)
                for v, b in rows if len(b) == 4 * dim])
        db.set_meta(conn, format_version=2)
    conn.execute("UPDATE passages SET text = '' WHERE text <> '' AND text = (SELECT "
                 "substr(a.text, passages.start + 1, passages.\"end\" - passages.start) "
                 "FROM articles a WHERE a.id = passages.article_id)")


def _copy_groups(conn: sqlite3.Connection) -> None:
    """Articles get a ``copy_group`` (``ADD COLUMN`` has no ``IF NOT EXISTS``: a database whose
    version was set back by hand may have it already), and an index on it."""
    if not db.has_column(conn, "articles", "copy_group"):
        conn.execute("ALTER TABLE articles ADD COLUMN copy_group TEXT")
    conn.execute("CREATE INDEX IF NOT EXISTS articles_copy_group ON articles(copy_group)")


def _sentence_vectors_4(conn: sqlite3.Connection) -> None:
    """Re-encode the int8 sentence vectors as 4-bit ones (no re-embedding)."""
    meta = db.get_meta(conn)
    if "dim" not in meta or not db.has_table(conn, "sentence_vectors"):
        return
    dim = int(meta["dim"])
    cur = conn.execute("SELECT vid, vectors FROM sentence_vectors")
    while rows := cur.fetchmany(5_000):
        conn.executemany("UPDATE sentence_vectors SET vectors = ? WHERE vid = ?", [
            (db.quantize4(db.dequantize(b, dim, legacy=False)), v) for v, b in rows])


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "articles, passages, vectors, removals and indexed files", """
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
"""),
    Migration(2, "format 2: int8 vectors, sentence vectors per passage, passage text not repeated",
              """
CREATE TABLE IF NOT EXISTS sentence_vectors (
    vid INTEGER PRIMARY KEY REFERENCES passages(vid) ON DELETE CASCADE, vectors BLOB NOT NULL);
""", data=_format_2),
    # NULL: not compared yet (its own group meanwhile); qa index compares the NULL ones once
    # (the articles of an index built before, incrementally) and sets them. Readable: reads of
    # a database without the column treat every article as its own group.
    Migration(3, "copy groups: articles that carry one story (wire copies, reprints)", "",
              data=_copy_groups),
    # Readable: the reading code picks the sentence-vector encoding by the schema version.
    Migration(4, "sentence vectors 4-bit (half the size of int8, the same answers)", "",
              data=_sentence_vectors_4),
)

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def pending(conn: sqlite3.Connection) -> list[Migration]:
    """The steps ``conn``'s database lacks, in order."""
    have = schema_version(conn)
    return [m for m in MIGRATIONS if m.version > have]


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing steps in one transaction; returns how many were applied. The caller
    holds the index's write lock, and checked the version is not newer than this code's."""
    steps = pending(conn)
    if not steps:
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for step in steps:
            for statement in _statements(step.sql):
                conn.execute(statement)
            if step.data is not None:
                step.data(conn)
        conn.execute(f"PRAGMA user_version = {steps[-1].version}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return len(steps)


def _statements(sql: str) -> list[str]:
    """The SQL statements of a script, one by one (``executescript`` would commit)."""
    out, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def readable(conn: sqlite3.Connection) -> bool:
    """Whether this code can read ``conn``'s database without migrating it first."""
    return all(m.readable for m in pending(conn))
