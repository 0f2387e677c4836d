"""Where the shared datasets live: ``../shared/datasets`` beside the checkout, or $QA_DATASETS."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def datasets_dir() -> Path:
    env = os.environ.get("QA_DATASETS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def require(relative: str) -> Path:
    path = datasets_dir() / relative
    if not path.exists():
        print(f"bench: {path} not found; put the shared datasets beside the checkout "
              "or set QA_DATASETS", file=sys.stderr)
        raise SystemExit(2)
    return path
