"""Time words on real news questions (RealTimeQA 2023): what ``read_time`` reads in each of the
495 quiz questions, with the quiz date as the reference date, and whether a filter would cost a
question its gold articles.

    python -m bench time-words [--quiet]

An article holds the answer when an answer string (case-insensitive) occurs in its text; a
question loses its gold when no article holding the answer passes the filter (undated articles
pass: their date is unknown, not outside). The quiz says "this week" in a third of its
questions; the last part measures what reading it as a filter would cost, for three windows.
No model is loaded: this is text and dates only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass

from bench._data import dataset
from qa.engine.time_words import TimeReading, asking_start, read_time

DATA = ("realtimeqa-2023",)
_THIS_WEEK = re.compile(r"\bthis\s+week\b(?:['’]s)?", re.I)


@dataclass
class Quiz:
    qid: str
    text: str
    answers: list[str]
    date: dt.date


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def load() -> tuple[list[Quiz], list[tuple[dt.date | None, str]]]:
    quizzes = []
    with dataset(*DATA, "questions.jsonl").open() as fh:
        for line in fh:
            q = json.loads(line)
            quizzes.append(Quiz(q["id"], q["question"].strip(), list(q["answers"]),
                                dt.date.fromisoformat(q["date"].replace("/", "-"))))
    articles = []
    with dataset(*DATA, "articles.jsonl").open() as fh:
        for line in fh:
            a = json.loads(line)
            articles.append((_date(a.get("published") or ""), a["text"].lower()))
    return quizzes, articles


def gold_dates(quiz: Quiz, articles: list[tuple[dt.date | None, str]]) -> list[dt.date | None]:
    """The publication dates of the articles that hold one of the quiz's answers."""
    answers = [a.lower() for a in quiz.answers if a.strip()]
    return [d for d, text in articles if any(a in text for a in answers)]


def keeps_gold(dates: list[dt.date | None], lo: dt.date | None, hi: dt.date | None) -> bool:
    return any(d is None or ((lo is None or d >= lo) and (hi is None or d <= hi))
               for d in dates)


def _kind(r: TimeReading) -> str:
    return ("filter" if r.filters else "") + ("+newest" if r.prefer_newest else "") \
        + ("+unreadable" if r.unreadable else "")


def report_readings(quizzes: list[Quiz], gold: dict[str, list[dt.date | None]],
                    quiet: bool) -> None:
    kinds: Counter[str] = Counter()
    lost = filtered = 0
    for q in quizzes:
        r = read_time(q.text, q.date)
        if not (r.filters or r.prefer_newest or r.unreadable):
            continue
        kinds[_kind(r).lstrip("+")] += 1
        mark = ""
        if r.filters and q.answers:
            filtered += 1
            if not keeps_gold(gold[q.qid], r.published_from, r.published_to):
                lost += 1
                mark = "  LOSES GOLD"
        if not quiet:
            print(f"{q.date} | {q.text}\n    -> {r.description} | searched as: {r.question}"
                  f"{mark}")
    print(f"\nquestions with a reading: {sum(kinds.values())} of {len(quizzes)}: "
          + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print(f"answerable questions filtered: {filtered}; lose every gold article: {lost}")


def _windows(today: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    monday = today - dt.timedelta(days=today.weekday())
    return {"calendar week (Monday..quiz date)": (monday, today),
            "last 7 days (quiz date-6..quiz date)": (today - dt.timedelta(days=6), today),
            "last 14 days": (today - dt.timedelta(days=13), today)}


def _lag(dates: list[dt.date | None], today: dt.date) -> str:
    dated = [d for d in dates if d is not None]
    if not dated:
        return "no dated gold"
    lag = min(abs((today - d).days) for d in dated)
    return ("0-6 days" if lag < 7 else "7-13 days" if lag < 14 else "14-60 days" if lag < 61
            else "over 60 days")


def report_this_week(quizzes: list[Quiz], gold: dict[str, list[dt.date | None]]) -> None:
    """"this week" in the sentence that asks (read as a filter) and in a scene-setting sentence
    before it (left alone): what each window would cost."""
    groups: dict[str, list[Quiz]] = {"asking sentence": [], "scene sentence": []}
    for q in quizzes:
        m = _THIS_WEEK.search(q.text)
        if q.answers and m:
            asks = _THIS_WEEK.search(q.text, asking_start(q.text))
            groups["asking sentence" if asks else "scene sentence"].append(q)
    for group, said in groups.items():
        losses: Counter[str] = Counter()
        lags: Counter[str] = Counter()
        for q in said:
            lags[_lag(gold[q.qid], q.date)] += 1
            for name, (lo, hi) in _windows(q.date).items():
                losses[name] += not keeps_gold(gold[q.qid], lo, hi)
        print(f"\n'this week' in the {group} of {len(said)} answerable questions; a filter "
              "would lose every gold article in:")
        for name in _windows(dt.date.today()):
            print(f"  {name}: {losses[name]} ({losses[name] / max(len(said), 1):.0%})")
        print("  nearest dated gold article from the quiz date: "
              + ", ".join(f"{k} {n}" for k, n in lags.most_common()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench time-words")
    parser.add_argument("--quiet", action="store_true", help="figures only, no questions")
    args = parser.parse_args(argv)
    quizzes, articles = load()
    gold = {q.qid: gold_dates(q, articles) for q in quizzes if q.answers}
    report_readings(quizzes, gold, args.quiet)
    report_this_week(quizzes, gold)
    return 0
