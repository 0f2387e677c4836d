"""The time words of a question: what is a filter, what asks for the newest, what is content,
and what is left of the question to search with."""

from __future__ import annotations

import datetime as dt

import pytest

from qa.engine.time_words import TimeReading, newest_first, read_time

D = dt.date
MON = D(2020, 3, 2)  # a Monday
THU = D(2023, 6, 15)  # a Thursday

# (question, today, searched as, prefer_newest, published_from, published_to, unreadable)
CASES = [
    # calendar filters
    ("What did NATO urge in February 2020?", None, "What did NATO urge?", False,
     D(2020, 2, 1), D(2020, 2, 29), None),
    ("What did NATO urge in Feb. 2020?", MON, "What did NATO urge?", False,
     D(2020, 2, 1), D(2020, 2, 29), None),
    ("In 2019, who won the cup?", None, "Who won the cup?", False,
     D(2019, 1, 1), D(2019, 12, 31), None),
    ("What happened during March 2021?", None, "What happened?", False,
     D(2021, 3, 1), D(2021, 3, 31), None),
    ("What was said before March 2022?", None, "What was said?", False,
     None, D(2022, 2, 28), None),
    ("What was said after March 2022?", None, "What was said?", False,
     D(2022, 4, 1), None, None),
    ("What has Turkey said since 2021?", None, "What has Turkey said?", False,
     D(2021, 1, 1), None, None),
    ("What was reported until June 2020?", None, "What was reported?", False,
     None, D(2020, 6, 30), None),
    ("How many were displaced between 2019 and 2021?", None, "How many were displaced?",
     False, D(2019, 1, 1), D(2021, 12, 31), None),
    ("What did Erdogan say on 28 February 2020?", None, "What did Erdogan say?", False,
     D(2020, 2, 28), D(2020, 2, 28), None),
    ("What did Erdogan say on February 28, 2020?", None, "What did Erdogan say?", False,
     D(2020, 2, 28), D(2020, 2, 28), None),
    ("What happened on 2020-02-28?", None, "What happened?", False,
     D(2020, 2, 28), D(2020, 2, 28), None),
    ("What happened in the 1990s?", None, "What happened?", False,
     D(1990, 1, 1), D(1999, 12, 31), None),
    ("What happened since March 2019 and before 2020?", None, "What happened?", False,
     D(2019, 3, 1), D(2019, 12, 31), None),
    # a month without a year: the latest such month up to today
    ("What happened in May?", MON, "What happened?", False, D(2019, 5, 1), D(2019, 5, 31),
     None),
    ("What happened in February?", MON, "What happened?", False, D(2020, 2, 1),
     D(2020, 2, 29), None),
    # content, not filters
    ("How many people were killed in 2020 protests?", MON,
     "How many people were killed in 2020 protests?", False, None, None, None),
    ("Who won the 2020 election?", MON, "Who won the 2020 election?", False, None, None, None),
    ("Who may resign in march?", MON, "Who may resign in march?", False, None, None, None),
    ("Who won in May 2021 elections?", MON, "Who won in May 2021 elections?", False, None,
     None, None),
    ("What happened after the war?", MON, "What happened after the war?", False, None, None,
     None),
    ("Which now-defunct firm collapsed?", MON, "Which now-defunct firm collapsed?", False,
     None, None, None),
    ("How many US presidents were born on July 4?", THU,
     "How many US presidents were born on July 4?", False, None, None, None),
    ("Who is running for president in 2024?", THU, "Who is running for president in 2024?",
     False, None, None, None),
    ("Which lawmaker is leaving Congress at the end of this year?", THU,
     "Which lawmaker is leaving Congress at the end of this year?", False, None, None, None),
    ("What animal was frozen 46,000 years ago?", THU, "What animal was frozen 46,000 years ago?",
     False, None, None, None),
    ("Where is the ocean current strongest?", THU, "Where is the ocean current strongest?",
     False, None, None, None),
    ("Which newspapers, including USA TODAY, dropped the strip?", THU,
     "Which newspapers, including USA TODAY, dropped the strip?", False, None, None, None),
    # a time phrase in the sentence that sets the scene does not date the answer
    ("World leaders met at the UN this week. Where is the UN headquartered?", THU,
     "World leaders met at the UN this week. Where is the UN headquartered?", False, None,
     None, None),
    ("Sen. Graham spoke in 2019. What did he say in 2020?", None,
     "Sen. Graham spoke in 2019. What did he say?", False, D(2020, 1, 1), D(2020, 12, 31),
     None),
    # the newest reports
    ("What is the latest death toll?", None, "What is the death toll?", True, None, None, None),
    ("What is the current death toll?", None, "What is the death toll?", True, None, None,
     None),
    ("How many people have died so far?", None, "How many people have died?", True, None,
     None, None),
    ("Who is now the NATO chief?", None, "Who is the NATO chief?", True, None, None, None),
    ("Which state currently has the highest gas prices?", None,
     "Which state has the highest gas prices?", True, None, None, None),
    ("Which automaker recalled 2 million vehicles this week?", THU,
     "Which automaker recalled 2 million vehicles?", True, None, None, None),
    ("What is the latest figure in February 2020?", None, "What is the figure?", True,
     D(2020, 2, 1), D(2020, 2, 29), None),
    # relative words, read against today
    ("What happened last week?", MON, "What happened?", False, D(2020, 2, 24), D(2020, 3, 1),
     None),
    ("What happened last month?", MON, "What happened?", False, D(2020, 2, 1), D(2020, 2, 29),
     None),
    ("How many thefts were reported last year?", THU, "How many thefts were reported?", False,
     D(2022, 1, 1), D(2022, 12, 31), None),
    ("What happened earlier this month?", MON, "What happened?", False, D(2020, 3, 1), MON,
     None),
    ("Who won this year's Nobel Peace Prize?", THU, "Who won Nobel Peace Prize?", False,
     D(2023, 1, 1), THU, None),
    ("Who said what yesterday?", MON, "Who said what?", False, D(2020, 3, 1), D(2020, 3, 1),
     None),
    ("What did the minister say today?", MON, "What did the minister say?", False, MON, MON,
     None),
    ("What happened 3 days ago?", MON, "What happened?", False, D(2020, 2, 28), D(2020, 2, 28),
     None),
    ("What happened two weeks ago?", MON, "What happened?", False, D(2020, 2, 17),
     D(2020, 2, 23), None),
    ("What happened in the past two weeks?", MON, "What happened?", False, D(2020, 2, 17), MON,
     None),
    ("Who won the match last weekend?", THU, "Who won the match?", False, D(2023, 6, 10),
     D(2023, 6, 12), None),
    # relative words without a reference date, misspelt months, contradictions: unreadable
    ("What happened last week?", None, "What happened?", False, None, None, "last week"),
    ("Who said what yesterday?", None, "Who said what?", False, None, None, "yesterday"),
    ("What happened in May?", None, "What happened?", False, None, None, "in May"),
    ("What happened in Februray 2020?", MON, "What happened in Februray 2020?", False, None,
     None, "in Februray 2020"),
    ("What happened on 28 Febuary 2020?", MON, "What happened on 28 Febuary 2020?", False,
     None, None, "on 28 Febuary 2020"),
    ("What happened in 2019 and in 2018?", None, "What happened?", False, D(2019, 1, 1),
     D(2019, 12, 31), "in 2018"),
]


