"""Indexing article files into a store: the pipeline, the file-reading thread, and where the index
lives (with the sample index built on first use)."""

from qa.indexing.pipeline import index_paths, prepare_answers
from qa.indexing.summary import IndexingInterrupted, IndexSummary, Progress

__all__ = ["IndexSummary", "IndexingInterrupted", "Progress", "index_paths", "prepare_answers"]
