"""Near-topic questions on the five sample articles (real model, real faiss): refuse what the
articles do not say, and lead with the sentence that answers."""

from __future__ import annotations

import pytest

from qa.engine.question import Question

pytestmark = pytest.mark.slow


def answer_quotes(answer) -> list[str]:
    return [c.quote for c in answer.citations if c.role == "answer"]


@pytest.mark.parametrize("question", [
    "Who won the 2018 football world cup?",
    "Who won the 2018 World Cup?",
])
def test_questions_on_another_topic_are_refused(qa_assistant, question):
    answer = qa_assistant.ask(question)
    assert not answer.found, answer.answer
    assert not answer.citations and answer.related


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
