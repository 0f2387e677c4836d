"""A source the chat can open: a citation of an answer or a ranked passage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from qa import Citation, Hit


@dataclass(frozen=True)
class SourceRef:
    """What a source card shows and what the article viewer highlights.

    ``article.text[start:end] == text`` (the quoted sentence, or the whole passage of a hit).
    """

    n: int
    article_id: str
    title: str
    outlet: str | None
    published: dt.date | None
    text: str
    start: int
    end: int
    role: str = "answer"
    score: float | None = None
    location: str | None = None

    @classmethod
    def from_citation(cls, c: Citation) -> SourceRef:
        return cls(n=c.n, article_id=c.article_id, title=c.title, outlet=c.source,
                   published=c.published, text=c.quote, start=c.start, end=c.end, role=c.role,
                   score=c.score, location=c.url or c.path)

    @classmethod
    def from_hit(cls, n: int, h: Hit) -> SourceRef:
        return cls(n=n, article_id=h.article_id, title=h.title, outlet=h.source,
                   published=h.published, text=h.text, start=h.start, end=h.end,
                   role="passage", score=h.score, location=h.url or h.path)

    @property
    def meta(self) -> str:
        """"Outlet · 2020-02-28", leaving out what is unknown."""
        parts = [self.outlet, self.published.isoformat() if self.published else None]
        return " · ".join(p for p in parts if p)


def refs_for_hits(hits: list[Hit]) -> list[SourceRef]:
    return [SourceRef.from_hit(i, h) for i, h in enumerate(hits, 1)]
