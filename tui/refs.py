"""A source the chat can open: a citation of an answer or a ranked passage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from qa import Citation, Hit
from qa.models import Copy


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
    attribution: str | None = None
    hedged: bool = False
    copies: tuple[Copy, ...] = ()

    @classmethod
    def from_citation(cls, c: Citation) -> SourceRef:
        return cls(n=c.n, article_id=c.article_id, title=c.title, outlet=c.source,
                   published=c.published, text=c.quote, start=c.start, end=c.end, role=c.role,
                   score=c.score, location=c.url or c.path, attribution=c.attribution,
                   hedged=c.hedged, copies=tuple(c.copies))

    @classmethod
    def from_hit(cls, n: int, h: Hit) -> SourceRef:
        return cls(n=n, article_id=h.article_id, title=h.title, outlet=h.source,
                   published=h.published, text=h.text, start=h.start, end=h.end,
                   role="passage", score=h.score, location=h.url or h.path)

    @property
    def meta(self) -> str:
        """"Outlet · 2020-02-28", or "Outlet · undated" for a citation with no date."""
        when = (self.published.isoformat() if self.published
                else "undated" if self.role != "passage" else None)
        return " · ".join(p for p in (self.outlet, when) if p)

    @property
    def voice(self) -> str:
        """Who makes the claim, and whether it is hedged: "attributed to Stoltenberg · hedged"."""
        parts = [f"attributed to {self.attribution}" if self.attribution else None,
                 "hedged (reportedly, alleged...)" if self.hedged else None]
        return " · ".join(p for p in parts if p)

    @property
    def copies_line(self) -> str:
        """"+2 copies: Reuters 2020-02-28, AP" (the same story printed elsewhere)."""
        if not self.copies:
            return ""
        names = ", ".join(c.label() for c in self.copies[:3])
        more = "…" if len(self.copies) > 3 else ""
        return f"+{len(self.copies)} {'copy' if len(self.copies) == 1 else 'copies'}: {names}{more}"


def refs_for_hits(hits: list[Hit]) -> list[SourceRef]:
    return [SourceRef.from_hit(i, h) for i, h in enumerate(hits, 1)]
