"""Where the shared datasets live: ``$QA_DATASETS``, by default ``../shared/datasets`` beside
the checkout. Every benchmark finds its data through :func:`dataset`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV = "QA_DATASETS"


def datasets_dir() -> Path:
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def dataset_path(*parts: str) -> Path:
    """The path of a dataset file, whether or not it is there (for defaults and help texts)."""
    return datasets_dir().joinpath(*parts)


def dataset(*parts: str) -> Path:
    """The path of a dataset file; exit 2 with one line if it is missing."""
    path = dataset_path(*parts)
    if not path.exists():
        print(f"bench: {path} not found; put the shared datasets beside the checkout "
              f"or set {ENV}", file=sys.stderr)
        raise SystemExit(2)
    return path
