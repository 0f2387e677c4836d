"""Load, clean and chunk news articles into citable passages."""

from pathlib import Path

from corpus.chunking import chunk_article, estimate_tokens
from corpus.cleaning import clean_page
from corpus.dates import parse_date
from corpus.errors import CorpusError, QAError
from corpus.loading import SUFFIXES, iter_files, load_articles, load_file
from corpus.models import Article, Passage, Sentence
from corpus.sentences import paragraph_spans, split_sentences


def sample_path() -> Path:
    """The folder of sample articles that ship with the package."""
    return Path(__file__).parent / "samples"


__all__ = [
    "SUFFIXES",
    "Article",
    "CorpusError",
    "Passage",
    "QAError",
    "Sentence",
    "chunk_article",
    "clean_page",
    "estimate_tokens",
    "iter_files",
    "load_articles",
    "load_file",
    "paragraph_spans",
    "parse_date",
    "sample_path",
    "split_sentences",
]
