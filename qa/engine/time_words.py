"""The time words of a question: "latest" asks for the newest reports, "in February 2020" and
"last week" filter the articles by their publication date.

A question's time phrase is a filter only when it is a prepositional phrase that names a period
and nothing else ("in 2020", "before March 2022", "last week"). A year that qualifies a noun is
content ("the 2020 election", "in 2020 protests"), and so is a period that cannot hold an article
yet (a future year, a month "beginning in November" in a question about plans). Event phrases
("after the war") are content too: in real news questions "after" is nearly always narrative
("after a devastating earthquake"), so flagging them would only add noise to the answer.

Relative words are read against ``today``: the newest article date in the index or the user's
``--today``. Without it they cannot be read and the reading says so. Weeks are calendar weeks
from Monday; "the past week" is the last seven days.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.engine.time_dates import Span, misspelt, parse_expression, read_relative

_TRIGGER = re.compile(r"\b(between|from|in|during|throughout|on|before|prior to|after|since|"
                      r"until|till|through)\s+", re.I)
_JOIN = re.compile(r"\s*(?:and|to|until|till|through|-|–)\s*", re.I)
# Words that put a question in the future: a period they name cannot hold an article yet.
_FUTURE = re.compile(r"\b(?:will|won['’]t|going to|set to|expected|upcoming|next|beginning|"
                     r"plans? to|scheduled)\b", re.I)
# Words that ask for the newest reports. "this week" is one: as a filter it would cost a fifth
# of real news questions every article that holds their answer (``python -m bench time-words``).
# "recent"/"recently" are not: they say the event is recent ("a recent study"), not that the
# newest of several figures is wanted.
_NEWEST = re.compile(r"\b(?:as of (?:now|today)|so far|(?<!up )to date|most recent(?:ly)?|"
                     r"latest|newest|currently|at present|at the moment|right now|"
                     r"in recent (?:days|weeks|months)|(?:earlier )?this week(?:['’]s)?|"
                     r"(?<![-\w])now(?![-\w]))\b"
                     r"|(?:(?<=\b(?:the|its|his|her|our) )|(?<=\btheir ))current"
                     r"(?=\s+(?!(?:account|affairs)\b)[a-z]{3,})", re.I)
# Words anywhere in a question (its scene-setting sentences too) that place the event in the days
# before ``today``: the newest words, "recently", a weekday, "yesterday". Retrieval prefers the
# reports of those days (``Retriever``'s recency bonus). On the tuning half of the real news
# questions this took passage hit@5 from 0.729 to 0.759 (``python -m bench news --part tune``).
# "today" is matched in lower case or capitalised only: not "USA TODAY".
_RECENT = re.compile(r"\b(?:(?i:recent(?:ly)?|yesterday|this (?:month|weekend))|[Tt]oday|"
                     r"[Tt]onight|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)\b")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+(?=[\"“‘(]?[A-Z])")
_NEWEST_WORDS = "the newest reports"
_NO_TODAY = "needs a reference date: none of the articles is dated"


@dataclass(frozen=True)
class TimeReading:
    """How a question's time words were read. ``published_from``/``published_to`` are inclusive
    bounds on an article's publication date (``None``: open); ``question`` is the question with
    the phrases that only name a time taken out, to search with."""

    question: str
    prefer_newest: bool = False
    published_from: dt.date | None = None
    published_to: dt.date | None = None
    description: str | None = None
    unreadable: str | None = None
    # the question is about the days before this date (``today``): the reports of those days
    # are preferred (None: no such words, or no date to read them against)
    recent_to: dt.date | None = None

    @property
    def filters(self) -> bool:
        return self.published_from is not None or self.published_to is not None

    def admits(self, published: dt.date | None) -> bool:
        """Whether an article dated ``published`` passes the filter. An undated article does:
        its date is unknown, not outside, and the answer says it is undated."""
        if published is None:
            return True
        return ((self.published_from is None or published >= self.published_from)
                and (self.published_to is None or published <= self.published_to))


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    lo: dt.date | None = None
    hi: dt.date | None = None
    words: str = ""                 # "published in February 2020", for the description
    unreadable: str | None = None   # why it could not be read
    remove: bool = True             # it names only a time: take it out of the search


def newest_first(dates: Sequence[dt.date | None]) -> list[int]:
    """Indices of ``dates`` newest first, undated last; ties keep their order."""
    dated = sorted((i for i, d in enumerate(dates) if d is not None),
                   key=lambda i: dates[i].toordinal(), reverse=True)  # type: ignore[union-attr]
    return dated + [i for i, d in enumerate(dates) if d is None]


def _day(d: dt.date) -> str:
    return f"{d.day} {d:%B} {d.year}"


def _bounded(word: str, first: Span, last: Span) -> tuple[dt.date | None, dt.date | None, str]:
    """The bounds and words of ``word first [and last]``."""
    assert first.lo is not None and last.hi is not None
    if word in {"before", "prior to"}:
        return None, first.lo - dt.timedelta(days=1), f"published before {_day(first.lo)}"
    if word == "after":
        return last.hi + dt.timedelta(days=1), None, f"published after {_day(last.hi)}"
    if word == "since":
        return first.lo, None, f"published since {_day(first.lo)}"
    if word in {"until", "till", "through"}:
        return None, last.hi, f"published up to {_day(last.hi)}"
    if word in {"between", "from"}:
        return first.lo, last.hi, f"published between {_day(first.lo)} and {_day(last.hi)}"
    on = "on" if first.lo == first.hi else "in"
    return first.lo, first.hi, f"published {on} {first.label}"


def _absolute(text: str, today: dt.date | None) -> list[_Found]:
    """Prepositional phrases naming a calendar period: "in February 2020", "between 2019 and
    2021", "before 1 March 2022"."""
    out = []
    future = bool(_FUTURE.search(text))
    for m in _TRIGGER.finditer(text):
        word = m.group(1).lower()
        first = parse_expression(text, m.end(), today, day_only=word == "on")
        if first is None or (word == "from" and not _JOIN.match(text, first.end)):
            continue
        last, end = first, first.end
        if word in {"between", "from"}:
            j = _JOIN.match(text, first.end)
            second = parse_expression(text, j.end(), today) if j else None
            if second is None:
                continue
            last, end = second, second.end
        if first.attributive or last.attributive or (future and first.year_read):
            continue  # "in 2020 protests", "beginning in November": content
        if first.lo is None or last.hi is None:
            out.append(_Found(m.start(), end, unreadable=_NO_TODAY))
            continue
        lo, hi, words = _bounded(word, first, last)
        if today is not None and lo is not None and lo > today:
            continue  # "running for president in 2024": no article is dated then yet
        out.append(_Found(m.start(), end, lo, hi, words))
    return out


