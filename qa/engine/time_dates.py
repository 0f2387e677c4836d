"""Calendar expressions in a question, for ``time_words``: "February 2020", "28 Feb 2020",
"2020-02-28", "the 1990s", and the relative words ("last week", "3 days ago", "this month")."""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from qa.engine.terms import STOPWORDS

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
_MON = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b\.?"
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)\b(?![-/]\d)"
_EDGE = r"(?:(?:early|late|mid-?|the (?:start|end|beginning|middle) of)\s*)?"
_EXPRESSIONS = [  # (name, pattern): tried in this order at the place a preposition ends
    ("iso", re.compile(r"(?P<year>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)\b")),
    ("day", re.compile(rf"(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MON}(?:,?\s+{_YEAR})?", re.I)),
    ("day", re.compile(rf"{_MON}\s+(?P<d>\d{{1,2}}){_ORD}\b(?!:)(?:,?\s+{_YEAR})?", re.I)),
    ("month", re.compile(rf"{_EDGE}{_MON},?\s+(?:of\s+)?{_YEAR}", re.I)),
    ("decade", re.compile(r"the\s+(?P<year>(?:19|20)\d)0s\b", re.I)),
    ("year", re.compile(rf"{_EDGE}{_YEAR}", re.I)),
    ("month", re.compile(rf"{_EDGE}{_MON}", re.I)),
]
_NEXT = re.compile(r"(?:['’]s\b|\s+([A-Za-z][\w’'-]*))")
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER_WORDS.update({"a": 1, "an": 1})
_N = r"(?P<n>(?<![\d,.])\d{1,3}(?![\d,.])|" + "|".join(_NUMBER_WORDS) + ")"
_UNIT = r"(?P<unit>day|week|month|year)s?"


@dataclass(frozen=True)
class Span:
    """A calendar expression read at one place: inclusive bounds (``None`` when it needs a
    reference date that is missing), the words to say it with, and whether a noun follows it
    (then it qualifies the noun: "2020 protests")."""

    end: int
    lo: dt.date | None
    hi: dt.date | None
    label: str
    attributive: bool = False
    year_read: bool = False  # the year came from the reference date ("in February")


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _attributive(text: str, end: int) -> bool:
    m = _NEXT.match(text, end)
    if not m:
        return False
    return m.group(1) is None or m.group(1).lower() not in STOPWORDS


def _month_alone_ok(m: re.Match[str]) -> bool:
    """"May", "March" and abbreviations stand for a month alone only when capitalised: "in may"
    is not a month, nor "in mar"."""
    word = m.group("mon")
    short = word.lower() in {"may", "march"} or len(word) <= 4 and word.lower() != "june"
    return not short or word[0].isupper()


def _year_of(month: int, day: int, today: dt.date | None) -> int | None:
    """The year of the latest such month/day not after ``today``."""
    if today is None:
        return None
    return today.year if (month, day) <= (today.month, today.day) else today.year - 1


def _read(name: str, m: re.Match[str], today: dt.date | None) -> Span | None:
    g = m.groupdict()
    month = MONTHS[g["mon"].lower().rstrip(".")] if g.get("mon") else int(g.get("m") or 1)
    year = int(g["year"]) if g.get("year") else None
    if year is None and name == "day":
        return None  # "born on July 4", "attacked on Jan. 8": the day of an event, not a report
    year_read = year is None and name not in {"year", "decade"}
    if year_read:
        year = _year_of(month, int(g.get("d") or 1), today)
    if year is None:
        return Span(m.end(), None, None, m.group(0), year_read=True)
    try:
        if name in {"iso", "day"}:
            d = dt.date(year, month, int(g["d"]))
            return Span(m.end(), d, d, f"{d.day} {d:%B} {d.year}", year_read=year_read)
    except ValueError:
        return None
    if name == "month":
        return Span(m.end(), dt.date(year, month, 1), month_end(year, month),
                    f"{calendar.month_name[month]} {year}", year_read=year_read)
    if name == "decade":
        return Span(m.end(), dt.date(year * 10, 1, 1), dt.date(year * 10 + 9, 12, 31),
                    f"the {year * 10}s")
    return Span(m.end(), dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))


def parse_expression(text: str, pos: int, today: dt.date | None,
                     day_only: bool = False) -> Span | None:
    """The calendar expression that starts at ``pos`` in ``text``, if any."""
    for name, pattern in _EXPRESSIONS:
        if day_only and name not in {"iso", "day"}:
            continue
        m = pattern.match(text, pos)
        if not m or (name == "month" and not m.groupdict().get("year")
                                and not _month_alone_ok(m)):
            continue
        span = _read(name, m, today)
        if span is None:
            return None
        attributive = _attributive(text, span.end)
        return Span(span.end, span.lo, span.hi, span.label, attributive, span.year_read)
    return None


# --- misspelt months -----------------------------------------------------------------------

_NEAR_MONTH = re.compile(r"\b(?:in|during|on|before|after|since|until|between)\s+"
                         r"(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?P<word>[A-Za-z]{4,10})\.?,?\s+"
                         r"(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?(?:19|20)\d\d\b")
_FULL_MONTHS = [name.lower() for name in calendar.month_name if name]


