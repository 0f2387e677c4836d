"""Checks made when opening or creating an index: the folder, the database's schema (migrated
when writable, see :mod:`embeddings.migrations`) and format, and the manifest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pydantic import ValidationError

from embeddings import database as db
from embeddings import migrations
from embeddings.errors import IndexStoreError, damaged_error, is_damage, sqlite_error
from embeddings.layout import DATABASE, IndexLayout
from embeddings.models import FORMAT_VERSION, Manifest


def check_new_folder(path: Path) -> None:
    if IndexLayout(path).manifest.exists() or IndexLayout(path).database.exists():
        raise IndexStoreError(f"{path} already holds an index: open it instead")
    if path.exists() and (not path.is_dir() or not IndexLayout(path).holds_only_leftovers()):
        raise IndexStoreError(f"{path} is not empty and not an index: choose a new or empty "
                              "folder with --index (or QA_INDEX)")


def check_index_folder(path: Path) -> None:
    if not path.is_dir():
        raise IndexStoreError(f"no index at {path}: build one with `qa index PATH --index "
                              f"{path}`")
    if not IndexLayout(path).database.is_file():
        raise IndexStoreError(f"{path} is not an index (no {DATABASE}): give an index folder, "
                              "or a new or empty one to build an index in")


def connect_checked(path: Path, *, writable: bool) -> sqlite3.Connection:
    """A connection to the index database in ``path``, its schema checked (and, writable,
    migrated) and its format one this code reads."""
    conn = None
    try:
        conn = db.connect(IndexLayout(path).database, readonly=not writable)
        _check_schema(conn, path, writable=writable)
        meta = db.get_meta(conn)
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        if "no such table" in str(exc) and not is_damage(exc):
            raise IndexStoreError(f"{IndexLayout(path).database} is not an index database "
                                  f"({exc}): give an index folder, or rebuild the index in a "
                                  "new one") from None
        raise sqlite_error(exc, path) from None
    except IndexStoreError:
        if conn is not None:
            conn.close()
        raise
    if int(meta.get("format_version", 0)) > FORMAT_VERSION or "dim" not in meta:
        conn.close()
        if "dim" not in meta:
            raise damaged_error(path, "its meta table is incomplete")
        raise IndexStoreError(f"{path} was written by a newer version of this program "
                              f"(format {meta['format_version']}): upgrade it")
    return conn


def _check_schema(conn: sqlite3.Connection, path: Path, *, writable: bool) -> None:
    version = migrations.schema_version(conn)
    if version > migrations.SCHEMA_VERSION:
        raise IndexStoreError(f"{path} was written by a newer version of this program (schema "
                              f"{version}): upgrade it")
    if writable:
        try:
            if migrations.migrate(conn) and version < 2:  # sentence vectors now in the database
                IndexLayout(path).sentences.unlink(missing_ok=True)
        except sqlite3.Error as exc:
            if is_damage(exc):
                raise
            raise IndexStoreError(f"cannot upgrade the schema of {IndexLayout(path).database} "
                                  f"({exc}); it was left as it was: report this") from None
    elif not migrations.readable(conn):
        raise IndexStoreError(f"the index {path} was built by an older version of this program: "
                              f"run `qa index --index {path}` once to upgrade it")


def manifest_ok(path: Path) -> bool:
    try:
        Manifest.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError):
        return False
    return True
