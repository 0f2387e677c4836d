"""Where the index lives, and opening it.

The rule for a location with no index in it yet: only the DEFAULT location (the per-user data
folder, used when neither ``--index`` nor ``$QA_INDEX`` names one) is built from the bundled
sample articles on first use, so a first ``qa ask`` works out of the box. A location the user
named is never filled with samples: a typo there would otherwise answer from five sample
articles as if they were the user's. ``qa index PATH --index DIR`` still creates ``DIR``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from embeddings import IndexLayout, IndexStore, IndexStoreError
from qa.errors import UsageError

APP = "newsqa"
ENV = "QA_INDEX"


class IndexNotFound(UsageError):
    """A location named by ``--index`` or ``$QA_INDEX`` holds no index (exit code 2)."""


def print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class IndexLocation:
    """An index folder and who chose it: ``named_by`` is ``"--index"`` or ``"$QA_INDEX"``, or
    ``None`` for the default (the per-user data folder)."""

    path: Path
    named_by: str | None = None

    @property
    def explicit(self) -> bool:
        return self.named_by is not None

    @classmethod
    def resolve(cls, index_dir: str | Path | None = None) -> IndexLocation:
        """``index_dir`` if given, else ``$QA_INDEX``, else the per-user data folder."""
        if index_dir is not None and str(index_dir).strip():
            return cls(Path(index_dir).expanduser().absolute(), "--index")
        env = os.environ.get(ENV)
        if env:
            return cls(Path(env).expanduser().absolute(), f"${ENV}")
        from platformdirs import user_data_dir

        return cls(Path(user_data_dir(APP, appauthor=False)) / "index")

    def is_vacant(self) -> bool:
        """Nothing there yet: no such folder, or an empty one."""
        return not self.path.exists() or (self.path.is_dir() and not any(self.path.iterdir()))


def default_index_dir() -> Path:
    """``$QA_INDEX``, else the per-user data folder (e.g. ``~/.local/share/newsqa/index``)."""
    return IndexLocation.resolve().path


def index_exists(index_dir: Path) -> bool:
    return IndexLayout(index_dir).manifest.is_file()


def open_index(
    index_dir: str | Path | None = None,
    *,
    model: str | None = None,
    backend: str | None = None,
    build_if_missing: bool = True,
    announce: Callable[[str], None] | None = print_to_stderr,
) -> IndexStore:
    """Open the index for reading: ``index_dir``, else ``$QA_INDEX``, else the default folder.

    With no index at the default folder yet, build one there from the bundled sample articles
    first (if ``build_if_missing``) and say so through ``announce``. A named location with
    nothing there raises :class:`IndexNotFound`. ``model``, when given (or ``$QA_MODEL``), must
    be the one the index was built with."""
    location = IndexLocation.resolve(index_dir)
    path = location.path
    if location.is_vacant():
        if location.explicit:
            raise IndexNotFound(f"no index at {path} (named by {location.named_by}): build one "
                                f"with `qa index ARTICLES --index {path}`, or fix the path")
        if build_if_missing:
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
    """Build an index in ``path`` from the bundled sample articles (any ``path``: tests and the
    first use of the default location call this)."""
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
