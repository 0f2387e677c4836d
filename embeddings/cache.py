"""The per-user cache folder for derived model files (verified hashes, exported models)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$QA_CACHE_DIR``, else the platform's user cache folder for this app."""
    env = os.environ.get("QA_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("newsqa", appauthor=False))
