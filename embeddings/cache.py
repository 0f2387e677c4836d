"""The per-user cache folder for derived model files (verified hashes, exported models)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    """``$QA_CACHE_DIR``, else the platform's user cache folder for this app."""
    env = os.environ.get("QA_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("newsqa", appauthor=False))


def atomic_write(path: Path, parts: list) -> None:
    """Write ``parts`` (bytes-like) to ``path`` so readers see the old file or the whole new
    one, never a part. The new file gets the usual permissions (umask), not mkstemp's 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            for part in parts:
                fh.write(part)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, [data])


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
