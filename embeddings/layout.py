"""The files of an index folder, each named once.

``store.sqlite`` is the truth (with every vector: passages' and sentences', int8, one copy);
``manifest.json``, ``faiss.index`` (only for a trained IVF index: an exact one is built from
``store.sqlite`` on opening) and ``bm25/`` (written by ``qa.engine``) are derived from it.
``sentences.sqlite`` is what format 1 kept sentence vectors in: the migration to format 2
removes it. ``.write.lock`` admits one writer at a time. A file written atomically goes through
a temp file ``.<name>.<random>.tmp`` beside it (see :func:`embeddings.files.atomic_file`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
DATABASE = "store.sqlite"
DATABASE_WAL = DATABASE + "-wal"
DATABASE_SHM = DATABASE + "-shm"
FAISS = "faiss.index"
LOCK = ".write.lock"
BM25 = "bm25"
SENTENCES = "sentences.sqlite"  # format 1 only (see embeddings.migrations)
DAMAGED = ".damaged-"  # store.sqlite.damaged-<time>: a damaged database set aside
REBUILD_LIST = "rebuild-files.json"  # the files a `qa index --rebuild` still has to re-read


def temp_pattern(name: str) -> str:
    """The glob of the temp files an atomic write of ``name`` leaves behind if killed."""
    return f".{name}.*.tmp"


@dataclass(frozen=True)
class IndexLayout:
    """The paths of the files of the index folder ``root``."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST

    @property
    def database(self) -> Path:
        return self.root / DATABASE

    @property
    def database_files(self) -> tuple[Path, Path, Path]:
        """``store.sqlite`` and its WAL and shared-memory files."""
        return (self.root / DATABASE, self.root / DATABASE_WAL, self.root / DATABASE_SHM)

    @property
    def faiss(self) -> Path:
        return self.root / FAISS

    @property
    def lock(self) -> Path:
        return self.root / LOCK

    @property
    def bm25(self) -> Path:
        return self.root / BM25

    @property
    def sentences(self) -> Path:
        return self.root / SENTENCES

    @property
    def store_files(self) -> tuple[Path, ...]:
        """Every file the store itself writes (not ``bm25/`` nor ``sentences.sqlite``)."""
        return (self.manifest, *self.database_files, self.faiss, self.lock)

    def temp_files(self) -> list[Path]:
        """Temp files of atomic writes of the manifest or faiss index cut short."""
        return [*self.root.glob(temp_pattern(FAISS)), *self.root.glob(temp_pattern(MANIFEST))]

    def holds_only_leftovers(self) -> bool:
        """Whether ``root`` holds nothing of an index but what may outlive one: the lock,
        sentence vectors (keyed by model and text), damaged databases set aside and the list of
        files a rebuild still has to re-read."""
        return all(f.name in (LOCK, REBUILD_LIST) or f.name.startswith(SENTENCES)
                   or f.name.startswith(DATABASE + DAMAGED) for f in self.root.iterdir())

    @property
    def rebuild_list(self) -> Path:
        return self.root / REBUILD_LIST

    def damaged(self, stamp: str) -> Path:
        """Where a damaged ``store.sqlite`` is set aside (``stamp``: a time, no spaces)."""
        return self.root / f"{DATABASE}{DAMAGED}{stamp}"
