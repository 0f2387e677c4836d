"""Where the index lives, and opening it.

The rule for a location with no index in it yet: only the DEFAULT location (the per-user data
folder, used when neither ``--index`` nor ``$QA_INDEX`` names one) is built from the bundled
sample articles on first use, so a first ``qa ask`` works out of the box. A location the user
named is never filled with samples: a typo there would otherwise answer from five sample
articles as if they were the user's. ``qa index PATH --index DIR`` still creates ``DIR``.

An index may also live in Qdrant: a store URL (``qdrant:PATH`` or ``http(s)://HOST:6333``, see
:mod:`embeddings.qdrant.url`) given as ``store=``, as ``--store``, in ``$QA_STORE``, or in place
of the folder. A store URL is always named by the user, so it is never filled with samples.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from embeddings import IndexLayout, IndexStore, IndexStoreError
from embeddings.qdrant.url import is_store_url
from qa.errors import UsageError

if TYPE_CHECKING:
    from embeddings import PassageStore

APP = "newsqa"
ENV = "QA_INDEX"
STORE_ENV = "QA_STORE"


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


def store_url(index_dir: str | Path | None = None, store: str | None = None) -> str | None:
    """The store URL to open, if any: ``store``, else ``index_dir`` if it is a URL, else
    ``$QA_STORE`` when no folder is named. A folder and a store both named is a mistake."""
    if store is not None and store.strip():
        if index_dir is not None and str(index_dir).strip() and str(index_dir) != store:
            raise UsageError(f"both an index folder ({index_dir}) and a store ({store}) were "
                             "named: give one of --index and --store")
        return store.strip()
    if isinstance(index_dir, str) and is_store_url(index_dir):
        return index_dir
    if index_dir is None or not str(index_dir).strip():
        return os.environ.get(STORE_ENV) or None
    return None


def open_index(
    index_dir: str | Path | None = None,
    *,
    model: str | None = None,
    backend: str | None = None,
    build_if_missing: bool = True,
    announce: Callable[[str], None] | None = print_to_stderr,
    store: str | None = None,
) -> PassageStore:
    """Open the index for reading: the store at ``store`` (a URL, see :func:`store_url`), else
    ``index_dir``, else ``$QA_STORE``, else ``$QA_INDEX``, else the default folder.

    With no index at the default folder yet, build one there from the bundled sample articles
    first (if ``build_if_missing``) and say so through ``announce``. A named location with
    nothing there raises :class:`IndexNotFound`. ``model``, when given (or ``$QA_MODEL``), must
    be the one the index was built with."""
    url = store_url(index_dir, store)
    if url is not None:
        from qa.indexing.stores import open_store

        try:
            return _checked(open_store(url), model, backend)
        except IndexStoreError as exc:
            if str(exc).startswith("no index at"):
                raise IndexNotFound(str(exc)) from None
            raise
    location = IndexLocation.resolve(index_dir)
    path = location.path
    if location.is_vacant():
        if location.explicit:
            raise IndexNotFound(f"no index at {path} (named by {location.named_by}): build one "
                                f"with `qa index ARTICLES --index {path}`, or fix the path")
        if build_if_missing:
            build_samples(path, model=model, backend=backend, announce=announce)
    return _checked(IndexStore.open(path), model, backend)


def _checked(store: PassageStore, model: str | None, backend: str | None) -> PassageStore:
    """``store``, or :class:`IndexStoreError` if ``model`` (or ``$QA_MODEL``) is not its own."""
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
