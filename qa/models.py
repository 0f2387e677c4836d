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


class Copy(BaseModel):
    """Another article of the same story (a wire copy, a syndicated reprint, the same text under
    another headline): grouped at index time."""

    article_id: str
    source: str | None = None
    published: dt.date | None = None

    def label(self) -> str:
        """"Reuters 2020-02-28": the outlet (or the id) and the date, as a source list shows it."""
        when = self.published.isoformat() if self.published else None
        return " ".join(x for x in (self.source or self.article_id, when) if x)


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
    attribution: str | None = Field(
        default=None, description="Whom the sentence attributes the claim to ('Stoltenberg', 'UN "
        "officials'); null when the article states it in its own voice.")
    hedged: bool = Field(default=False, description="The claim is hedged: reportedly, allegedly, "
                         "unconfirmed, is said to...")
    copies: list[Copy] = Field(default_factory=list,
                               description="The other articles of the same story (copy group).")


class ShortAnswer(BaseModel):
    """The span of the first cited sentence that answers a who/which/where/when/how-many
    question: ``article.text[start:end] == text`` for the article of citation ``citation``."""

    text: str
    citation: int = Field(description="The n of the citation it is taken from.")
    start: int
    end: int


class Answer(BaseModel):
    """The reply to a question. When ``found`` is false, ``answer`` says the articles do not
    cover the question and ``related`` lists the closest passages."""

    question: str
    found: bool
    answer: str
    confidence: float
    citations: list[Citation] = []
    related: list[Hit] = []
    short_answer: ShortAnswer | None = None
    as_of: dt.date | None = Field(
        default=None, description="The newest date among the answer citations.")
    time_reading: str | None = Field(
        default=None, description="How the question's time words were read ('the newest reports', "
        "'published in February 2020'), or that a time word could not be read.")
    independent_outlets: int = Field(
        default=0, description="Distinct stories (copy groups) behind the answer and its "
        "corroborating citations: one wire story printed five times counts once.")

    def notes(self) -> list[str]:
        """What the CLI and the chat say under an answer: how the time words were read, as of
        when, and how many independent stories back it."""
        out = [self.time_reading] if self.time_reading else []
        if self.found and self.as_of:
            out.append(f"as of {self.as_of.isoformat()}")
        if self.found and self.independent_outlets:
            n = self.independent_outlets
            out.append(f"{n} independent {'story' if n == 1 else 'stories'}")
        return out


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
    copy_groups: int | None = Field(
        default=None, description="Distinct stories: articles grouped with their copies.")
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
