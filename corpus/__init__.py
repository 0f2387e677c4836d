"""Load, clean and chunk news articles into citable passages."""

from pathlib import Path

from corpus.chunking import (
    chunk_article,
    chunk_sized,
    context_header,
    context_prefix,
    estimate_tokens,
    indexed_text,
)
from corpus.cleaning import clean_page
from corpus.dates import parse_date
from corpus.errors import CorpusError, QAError
from corpus.files import SUFFIXES, SkipHandler, iter_files
from corpus.loading import load_articles, load_file
from corpus.models import Article, Passage, Sentence
from corpus.reading import DEFAULT_MAX_ARTICLE_BYTES
from corpus.sentences import PARAGRAPH_BREAK, paragraph_spans, split_sentences


def sample_path() -> Path:
    """The folder of sample articles that ship with the package."""
    return Path(__file__).parent / "samples"


__all__ = [
    "DEFAULT_MAX_ARTICLE_BYTES",
    "PARAGRAPH_BREAK",
    "SUFFIXES",
    "Article",
    "CorpusError",
    "Passage",
    "QAError",
    "Sentence",
    "SkipHandler",
    "chunk_article",
    "chunk_sized",
    "clean_page",
    "context_header",
    "context_prefix",
    "estimate_tokens",
    "indexed_text",
    "iter_files",
    "load_articles",
    "load_file",
    "paragraph_spans",
    "parse_date",
    "sample_path",
    "split_sentences",
]