@pytest.mark.parametrize("question,today,searched,newest,lo,hi,bad", CASES,
                         ids=[f"{c[0]}@{c[1]}" for c in CASES])
def test_reading(question: str, today: dt.date | None, searched: str, newest: bool,
                 lo: dt.date | None, hi: dt.date | None, bad: str | None) -> None:
    r = read_time(question, today)
    assert (r.question, r.prefer_newest, r.published_from, r.published_to, r.unreadable) == \
        (searched, newest, lo, hi, bad)
    said = lo or hi or newest or bad or r.recent_to  # recency: test_recent_days below
    assert (r.description is not None) == bool(said)


RECENT = [
    # the question is about the days before today: the reports of those days are preferred
    ("Which company confirmed this week that it was laying off 10,000 employees?", True),
    ("World leaders met at the UN this week. Where is the UN headquartered?", True),
    ("Wednesday was World Water Day. What share of people lack clean water?", True),
    ("Which show did Netflix recently renew?", True),
    ("What did the president say on Tuesday?", True),
    ("What is the latest death toll?", True),
    ("Who is the current prime minister?", True),
    ("What did the minister announce today?", True),
    # no such words
    ("Which newspapers, including USA TODAY, dropped the strip?", False),
    ("Who won the 2020 election?", False),
    ("Where is the UN headquartered?", False),
    ("What did NATO urge in February 2020?", False),
]


@pytest.mark.parametrize("question,recent", RECENT, ids=[c[0] for c in RECENT])
def test_recent_days(question: str, recent: bool) -> None:
    r = read_time(question, THU)
    assert r.recent_to == (THU if recent else None)
    assert read_time(question, None).recent_to is None  # nothing to read them against
    if recent and not r.prefer_newest and not r.filters:
        assert r.description == "recent reports preferred (up to 15 June 2023)"


def test_descriptions_say_the_reading_in_plain_words() -> None:
    assert read_time("What did NATO urge in February 2020?", None).description == \
        "articles published in February 2020"
    assert read_time("What was said before March 2022?", None).description == \
        "articles published before 1 March 2022"
    assert read_time("What happened last week?", MON).description == \
        "articles from the week of 2020-02-24 (last week, relative to 2020-03-02)"
    assert read_time("What is the latest toll?", None).description == "the newest reports"
    assert read_time("What happened last week?", None).description == \
        "'last week' needs a reference date: none of the articles is dated"
    assert "could not be read" in (read_time("Who won in Septmber 2021?", MON).description
                                   or "")


def test_a_question_without_time_words_is_untouched() -> None:
    q = "How many Turkish soldiers were killed?"
    assert read_time(q, MON) == TimeReading(question=q)


def test_admits_keeps_undated_articles_and_respects_the_bounds() -> None:
    r = read_time("What did NATO urge in February 2020?", None)
    assert r.filters
    assert [r.admits(d) for d in (D(2020, 1, 31), D(2020, 2, 1), D(2020, 2, 29),
                                  D(2020, 3, 1), None)] == [False, True, True, False, True]
    assert read_time("What is the latest toll?", None).admits(D(1999, 1, 1))


def test_newest_first_puts_undated_last_and_keeps_ties_in_order() -> None:
    dates = [None, D(2020, 2, 27), D(2020, 2, 28), None, D(2020, 2, 27)]
    assert newest_first(dates) == [2, 1, 4, 0, 3]
    assert newest_first([]) == []
