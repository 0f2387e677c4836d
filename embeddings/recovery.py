"""Getting out of a damaged ``store.sqlite``: what it still tells, and setting it aside.

A rebuild (``qa index --rebuild``) goes::

    files = recover_files(index_dir)   # the article files the damaged store had indexed
    set_aside(index_dir)               # store.sqlite -> store.sqlite.damaged-<time>
    ... index the files again into index_dir (IndexStore.create accepts the folder) ...

:func:`recover_files` reads a copy of the database (the damaged file is never written), padded
to its declared size when it was truncated, and keeps every row it can read before a damaged
page stops it: first the ``files`` table (path and read recipe), then, for paths it missed, the
paths of the stored articles. Measured on a 2.3 MB index: with pages overwritten in the middle
or the second half cut off, ``files`` still reads whole (its few pages come early); SQLite's
own ``.recover`` (a CLI command, not in Python's ``sqlite3``) failed on the truncated file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import sqlite3
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embeddings.errors import IndexStoreError
from embeddings.files import sync_folder
from embeddings.layout import DAMAGED, DATABASE, IndexLayout
from embeddings.lock import acquire

log = logging.getLogger("embeddings")


@dataclass(frozen=True)
class RecoveredFile:
    """An article file a damaged store had indexed, and how it was read (the ``recipe`` JSON
    object the indexer recorded, e.g. ``{"fields": {...}, "max_tokens": 200, ...}``; ``None``
    when only an article's path survived)."""

    path: Path
    recipe: dict[str, Any] | None = None


@dataclass
class Recovered:
    files: list[RecoveredFile] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # model, dim... if the meta table reads

    @property
    def model(self) -> str | None:
        return self.meta.get("model")


def recover(index_dir: Path) -> Recovered:
    """Best effort: what the (damaged) database of the index in ``index_dir`` still tells.
    :class:`IndexStoreError` if there is no database there."""
    database = IndexLayout(Path(index_dir)).database
    if not database.is_file():
        raise IndexStoreError(f"no {DATABASE} in {index_dir}: nothing to recover")
    out = Recovered()
    with tempfile.TemporaryDirectory(prefix="newsqa-recover-") as tmp:
        copy = _padded_copy(database, Path(tmp))
        try:
            conn = sqlite3.connect(copy, isolation_level=None)
        except sqlite3.Error as exc:
            log.warning("cannot read %s at all (%s)", database, exc)
            return out
        try:
            out.meta = {str(k): str(v) for k, v in _rows(conn, "SELECT key, value FROM meta")}
            seen: dict[str, RecoveredFile] = {}
            for path, recipe in _rows(conn, "SELECT path, recipe FROM files"):
                seen.setdefault(str(path), RecoveredFile(Path(path), _recipe(recipe)))
            for sql in ("SELECT path FROM files ORDER BY path",  # the key's index, if intact
                        "SELECT DISTINCT path FROM articles WHERE path IS NOT NULL"):
                for (path,) in _rows(conn, sql):
                    seen.setdefault(str(path), RecoveredFile(Path(path)))
        finally:
            conn.close()
    out.files = sorted(seen.values(), key=lambda f: str(f.path))
    return out


def recover_files(index_dir: Path) -> list[RecoveredFile]:
    """The article files the database in ``index_dir`` lists, with their recipes (best effort:
    see :func:`recover`)."""
    return recover(index_dir).files


def recover_paths(index_dir: Path) -> list[Path]:
    """The paths of the article files the database in ``index_dir`` lists (best effort)."""
    return [f.path for f in recover_files(index_dir)]


def set_aside(index_dir: Path) -> Path:
    """Rename the damaged ``store.sqlite`` (and its ``-wal``/``-shm``) to
    ``store.sqlite.damaged-<time>`` and remove what was derived from it (``manifest.json``,
    ``faiss.index``, ``bm25/``; ``sentences.sqlite`` is kept: it is keyed by model and text).
    Returns the new path of the database. Holds the write lock meanwhile
    (:class:`IndexStoreError` if a writer is running).

    Crash-safe: derived files go first, then the WAL and shared-memory files, then the database,
    so a new ``store.sqlite`` never meets the old one's WAL; run again after a crash, it pairs
    the database with a WAL already set aside."""
    root = Path(index_dir).expanduser().absolute()
    layout = IndexLayout(root)
    lock = acquire(root)
    try:
        if not layout.database.exists():
            raise IndexStoreError(f"no {DATABASE} in {root} to set aside")
        for derived in (layout.manifest, layout.faiss):
            derived.unlink(missing_ok=True)
        shutil.rmtree(layout.bm25, ignore_errors=True)
        target = _target(layout)
        db_file, wal, shm = layout.database_files
        for src, suffix in ((wal, "-wal"), (shm, "-shm")):
            if src.exists():
                os.replace(src, target.with_name(target.name + suffix))
        os.replace(db_file, target)
        sync_folder(root)
    except OSError as exc:
        raise IndexStoreError(f"cannot set aside {layout.database} ({exc.strerror}): check "
                              "the folder's permissions") from None
    finally:
        lock.release()
    log.warning("set the damaged %s aside as %s", DATABASE, target.name)
    return target


def _target(layout: IndexLayout) -> Path:
    """``store.sqlite.damaged-<time>``, or the name of a WAL set aside by a run cut short."""
    for wal in layout.root.glob(f"{DATABASE}{DAMAGED}*-wal"):
        main = wal.with_name(wal.name[:-len("-wal")])
        if not main.exists():
            return main
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target, n = layout.damaged(stamp), 1
    while target.exists():
        n += 1
        target = layout.damaged(f"{stamp}-{n}")
    return target


def _padded_copy(database: Path, folder: Path) -> Path:
    """A copy of ``database`` (and its WAL) in ``folder``, zero-padded to the size its header
    declares so that the pages before a cut still read."""
    copy = folder / DATABASE
    shutil.copyfile(database, copy)
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    with open(copy, "rb+") as fh:
        head = fh.read(100)
        if len(head) < 100 or not head.startswith(b"SQLite format 3\0"):
            return copy
        (page_size,) = struct.unpack(">H", head[16:18])
        (pages,) = struct.unpack(">I", head[28:32])
        declared = (65536 if page_size == 1 else page_size) * pages
        size = fh.seek(0, os.SEEK_END)
        if 0 < size < declared <= size * 64:  # a cut-off file, not a garbage header
            fh.truncate(declared)
    return copy


def _rows(conn: sqlite3.Connection, sql: str) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql`` up to the first damaged page (logged), or none."""
    try:
        for row in conn.execute(sql):
            yield tuple(row)
    except sqlite3.Error as exc:
        log.info("reading the damaged database stopped at `%s` (%s)", sql, exc)


def _recipe(text: object) -> dict[str, Any] | None:
    try:
        value = json.loads(str(text)) if text is not None else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
