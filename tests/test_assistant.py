"""The public API on the sample index with the real model: opening, info, articles, errors,
conversations with follow-ups."""

from __future__ import annotations

import pytest

import qa
from qa import Answer, Article, ArticleNotFound, Assistant, Conversation, QAError, QuestionError
from qa.assistant import check_question
from qa.engine.followups import context_for, names

pytestmark = pytest.mark.slow


def test_public_names_are_exported():
    for name in qa.__all__:
        assert getattr(qa, name) is not None
    assert issubclass(ArticleNotFound, QAError) and issubclass(QuestionError, QAError)


def test_info_describes_the_index(qa_assistant, qa_index):
    info = qa_assistant.info()
    assert info.articles == 5 and info.passages > 5
    assert info.model == "sentence-transformers/all-MiniLM-L6-v2" and info.dim == 384
    assert "TASS" in info.sources and info.path.endswith("qa-sample-index")


def test_article_lookup(qa_assistant):
    hit = qa_assistant.search("Zakharova", k=1)[0]
    article = qa_assistant.article(hit.article_id)
    assert isinstance(article, Article) and article.id == hit.article_id
    with pytest.raises(ArticleNotFound, match="no article"):
        qa_assistant.article("no-such-id")


@pytest.mark.parametrize("bad", ["", "   ", "x" * 1001])
def test_bad_questions_raise(qa_assistant, bad):
    with pytest.raises(QuestionError):
        qa_assistant.ask(bad)
    with pytest.raises(QuestionError):
        qa_assistant.search(bad)


@pytest.mark.parametrize("bad, kind", [(123, "int"), (b"Idlib", "bytes"), (["Idlib"], "list")])
def test_a_question_that_is_not_text_is_a_question_error(qa_assistant, bad, kind):
    for call in (qa_assistant.ask, qa_assistant.search, qa_assistant.chat().ask):
        with pytest.raises(QuestionError, match=f"^the (question|query) must be text, not {kind}$"):
            call(bad)


def test_lone_surrogates_become_replacement_characters(qa_assistant):
    answer = qa_assistant.ask("\ud800 How many Turkish soldiers were killed?")
    assert answer.question == "\ufffd How many Turkish soldiers were killed?"
    assert answer.found and "33" in answer.answer
    answer.model_dump_json()  # encodable: no surrogate left
    hits = qa_assistant.search("Zakharova \udcff")
    assert hits and "Zakharova" in hits[0].text


def test_check_question_joins_surrogate_pairs_and_replaces_lone_ones():
    assert check_question("  \ud83d\ude00 Idlib \udcfe ") == "\U0001f600 Idlib \ufffd"
    with pytest.raises(QuestionError, match="empty"):
        check_question(None)


@pytest.mark.parametrize("k", [0, -1, 101])
def test_bad_k_raises(qa_assistant, k):
    with pytest.raises(QuestionError, match="k must be"):
        qa_assistant.search("Idlib", k=k)


def test_answer_json_round_trips(qa_assistant):
    answer = qa_assistant.ask("Who is the UN spokesman?")
    again = Answer.model_validate_json(answer.model_dump_json())
    assert again == answer
    assert "Dujarric" in answer.citations[0].quote


def test_follow_up_question_finds_stoltenbergs_call_to_de_escalate(qa_assistant):
    chat = qa_assistant.chat()
    assert isinstance(chat, Conversation)
    first = chat.ask("Who is the NATO secretary general?")
    assert first.found and any("Stoltenberg" in c.quote for c in first.citations)
    second = chat.ask("What did he urge?")
    assert second.found
    quote = next(c.quote for c in second.citations if c.role == "answer")
    assert "urge" in quote and ("de-escalate" in quote or "deescalated" in quote)
    assert chat.history == [first, second]
    chat.reset()
    assert chat.history == []


def test_follow_up_context_rewrites_the_pronoun():
    first = Answer(question="Who is the NATO secretary general?", found=True, confidence=0.9,
                   answer="", citations=[{
                       "n": 1, "article_id": "a", "title": "t", "passage_id": "a-0",
                       "start": 0, "end": 10, "score": 1.0,
                       "quote": "NATO Secretary General Jens Stoltenberg told a press "
                                "conference in Brussels."}])
    rewritten, context, who = context_for("What did he urge?", [first])
    assert rewritten == "What did Jens Stoltenberg urge?"
    assert "NATO secretary general" in context and who == "Jens Stoltenberg"
    assert context_for("How many Turkish soldiers were killed in Idlib?", [first]) == (
        "How many Turkish soldiers were killed in Idlib?", "", "")
    assert names("The NATO allies met in Brussels.") == ["NATO", "Brussels"]


def test_assistant_open_with_an_explicit_index(qa_index):
    with Assistant.open(qa_index) as a:
        assert a.info().articles == 5
        assert a.search("Saraqeb", k=1)[0].text.count("Saraqeb") >= 1
