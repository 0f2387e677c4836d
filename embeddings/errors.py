"""Errors of the embeddings layer. Each message is one line saying what is wrong and what to do."""

from corpus.errors import QAError


class ModelError(QAError):
    """The embedding model cannot be found, loaded or verified."""


class IndexStoreError(QAError):
    """An index folder is missing, not an index, damaged, locked or built with another model."""
