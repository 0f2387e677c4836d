"""Errors of the embeddings layer. Each message is one line saying what is wrong and what to do."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import QAError
from embeddings.layout import DAMAGED, IndexLayout


class ModelError(QAError):
    """The embedding model cannot be found, loaded or verified."""


class IndexStoreError(QAError):
    """An index folder is missing, not an index, damaged, locked or built with another model."""


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says the database file itself is damaged (not busy, full, read-only...)."""
    text = str(exc)
    return "malformed" in text or "not a database" in text


def damaged_error(root: Path, detail: object = "") -> IndexStoreError:
    """The database of the index in ``root`` is damaged: name it and the way out."""
    why = f" ({detail})" if detail else ""
    return IndexStoreError(
        f"{IndexLayout(root).database} is damaged{why}: run `qa index --rebuild --index {root}` "
        "to rebuild it from the article files it lists; the damaged file is kept as "
        f"{IndexLayout(root).database.name}{DAMAGED}<time>")


def sqlite_error(exc: sqlite3.Error, root: Path) -> IndexStoreError:
    """A one-line, actionable error for a failed SQLite operation on the index in ``root``."""
    text = str(exc)
    if is_damage(exc):
        return damaged_error(root, text)
    if "full" in text:
        return IndexStoreError(f"the disk holding the index {root} is full ({text}): free some "
                               "space or choose another --index; what was committed is kept")
    if "readonly" in text or "read-only" in text:
        return IndexStoreError(f"index {root} is read-only: make the folder writable or choose "
                               "another with --index")
    if "locked" in text or "busy" in text:
        return IndexStoreError(f"index {root} is busy ({text}): another process holds it; retry "
                               "when it is done")
    if "unable to open" in text:
        return IndexStoreError(f"cannot open the index database in {root} ({text}): check the "
                               "folder's permissions")
    return IndexStoreError(f"index database error in {root}: {text}")


@contextmanager
def translated(root: Path) -> Iterator[None]:
    """Turn a :class:`sqlite3.Error` inside the block into an :class:`IndexStoreError`."""
    try:
        yield
    except sqlite3.Error as exc:
        raise sqlite_error(exc, root) from None
