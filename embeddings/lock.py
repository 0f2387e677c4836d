"""The write lock of an index folder (``.write.lock``): one writer at a time."""

from __future__ import annotations

import errno
from pathlib import Path

from filelock import BaseFileLock, FileLock, Timeout

from embeddings.errors import IndexStoreError
from embeddings.layout import IndexLayout


def acquire(root: Path, wait: bool | float = False) -> BaseFileLock:
    """The write lock of the index in ``root``; fails fast, or waits up to ``wait`` seconds
    (forever if ``True``), with :class:`IndexStoreError` if another process holds it."""
    lock = FileLock(str(IndexLayout(root).lock),
                    timeout=-1 if wait is True else float(wait or 0), thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise IndexStoreError(f"another process is writing to the index {root}: wait for it to "
                              "finish, or pass --wait") from None
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EROFS):
            raise IndexStoreError(f"index folder {root} is read-only: make it writable or "
                                  "choose another with --index") from None
        raise IndexStoreError(f"cannot lock the index {root} ({exc.strerror})") from None
    return lock


def try_acquire(root: Path) -> BaseFileLock | None:
    """The write lock if no one holds it (and the folder is writable), else ``None``."""
    try:
        return acquire(root)
    except IndexStoreError:
        return None
