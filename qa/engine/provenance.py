"""What a news reader weighs beside a cited sentence: the short answer in it, who says so,
when it was reported, and how many independent stories stand behind an answer once wire
copies and reprints count once.

Copy groups are found at index time (:mod:`qa.indexing.copies`); here they are read back for the
cited articles only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from corpus.models import Article
from qa.engine.attribution import attribution
from qa.engine.question import Question
from qa.engine.short_answer import short_answer
from qa.models import Citation, Copy, ShortAnswer

MOST_COPIES = 20  # copies listed per citation (the count in "+N copies" is still all of them)
BACKING = ("answer", "corroborating")


def as_of(citations: Sequence[Citation]) -> dt.date | None:
    """The newest date among the answer citations (None when none is dated)."""
    dates = [c.published for c in citations if c.role == "answer" and c.published]
    return max(dates) if dates else None


def independent_outlets(citations: Sequence[Citation], group_of: Mapping[str, str]) -> int:
    """Distinct copy groups behind the answer and its corroborating citations: one wire story
    printed by five outlets counts once."""
    return len({group_of.get(c.article_id, c.article_id) for c in citations
                if c.role in BACKING})


def attach_copies(citations: Sequence[Citation], group_of: Mapping[str, str],
                  members: Mapping[str, Sequence[str]],
                  article: Callable[[str], Article | None]) -> None:
    """Fill each citation's ``copies``: the other articles of its copy group, oldest-indexed
    first (an article removed since is left out)."""
    for c in citations:
        others = [a for a in members.get(group_of.get(c.article_id, c.article_id), ())
                  if a != c.article_id]
        copies = []
        for article_id in others[:MOST_COPIES]:
            a = article(article_id)
            if a is not None:
                copies.append(Copy(article_id=a.id, source=a.source, published=a.published))
        c.copies = copies


def attribute(citations: Sequence[Citation], article: Callable[[str], Article | None]) -> None:
    """Fill each citation's ``attribution`` (whom the sentence attributes its claim to, read in
    its article: "he said" after a quote names the speaker) and ``hedged``."""
    for c in citations:
        a = article(c.article_id)
        if a is not None:
            c.attribution, c.hedged = attribution(a.text, c.start, c.end)


def shortest(question: Question, citations: Sequence[Citation]) -> ShortAnswer | None:
    """The span of the first cited sentence that answers a who/which/where/when/how-many
    question ("33", "Jens Stoltenberg"), with offsets into its article; None when none fits."""
    if not citations:
        return None
    first = citations[0]
    span = short_answer(question, first.quote)
    if span is None:
        return None
    start, end = span
    return ShortAnswer(text=first.quote[start:end], citation=first.n,
                       start=first.start + start, end=first.start + end)
