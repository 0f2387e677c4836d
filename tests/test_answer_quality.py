"""Near-topic questions on the five sample articles (real model, real faiss): refuse what the
articles do not say, and lead with the sentence that answers."""

from __future__ import annotations

import pytest

from qa.engine import answering
from qa.engine.question import Question
from qa.engine.terms import terms

pytestmark = pytest.mark.slow


def answer_quotes(answer) -> list[str]:
    return [c.quote for c in answer.citations if c.role == "answer"]


@pytest.mark.parametrize(("question", "says"), [
    ("Who won the 2018 football world cup?", ""),
    # the refusal says what the question names that the closest report does not
    ("Who won the 2018 World Cup?", ' The closest report never mentions "World Cup".'),
])
def test_questions_on_another_topic_are_refused(qa_assistant, question, says):
    answer = qa_assistant.ask(question)
    assert not answer.found, answer.answer
    assert not answer.citations and answer.related
    assert answer.answer == "The articles do not cover this question." + says


def test_counting_another_group_than_the_one_asked_is_refused(qa_assistant):
    # the articles count 33 Turkish soldiers and seven civilians, no Russian soldiers
    answer = qa_assistant.ask("How many Russian soldiers were killed in Idlib?")
    assert not answer.found, answer.answer


def test_the_group_asked_about_is_still_answered(qa_assistant):
    answer = qa_assistant.ask("How many Turkish soldiers were killed in Idlib?")
    assert answer.found and answer.confidence > 0.5
    assert "33" in answer_quotes(answer)[0]


def test_who_question_leads_with_the_name_beside_the_title(qa_assistant):
    answer = qa_assistant.ask("Who is the NATO secretary general?")
    assert answer.found
    assert "Stoltenberg" in answer_quotes(answer)[0], answer.answer


def test_counted_phrase_and_contradiction():
    q = Question.parse("How many Russian soldiers were killed in Idlib?")
    assert q.focus == ["russian", "soldier"]
    assert q.contradicted_by("At least 33 Turkish soldiers were killed in Idlib.")
    assert not q.contradicted_by("Seven civilians were killed in Russian bombardment.")
    assert not q.contradicted_by("Five Russian soldiers and 33 Turkish soldiers died.")
    assert Question.parse("How many members urged Guterres to act?").focus == ["member"]
    assert not Question.parse("Who urged Guterres to act?").focus


def test_person_type_match_prefers_a_name_beside_the_asked_words():
    q = Question.parse("Who is the NATO secretary general?")
    beside = "The allies met, NATO Secretary General Jens Stoltenberg said on Friday."
    apart = "In a call with Minister Mevlut Cavusoglu, the NATO secretary general condemned it."
    assert q.type_match(beside) > q.type_match(apart) > 0


def test_the_names_a_question_gives():
    assert Question.parse("Who ended Max Verstappen’s winning streak at the Singapore Grand "
                          "Prix?").names == ["Max Verstappen", "Singapore Grand Prix"]
    # a sentence's opening word is capitalised whatever it is; "US" and "TV" are too short
    assert Question.parse("Approximately how many people are missing after Maui’s wildfires?"
                          ).names == ["Maui"]
    assert Question.parse("Beloved actress Cindy Williams died this week. Which US sitcom made "
                          "her famous?").names == ["Cindy Williams"]
    assert Question.parse("How many Turkish soldiers were killed in Idlib?").names == [
        "Turkish", "Idlib"]
    assert Question.parse("how many were killed?").names == []
    assert Question.parse("How far had the Lahaina fire spread by Aug. 14?").names == ["Lahaina"]
    assert Question.parse("WHO WON THE WORLD CUP?").names == []
    assert Question.parse("Who Won The 2018 World Cup In Russia?").names == []


def test_a_name_is_missing_when_the_article_lacks_one_of_its_words():
    q = Question.parse("Who won the Singapore Grand Prix for the American team?")
    mexico = set(terms("Verstappen won the Mexican Grand Prix for the team from America."))
    # "American" is named by "America" (the same first letters); "Singapore" is not named
    assert answering.unnamed(q, mexico) == ["Singapore Grand Prix"]
    assert answering.unnamed(q, mexico | {"singapor"}) == []


def test_an_answer_from_an_article_that_never_names_the_place_asked_is_less_sure(
        qa_assistant, monkeypatch):
    asked = "How many Turkish soldiers were killed in Afrin?"  # the articles tell of Idlib
    sure = qa_assistant.ask(asked).confidence
    monkeypatch.setattr(answering, "UNNAMED", 1.0)
    unchecked = qa_assistant.ask(asked).confidence
    assert sure == pytest.approx(unchecked * 0.7, abs=1e-3)
    assert qa_assistant.ask("How many Turkish soldiers were killed in Idlib?").confidence > 0.9


def test_recent_articles_and_their_terms_are_read_once():
    from qa.assistant import _Recent

    calls: list[str] = []

    def read(key: str) -> str | None:
        calls.append(key)
        return None if key == "gone" else key.upper()

    recent: _Recent[str] = _Recent(2)
    assert [recent.get(k, read) for k in ("a", "a", "b", "c", "a")] == ["A", "A", "B", "C", "A"]
    assert calls == ["a", "b", "c", "a"]  # "a" was let go of when "c" came
    assert recent.get("gone", read) is None and recent.get("gone", read) is None
    assert calls[-2:] == ["gone", "gone"]  # what could not be read is not kept
