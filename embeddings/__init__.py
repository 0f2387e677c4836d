"""Text embeddings and the on-disk vector index."""

from embeddings.encoder import Encoder, load_encoder
from embeddings.errors import IndexStoreError, ModelError
from embeddings.models import Manifest, StoredPassage
from embeddings.store import IndexStore

__all__ = [
    "Encoder",
    "IndexStore",
    "IndexStoreError",
    "Manifest",
    "ModelError",
    "StoredPassage",
    "load_encoder",
]