def misspelt(text: str) -> list[tuple[int, int]]:
    """Spans of "in Februray 2020": a word close to a month name, before a year, that is none."""
    out = []
    for m in _NEAR_MONTH.finditer(text):
        word = m.group("word").lower()
        if word not in MONTHS and difflib.get_close_matches(word, _FULL_MONTHS, 1, 0.75):
            out.append(m.span())
    return out


# --- relative words ------------------------------------------------------------------------

Period = tuple[dt.date, dt.date, str]


def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _shift(d: dt.date, n: int, unit: str) -> dt.date:
    """``d`` moved ``n`` units back (months and years keep the day where it exists)."""
    if unit in {"day", "week"}:
        return d - dt.timedelta(days=n * (7 if unit == "week" else 1))
    months = d.year * 12 + d.month - 1 - n * (12 if unit == "year" else 1)
    y, mo = divmod(months, 12)
    return dt.date(y, mo + 1, min(d.day, calendar.monthrange(y, mo + 1)[1]))


def _calendar(d: dt.date, unit: str) -> Period:
    """The calendar day, week (from Monday), month or year that holds ``d``."""
    if unit == "week":
        return _monday(d), _monday(d) + dt.timedelta(days=6), f"from the week of {_monday(d)}"
    if unit == "month":
        return d.replace(day=1), month_end(d.year, d.month), f"published in {d:%B %Y}"
    if unit == "year":
        return dt.date(d.year, 1, 1), dt.date(d.year, 12, 31), f"published in {d.year}"
    return d, d, f"published on {d}"


def _count(word: str | None) -> int:
    word = (word or "one").lower()
    return _NUMBER_WORDS[word] if word in _NUMBER_WORDS else int(word)


def _rolling(m: re.Match[str], today: dt.date) -> Period | None:
    n = _count(m.groupdict().get("n"))
    if not 1 <= n <= 100:
        return None
    lo = _shift(today, n, m.group("unit").lower())
    return lo, today, f"published from {lo} to {today}"


def _this(m: re.Match[str], today: dt.date) -> Period:
    lo, _, words = _calendar(today, m.group("unit").lower())
    return lo, today, words


def _last(m: re.Match[str], today: dt.date) -> Period:
    unit = m.group("unit").lower()
    return _calendar(_shift(today, 1, unit), unit)


def _weekend(m: re.Match[str], today: dt.date) -> Period:
    """Saturday to Monday: a weekend's events are reported through the Monday."""
    saturday = _monday(today) - dt.timedelta(days=2)
    if today <= saturday + dt.timedelta(days=2):  # said on the Monday itself: the one before
        saturday -= dt.timedelta(days=7)
    return (saturday, saturday + dt.timedelta(days=2),
            f"published from {saturday} to {saturday + dt.timedelta(days=2)}")


def _ago(m: re.Match[str], today: dt.date) -> Period | None:
    n = _count(m.groupdict().get("n"))
    unit = m.group("unit").lower()
    if not 1 <= n <= 100:
        return None
    return _calendar(_shift(today, n, unit), unit)


def _day(offset: int) -> Callable[[re.Match[str], dt.date], Period]:
    def read(m: re.Match[str], today: dt.date) -> Period:
        return _calendar(today - dt.timedelta(days=offset), "day")
    return read


_RELATIVE: list[tuple[re.Pattern[str], Callable[[re.Match[str], dt.date], Period | None]]] = [
    (re.compile(rf"\b(?:(?:in|over|during|within)\s+)?the\s+(?:past|last|previous)\s+"
                rf"(?:{_N}\s+)?{_UNIT}\b", re.I), _rolling),
    (re.compile(rf"\bthis\s+past\s+{_UNIT}\b(?:['’]s)?", re.I), _rolling),
    (re.compile(r"\b(?:last|this\s+past)\s+weekend\b(?:['’]s)?", re.I), _weekend),
    (re.compile(r"\b(?:earlier\s+)?this\s+(?P<unit>month|year)\b(?:['’]s)?", re.I), _this),
    (re.compile(rf"\b(?:last|previous)\s+{_UNIT}\b(?:['’]s)?", re.I), _last),
    (re.compile(rf"\b{_N}\s+{_UNIT}\s+ago\b", re.I), _ago),
    (re.compile(r"\byesterday\b(?:['’]s)?", re.I), _day(1)),
    (re.compile(r"(?<!as of )(?<!USA )\b(?:today|Today)\b(?!['’])"), _day(0)),
]


_OF = re.compile(r"\bof\s+$", re.I)  # "the end of this year" names a moment, maybe to come
_PROBE = dt.date(2000, 1, 1)  # to tell a readable phrase when there is no reference date


def read_relative(text: str, today: dt.date | None
                  ) -> list[tuple[int, int, str, Period | None]]:
    """``(start, end, phrase, period)`` for each relative time phrase; ``period`` is ``None``
    when there is no ``today`` to read it against."""
    out = []
    for pattern, read in _RELATIVE:
        for m in pattern.finditer(text):
            if _OF.search(text, 0, m.start()) or read(m, today or _PROBE) is None:
                continue  # "46 years ago" is fine, "400 years ago" names no article's date
            out.append((m.start(), m.end(), m.group(0), read(m, today) if today else None))
    return out
