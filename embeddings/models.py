"""Records of the index store: its manifest and the passages it returns."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from corpus.models import Passage

FORMAT_VERSION = 2  # 2: int8 vectors, sentence vectors, passage text not repeated


class StoredPassage(Passage):
    """A passage as stored in an index, with its faiss id and its article's metadata."""

    vid: int = Field(description="The passage's id in the faiss index.")
    title: str
    source: str | None = None
    published: dt.date | None = None
    url: str | None = None
    path: str | None = None


class Manifest(BaseModel):
    """``manifest.json``: what an index holds and how it was built."""

    format_version: int = FORMAT_VERSION
    model: str
    dim: int
    weights_sha256: str
    index_type: str = Field(description="The faiss index factory string, e.g. 'IDMap2,Flat'.")
    articles: int = 0
    passages: int = 0
    generation: int = Field(0, description="+1 for every committed write.")
    created: dt.datetime
    updated: dt.datetime
