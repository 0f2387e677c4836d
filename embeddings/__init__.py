"""Text embeddings and the on-disk vector index."""

from embeddings.encoder import Encoder, load_encoder
from embeddings.errors import IndexStoreError, ModelError
from embeddings.layout import IndexLayout
from embeddings.models import Manifest, StoredPassage
from embeddings.store import IndexStore

__all__ = [
    "Encoder",
    "IndexLayout",
    "IndexStore",
    "IndexStoreError",
    "Manifest",
    "ModelError",
    "StoredPassage",
    "load_encoder",
]
