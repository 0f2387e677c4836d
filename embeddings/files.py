"""Writing a file atomically: readers see the old file or the whole new one, never a part."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_file(path: Path, *, suffix: str = ".tmp") -> Iterator[Path]:
    """A temp path beside ``path`` (``.<name>.<random><suffix>``) to write; on leaving the block
    without an error it is fsynced, given the usual permissions (umask, not mkstemp's 0600) and
    renamed over ``path``. On an error it is removed and ``path`` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        sync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: Path, parts: Iterable[bytes | memoryview]) -> None:
    """Write ``parts`` (bytes-like) to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path) as tmp, open(tmp, "wb") as fh:
        for part in parts:
            fh.write(part)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, [data])


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: not every platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
