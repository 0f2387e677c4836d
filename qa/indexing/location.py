"""Where the index lives, and opening it (built from the bundled samples on first use)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from embeddings import IndexStore, IndexStoreError

APP = "newsqa"


def print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def default_index_dir() -> Path:
    """``$QA_INDEX``, else the per-user data folder (e.g. ``~/.local/share/newsqa/index``)."""
    env = os.environ.get("QA_INDEX")
    if env:
        return Path(env).expanduser().absolute()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP, appauthor=False)) / "index"


def index_exists(index_dir: Path) -> bool:
    return (index_dir / "manifest.json").is_file()


def open_index(
    index_dir: str | Path | None = None,
    *,
    model: str | None = None,
    backend: str | None = None,
    build_if_missing: bool = True,
    announce: Callable[[str], None] | None = print_to_stderr,
) -> IndexStore:
    """Open the index for reading. With none there yet (a missing or empty folder), build one
    from the bundled sample articles first and say so through ``announce``. ``model``, when
    given (or ``$QA_MODEL``), must be the one the index was built with."""
    path = Path(index_dir).expanduser().absolute() if index_dir else default_index_dir()
    empty = not path.exists() or (path.is_dir() and not any(path.iterdir()))
    if empty and build_if_missing:
        build_samples(path, model=model, backend=backend, announce=announce)
    store = IndexStore.open(path)
    if model or os.environ.get("QA_MODEL"):
        from embeddings import load_encoder

        encoder = load_encoder(model, backend)
        try:
            store.check_model(encoder.name, encoder.dim, encoder.weights_sha256)
        except IndexStoreError:
            store.close()
            raise
    return store


def build_samples(path: Path, *, model: str | None = None, backend: str | None = None,
                  announce: Callable[[str], None] | None = print_to_stderr) -> None:
    """Build an index in ``path`` from the bundled sample articles."""
    from corpus import sample_path
    from embeddings import load_encoder
    from qa.indexing.pipeline import index_paths

    samples = sample_path()
    if announce:
        n = sum(1 for f in samples.iterdir() if f.is_file())
        announce(f"qa: no index at {path} yet: building one from the {n} bundled sample "
                 "articles (index your own with `qa index PATH`)")
    encoder = load_encoder(model, backend)
    try:
        summary = index_paths([samples], path, encoder=encoder, wait=True)
    except IndexStoreError:
        if index_exists(path):  # another process built it meanwhile
            return
        raise
    if announce:
        announce(f"qa: indexed {summary.added} sample articles ({summary.passages} passages) "
                 f"in {summary.seconds:.1f} s")
