"""Question answering over news articles, with sentence-level citations."""

from qa.models import Answer, Citation, Hit

__all__ = ["Answer", "Citation", "Hit"]
