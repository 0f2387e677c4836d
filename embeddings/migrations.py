"""The schema of ``store.sqlite``, as numbered migrations.

``PRAGMA user_version`` records how many of :data:`MIGRATIONS` a database has had. Opening an
index for writing applies the missing ones in order, in one transaction (all or none). An index
built before migrations existed has version 0 and the tables of step 1 already: its
``CREATE ... IF NOT EXISTS`` statements leave them as they are.

To change the schema, append a step; never edit one that has shipped. Mark it ``readable`` when
code of this version can still read a database that lacks it (a read-only open does not
migrate), e.g. a new index; a new column that reads select is not.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    sql: str
    readable: bool = True  # may a database without this step still be read?


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
    script = "".join(m.sql for m in steps)
    try:
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = "
                           f"{steps[-1].version};\nCOMMIT;")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return len(steps)


def readable(conn: sqlite3.Connection) -> bool:
    """Whether this code can read ``conn``'s database without migrating it first."""
    return all(m.readable for m in pending(conn))
