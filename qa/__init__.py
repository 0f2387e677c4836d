"""Question answering over news articles, with sentence-level citations."""

from qa.models import Answer, Citation, Hit, IndexInfo

__all__ = ["Answer", "Citation", "Hit", "IndexInfo"]