def _relative(text: str, today: dt.date | None) -> list[_Found]:
    out = []
    for start, end, phrase, period in read_relative(text, today):
        if period is None:
            out.append(_Found(start, end, unreadable=_NO_TODAY))
            continue
        lo, hi, words = period
        out.append(_Found(start, end, lo, hi, f"{words} ({phrase}, relative to {today})"))
    return out


def _misspelt(text: str) -> list[_Found]:
    return [_Found(start, end, unreadable="could not be read as a date: it was ignored",
                   remove=False) for start, end in misspelt(text)]


def _without(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with ``spans`` taken out and the punctuation around them tidied."""
    out, at = [], 0
    for start, end in sorted(spans):
        out.append(text[at:start])
        at = max(at, end)
    out.append(text[at:])
    left = " ".join("".join(out).split())
    left = re.sub(r"\s+([?.!,:;])", r"\1", left)
    left = re.sub(r"(?:\s*,)?\s+(?:and|or)(?=[?.!,]|$)|^(?:and|or)\s+", "", left, flags=re.I)
    left = re.sub(r"^[,;:]\s*|,(?=[?.!])", "", left).strip()
    if left and text[:1].isupper():
        left = left[0].upper() + left[1:]
    return left if re.search(r"\w", left) else text


def _combine(found: list[_Found]) -> tuple[dt.date | None, dt.date | None, list[_Found]]:
    """Intersect the readable phrases in order; one that would leave no date at all is marked
    unreadable (it contradicts an earlier one)."""
    lo: dt.date | None = None
    hi: dt.date | None = None
    out = []
    for f in found:
        if not f.unreadable:
            new_lo = max((d for d in (lo, f.lo) if d), default=None)
            new_hi = min((d for d in (hi, f.hi) if d), default=None)
            if new_lo and new_hi and new_lo > new_hi:
                f = replace(f, unreadable="contradicts an earlier time phrase: it was ignored")
            else:
                lo, hi = new_lo, new_hi
        out.append(f)
    return lo, hi, out


def _non_overlapping(found: list[_Found]) -> list[_Found]:
    keep: list[_Found] = []
    for f in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if not keep or f.start >= keep[-1].end:
            keep.append(f)
    return keep


def asking_start(text: str) -> int:
    """Where the sentence that asks begins: the last one. Earlier sentences set the scene ("World
    leaders gathered at the UN this week. Where is the UN headquartered?") and their time words
    date the scene, not the answer. "Sen." or "U.S." end no sentence."""
    starts = [m.end() for m in _SENTENCE_END.finditer(text.rstrip())
              if not re.search(r"(?:\b[A-Z][A-Za-z]{0,3}|\b[A-Z](?:\.[A-Z])+)\.$",
                               text[:m.start() + 1])]
    return starts[-1] if starts else 0


def read_time(question: str, today: dt.date | None) -> TimeReading:
    """Read ``question``'s time words (see the module docstring)."""
    asks = asking_start(question)
    found = _non_overlapping([f for f in _relative(question, today) + _absolute(question, today)
                              + _misspelt(question) if f.start >= asks])
    newest = [m for m in _NEWEST.finditer(question, asks)
              if not any(f.start < m.end() and m.start() < f.end for f in found)]
    lo, hi, found = _combine(found)
    words = [f.words for f in found if not f.unreadable]
    lost = [f for f in found if f.unreadable]
    parts = []
    if words:
        parts.append("articles " + " and ".join(words) + (", newest first" if newest else ""))
    elif newest:
        parts.append(_NEWEST_WORDS)
    recent = today is not None and bool(_NEWEST.search(question) or _RECENT.search(question))
    if recent and not newest and today is not None:
        parts.append(f"recent reports preferred (up to {_day(today)})")
    parts += [f"'{question[f.start:f.end]}' {f.unreadable}" for f in lost]
    spans = [(f.start, f.end) for f in found if f.remove] + [m.span() for m in newest]
    return TimeReading(
        question=_without(question, spans) if spans else question,
        prefer_newest=bool(newest), published_from=lo, published_to=hi,
        description="; ".join(parts) or None,
        recent_to=today if recent else None,
        unreadable="; ".join(question[f.start:f.end] for f in lost) or None)


__all__ = ["TimeReading", "newest_first", "read_time"]
