"""Text embeddings and the on-disk vector index."""

from embeddings.database import in_lists
from embeddings.encoder import Encoder, load_encoder
from embeddings.errors import IndexStoreError, ModelError
from embeddings.files import atomic_file, atomic_write
from embeddings.layout import IndexLayout
from embeddings.models import Manifest, StoredPassage
from embeddings.protocols import PassageStore, StoreLookup, TextEncoder, WriteBatch
from embeddings.recovery import (
    Recovered,
    RecoveredFile,
    recover,
    recover_files,
    recover_paths,
    set_aside,
)
from embeddings.store import IndexStore

__all__ = [
    "Encoder",
    "IndexLayout",
    "IndexStore",
    "IndexStoreError",
    "Manifest",
    "ModelError",
    "PassageStore",
    "Recovered",
    "RecoveredFile",
    "StoreLookup",
    "StoredPassage",
    "TextEncoder",
    "WriteBatch",
    "atomic_file",
    "atomic_write",
    "in_lists",
    "load_encoder",
    "recover",
    "recover_files",
    "recover_paths",
    "set_aside",
]
