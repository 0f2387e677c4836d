"""The records users see: search hits, answers and their citations. ``model_dump_json()`` is
the JSON the CLI prints and the HTTP API serves."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class ArticleRef(BaseModel):
    """The article a hit or citation comes from: the fields every source line shows."""

    article_id: str
    title: str
    source: str | None = None
    published: dt.date | None = None
    url: str | None = None
    path: str | None = None


class Hit(ArticleRef):
    """A retrieved passage with the article it comes from."""

    passage_id: str
    text: str
    score: float
    start: int = Field(description="Offset of the passage in the article's text.")
    end: int


class Citation(ArticleRef):
    """One quoted sentence: ``article.text[start:end] == quote``."""

    n: int = Field(description="The marker number: [n] in the answer text.")
    passage_id: str
    quote: str
    start: int
    end: int
    score: float
    role: str = Field(
        "answer",
        description="answer: the answer rests on it; corroborating: another article states the "
        "same fact; conflicting: another article gives a different figure.",
    )


class Answer(BaseModel):
    """The reply to a question. When ``found`` is false, ``answer`` says the articles do not
    cover the question and ``related`` lists the closest passages."""

    question: str
    found: bool
    answer: str
    confidence: float
    citations: list[Citation] = []
    related: list[Hit] = []


class IndexInfo(BaseModel):
    """An index at a glance: what ``qa info`` prints and the chat's header shows."""

    path: str
    articles: int
    passages: int
    sources: list[str] = Field(default_factory=list, description="Distinct outlets, sorted.")
    earliest: dt.date | None = None
    latest: dt.date | None = None
    model: str
    dim: int
    index_type: str
    size_bytes: int
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
