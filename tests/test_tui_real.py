"""The chat against the real sample index and the real model (fixtures in conftest.py)."""

from __future__ import annotations

import pytest
from tui_fakes import ask, notes_of, settle

from tui.answer import AnswerMessage
from tui.app import create_app
from tui.article import ArticleScreen
from tui.notice import Notice
from tui.results import SearchResults

pytestmark = pytest.mark.slow
SIZE = (100, 30)


def check_highlight(screen: ArticleScreen, text: str) -> None:
    """The article viewer highlights exactly ``text``, at its offsets, within the view."""
    assert screen.highlighted_text() == text
    paras = screen.highlighted()
    assert screen.article.text[paras[0].highlight[0]:paras[-1].highlight[1]] == text
    assert screen.query_one("#article-body").content_region.contains_region(paras[0].region)


async def test_opens_the_index_in_a_worker_and_answers_with_a_citation(qa_index):
    app = create_app(index=qa_index)   # the CLI's path: Assistant.open in a worker
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        corpus = app.query_one("#corpus")
        assert "5 articles" in corpus.content.plain and "all-MiniLM-L6-v2" in corpus.content.plain
        assert "TASS" in corpus.tooltip
        await ask(app, pilot, "Who is the UN spokesman?")
        answer = app.query_one(AnswerMessage)
        assert answer.answer.found and answer.has_class("-found")
        assert "[1]" in answer.query_one(".answer-text").content.plain
        first = answer.answer.citations[0]
        assert "Dujarric" in first.quote
        assert [r.text for r in app.sources.refs] == [c.quote for c in answer.answer.citations]
    app.close_assistant()


async def test_a_citation_opens_its_article_with_the_quote_highlighted(qa_assistant):
    app = create_app(qa_assistant)
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, "How many Turkish soldiers were killed in Idlib?")
        answer = app.query_one(AnswerMessage).answer
        assert answer.found and "33" in answer.answer
        await pilot.press("tab", "1")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ArticleScreen)
        assert screen.article.id == answer.citations[0].article_id
        check_highlight(screen, answer.citations[0].quote)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ArticleScreen)


async def test_a_follow_up_builds_on_the_conversation(qa_assistant):
    app = create_app(qa_assistant)
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, "Who is the NATO secretary general?")
        await ask(app, pilot, "What did he urge?")
        first, second = (m.answer for m in app.query(AnswerMessage))
        assert any("Stoltenberg" in c.quote for c in first.citations)
        assert second.found
        quote = next(c.quote for c in second.citations if c.role == "answer")
        assert "urge" in quote
        assert app.conversation.history == [first, second]


async def test_an_out_of_corpus_question_is_refused_with_closest_passages(qa_assistant):
    app = create_app(qa_assistant)
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, "What is the capital of Australia?")
        message = app.query_one(AnswerMessage)
        assert not message.answer.found and message.has_class("-refused")
        assert message.border_title == "Not in the articles"
        assert "do not cover" in message.query_one(".answer-text").content.plain
        assert app.sources.border_title == "Closest passages" and app.sources.refs
        await pilot.press("tab", "1")
        await settle(app, pilot)
        check_highlight(app.screen, message.answer.related[0].text)


async def test_search_command_shows_ranked_passages(qa_assistant):
    app = create_app(qa_assistant)
    async with app.run_test(size=SIZE) as pilot:
        await ask(app, pilot, "/search Zakharova")
        results = app.query_one(SearchResults)
        assert results.hits and "Zakharova" in results.hits[0].text
        scores = [h.score for h in results.hits]
        assert scores == sorted(scores, reverse=True)
        assert not app.query(AnswerMessage)
        await pilot.press("tab", "1")
        await settle(app, pilot)
        check_highlight(app.screen, results.hits[0].text)


async def test_errors_are_shown_and_the_app_stays_up(qa_assistant, tmp_path):
    app = create_app(qa_assistant)
    async with app.run_test(size=SIZE) as pilot:
        notes = notes_of(app)
        await ask(app, pilot, "why " * 300)   # too long: the assistant refuses to take it
        error = app.query(Notice).filter(".-error").last()
        assert "characters long" in error.text and notes[-1][1]["severity"] == "error"
        await ask(app, pilot, "Who is the UN spokesman?")
        assert app.query_one(AnswerMessage).answer.found

    broken = tmp_path / "broken-index"
    broken.mkdir()
    (broken / "store.sqlite").write_text("not a database")
    app = create_app(index=broken)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.header.state == "error" and app.assistant is None
        error = app.query(Notice).filter(".-error").first()
        assert str(broken) in error.text or "index" in error.text
        await ask(app, pilot, "Who is the UN spokesman?")
        assert "Cannot answer" in app.query(Notice).filter(".-error").last().text
        assert app.is_running
