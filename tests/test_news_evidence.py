"""Evidence a news reader can weigh (issue 13), on the seed articles with the real model: the
short answer, dates and their order, who says so, copies of one story, and time words."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from corpus import load_file, sample_path
from corpus.cleaning import wire_agency
from qa.assistant import Assistant
from qa.cli.ask import render
from qa.cli.main import main

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_displaced_people_newest_figure_first_each_with_its_outlet(qa_assistant):
    answer = qa_assistant.ask("How many people have been displaced?")
    assert answer.found
    first, second = answer.citations[0], answer.citations[1]
    assert "950,0000" in first.quote and first.published == dt.date(2020, 2, 28)
    assert first.source == "AFP" and first.role == "answer"
    assert "900,000" in second.quote and second.published is None
    assert second.source == "Anadolu Agency" and second.role == "conflicting"
    text = answer.answer
    assert text.index("950,0000") < text.index("900,000")
    assert text.startswith("The latest report (2020-02-28, AFP) says:")
    assert "An undated report (Anadolu Agency):" in text
    assert answer.as_of == dt.date(2020, 2, 28)


def test_short_answer_is_a_span_of_the_first_citation(qa_assistant):
    answer = qa_assistant.ask("How many Turkish soldiers were killed?")
    short = answer.short_answer
    assert short is not None and short.text == "33" and short.citation == 1
    article = qa_assistant.article(answer.citations[0].article_id)
    assert article.text[short.start:short.end] == "33"
    assert answer.citations[0].start <= short.start < short.end <= answer.citations[0].end


def test_no_short_answer_for_a_what_did_question_and_the_claim_is_stoltenbergs(qa_assistant):
    answer = qa_assistant.ask("What did NATO urge?")
    assert answer.found and answer.short_answer is None
    assert "We urge" in answer.citations[0].quote
    assert answer.citations[0].attribution == "Stoltenberg"
    assert not answer.citations[0].hedged


def test_the_cli_shows_the_short_answer_first_then_who_says_so(qa_assistant):
    out = render(qa_assistant.ask("How many Turkish soldiers were killed?"))
    assert out.startswith("33 [1]\nThe latest report (2020-02-28, AFP) says: At least 33")
    bold = render(qa_assistant.ask("How many Turkish soldiers were killed?"), bold=True)
    assert bold.startswith("\033[1m33\033[0m [1]")
    nato = render(qa_assistant.ask("What did NATO urge?"))
    assert "    attributed to Stoltenberg" in nato and ", undated" in nato


def test_time_words_are_read_and_said(qa_assistant):
    newest = qa_assistant.ask("What is the latest number of displaced people?")
    assert newest.time_reading == "the newest reports"
    feb = qa_assistant.ask("What did NATO urge in February 2020?")
    assert feb.found and "February 2020" in (feb.time_reading or "")
    assert all(c.published is None or (c.published.year, c.published.month) == (2020, 2)
               for c in feb.citations)
    old = qa_assistant.ask("What did NATO urge in 2015?")
    assert old.found and "ignored" in (old.time_reading or "")
    plain = qa_assistant.ask("What did NATO urge?")
    assert plain.time_reading is None


def test_a_filter_on_the_caller_side_and_in_the_question_meet(qa_assistant):
    # the question says February 2020, the caller allows from March: nothing is left of the
    # question's filter, which is dropped (and said so) within the caller's own bounds
    answer = qa_assistant.ask("What did NATO urge in February 2020?",
                              published_from=dt.date(2020, 3, 1))
    assert "ignored" in (answer.time_reading or "") or not answer.found


def test_wire_agency_named_as_reporter():
    assert wire_agency("An AFP correspondent accompanied the rebels.") == "AFP"
    assert wire_agency("A Reuters reporter saw it. An AFP photographer too.") is None
    assert wire_agency("He told the Associated Press on Monday.") is None


@pytest.fixture(scope="module")
def copied_index(tmp_path_factory) -> Path:
    """One seed story printed by two outlets (and re-headlined), and another story."""
    files = sorted(sample_path().glob("*.txt"))
    soldiers = next(iter(load_file(files[2])))
    nato = next(iter(load_file(files[4])))
    records = [
        {"title": soldiers.title, "source": "AFP", "url": "https://afp.example/33",
         "published": "2020-02-28", "text": soldiers.text},
        {"title": "Dozens of Turkish troops die in Idlib air strike", "source": "Dhaka Tribune",
         "url": "https://dhakatribune.example/33", "published": "2020-02-28",
         "text": soldiers.text},
        {"title": nato.title, "source": "Anadolu Agency", "url": "https://aa.example/nato",
         "published": "2020-02-28", "text": nato.text},
    ]
    root = tmp_path_factory.mktemp("copies")
    path = root / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    index = root / "index"
    assert main(["index", str(path), "--index", str(index)]) == 0
    return index


def test_one_story_printed_twice_counts_once_and_lists_its_copy(copied_index):
    with Assistant.open(copied_index) as assistant:
        answer = assistant.ask("How many Turkish soldiers were killed?")
        info = assistant.info()
    assert answer.found
    first = answer.citations[0]
    assert first.source in {"AFP", "Dhaka Tribune"}
    assert [c.source for c in first.copies] == [{"AFP", "Dhaka Tribune"}.difference(
        {first.source}).pop()]
    cited = {c.article_id for c in answer.citations}
    assert first.copies[0].article_id not in cited  # a copy is folded, not cited again
    backing = {c.article_id for c in answer.citations if c.role in ("answer", "corroborating")}
    # the AFP and Dhaka Tribune copies are one story; the NATO story may corroborate it
    assert answer.independent_outlets == len(backing) in (1, 2)
    assert info.articles == 3 and info.copy_groups == 2
