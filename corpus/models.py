"""The records the corpus layer produces: articles, their passages and sentence spans."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class Article(BaseModel):
    """One cleaned news article. ``text`` is the body only: no title, dateline or boilerplate."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable id: the same file or URL gives the same id on every run.")
    title: str
    text: str = Field(description="The cleaned body; paragraphs are separated by a blank line.")
    source: str | None = Field(None, description="The outlet or agency, where one is named.")
    site: str | None = Field(None, description="The website the page came from, if not the source.")
    published: dt.date | None = None
    url: str | None = None
    path: str | None = Field(None, description="The file the article was read from.")
    content_hash: str = Field(description="sha256 of what is indexed; changes with the text.")


class Sentence(BaseModel):
    """A sentence as character offsets into ``Article.text``."""

    model_config = ConfigDict(frozen=True)

    start: int
    end: int


class Passage(BaseModel):
    """A chunk of an article, sized for the embedding model.

    ``article.text[start:end] == text``; ``sentences`` are offsets into the article's text too.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    article_id: str
    index: int
    text: str
    start: int
    end: int
    sentences: list[Sentence]
