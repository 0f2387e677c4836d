"""The chat's layout and flow, with a fake assistant of fixed records (tests/tui_fakes.py).
What real answers look like in the chat is tested in test_tui_real.py."""

from __future__ import annotations

import threading

import pytest
from tui_fakes import (
    CITATIONS,
    LONG,
    MARKUP,
    RELATED,
    FakeAssistant,
    ask,
    notes_of,
    screen_text,
    settle,
    type_text,
)

from qa import QAError
from tui.answer import AnswerMessage
from tui.app import DEFAULT_THEME, create_app
from tui.article import ArticleScreen, Paragraph
from tui.help import HelpScreen
from tui.notice import Notice
from tui.prompt import PromptInput
from tui.question import QuestionMessage
from tui.refs import SourceRef
from tui.results import SearchResults
from tui.source_card import SourceCard
from tui.text import MARKER_STYLE

WIDE = (100, 30)


def plain(widget) -> str:
    return widget.content.plain if hasattr(widget.content, "plain") else str(widget.content)


def card_texts(container) -> list[str]:
    return [plain(c) for c in container.query(SourceCard)]


async def test_header_shows_the_corpus_at_a_glance():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await settle(app, pilot)
        corpus = plain(app.query_one("#corpus"))
        for part in ("3 articles", "42 passages", "3 outlets", "2024-03-05 – 2024-03-07",
                     "all-MiniLM-L6-v2"):
            assert part in corpus
        assert app.header.state == "ready"
        assert "Daily [Courier]" in app.query_one("#corpus").tooltip


async def test_paints_and_takes_typing_before_the_model_has_loaded():
    gate = threading.Event()
    fake = FakeAssistant(gate)
    app = create_app(fake)
    try:
        async with app.run_test(size=WIDE) as pilot:
            await pilot.pause()
            assert app.header.state == "loading" and app.assistant is None
            assert "loading the model" in screen_text(app)
            await type_text(pilot, "what does it cost?")
            assert app.query_one(PromptInput).value == "what does it cost?"
            await pilot.press("enter")
            await pilot.pause()
            assert [q.text for q in app.query(QuestionMessage)] == ["what does it cost?"]
            pending = app.query(Notice).filter(".-pending")
            assert len(pending) == 1 and "Waiting for the model" in pending.first().text
            assert not app.query(AnswerMessage) and fake.asked == []
            gate.set()
            await settle(app, pilot)
            assert fake.asked == [("what does it cost?", 0)]
            assert len(app.query(AnswerMessage)) == 1
            assert not app.query(Notice).filter(".-pending")
            assert app.header.state == "ready"
    finally:
        gate.set()


async def test_answer_shows_markers_and_its_sources_in_the_panel():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what does it cost?")
        answer = app.query_one(AnswerMessage)
        assert answer.has_class("-found", "-selected") and answer.border_title == "Answer"
        text = answer.query_one(".answer-text").content
        marked = [text.plain[s.start:s.end] for s in text.spans if s.style == MARKER_STYLE]
        assert marked == ["[1]", "[2]"]
        assert "\"[bold]approved[/]\"" in text.plain  # data, not markup
        panel = app.sources
        assert panel.border_title == "Sources" and [r.n for r in panel.refs] == [1, 2, 3]
        cards = list(panel.query(SourceCard))
        assert [c.ref.title for c in cards] == [c.title for c in CITATIONS]
        assert "Coastal Times · 2024-03-06" in plain(cards[0])
        assert CITATIONS[0].quote in plain(cards[0])
        assert cards[1].has_class("-corroborating") and "corroborates" in plain(cards[1])
        assert cards[2].has_class("-conflicting") and "disagrees" in plain(cards[2])


async def test_refusal_looks_different_and_lists_the_closest_passages():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what is the weather")
        answer = app.query_one(AnswerMessage)
        assert answer.has_class("-refused") and not answer.has_class("-found")
        assert answer.border_title == "Not in the articles"
        assert [c.ref.title for c in answer.query(SourceCard)] == [h.title for h in RELATED]
        assert answer.query_one(".related").display
        assert app.sources.border_title == "Closest passages"
        assert [r.text for r in app.sources.refs] == [h.text for h in RELATED]


async def test_number_key_opens_the_article_with_the_quote_highlighted_in_view():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what does it cost?")
        await pilot.press("tab")
        assert app.focused is app.query_one(AnswerMessage)
        await pilot.press("1")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ArticleScreen) and screen.article.id == LONG.id
        assert screen.highlighted_text() == CITATIONS[0].quote
        (para,) = screen.highlighted()
        assert LONG.text[para.highlight[0]:para.highlight[1]] == CITATIONS[0].quote
        body = screen.query_one("#article-body")
        assert body.scroll_y > 0  # the quote is far down the article
        assert body.content_region.contains_region(para.region)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ArticleScreen)


async def test_typing_after_reading_a_source_goes_to_the_question_box():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what does it cost?")
        await pilot.press("tab", "1")
        await settle(app, pilot)
        assert isinstance(app.screen, ArticleScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.query_one(AnswerMessage)
        await type_text(pilot, "why so")
        prompt = app.query_one(PromptInput)
        assert app.focused is prompt and prompt.value == "why so"


async def test_digits_typed_in_the_question_box_stay_text():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what does it cost?")
        await type_text(pilot, "2019")
        assert app.query_one(PromptInput).value == "2019"
        assert not isinstance(app.screen, ArticleScreen)


async def test_clicking_a_source_opens_it_and_markup_shows_as_written():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what does it cost?")
        card = next(c for c in app.sources.query(SourceCard) if c.ref.n == 2)
        assert "[bold]budget[/] after [red]late[/]" in plain(card)
        await pilot.click(card)
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ArticleScreen) and screen.article.id == MARKUP.id
        assert screen.highlighted_text() == CITATIONS[1].quote
        assert plain(screen.query_one("#article-title")) == MARKUP.title
        texts = [plain(p) for p in screen.query(Paragraph)]
        assert texts == MARKUP.text.split("\n\n")
        shot = screen_text(app)
        assert "[bold]budget[/]" in shot and "[link=http://x]process[/link]" in shot


async def test_up_and_down_recall_earlier_questions():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "first")
        await ask(app, pilot, "second")
        prompt = app.query_one(PromptInput)
        await type_text(pilot, "draft")
        await pilot.press("up")
        assert prompt.value == "second"
        await pilot.press("up", "up")
        assert prompt.value == "first"
        await pilot.press("down")
        assert prompt.value == "second"
        await pilot.press("down")
        assert prompt.value == "draft"


async def test_follow_ups_use_the_conversation_and_new_starts_afresh():
    fake = FakeAssistant()
    app = create_app(fake)
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "who is the chair")
        await ask(app, pilot, "what did she write")
        assert fake.asked == [("who is the chair", 0), ("what did she write", 1)]
        assert len(app.query(AnswerMessage)) == 2 and len(app.turns) == 2
        assert app.selected is app.query(AnswerMessage).last()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not app.query(AnswerMessage) and app.turns == [] and not app.sources.refs
        await ask(app, pilot, "what did she write")
        assert fake.asked[-1] == ("what did she write", 0)


async def test_search_command_shows_ranked_passages():
    fake = FakeAssistant()
    app = create_app(fake)
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "/search harbour cost")
        results = app.query_one(SearchResults)
        assert results.search_query == "harbour cost" and fake.asked == []
        assert [r.score for r in results.refs] == [0.71, 0.64, 0.52]
        assert app.sources.border_title == "Passages"
        assert app.query_one(QuestionMessage).text == "/search harbour cost"
        await pilot.press("tab", "2")
        await settle(app, pilot)
        assert app.screen.highlighted_text() == MARKUP.text.split("\n\n")[1]


async def test_help_command_and_key():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "/help")
        helps = [n for n in app.query(Notice) if n.border_title == "Help"]
        assert len(helps) == 1 and "/search QUERY" in helps[0].text
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("typed, says", [("/frobnicate", "no command /frobnicate"),
                                         ("/search", "/search QUERY")])
async def test_bad_commands_say_what_to_do(typed, says):
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, typed)
        errors = app.query(Notice).filter(".-error")
        assert len(errors) == 1 and says in errors.first().text


async def test_an_error_while_answering_is_shown_and_the_app_stays_up():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        notes = notes_of(app)
        await ask(app, pilot, "explode please")
        error = app.query(Notice).filter(".-error").first()
        assert error.text == "RuntimeError: the fake assistant exploded [on purpose]"
        assert notes and notes[0][1]["severity"] == "error"
        assert app.is_running
        await ask(app, pilot, "what does it cost?")
        assert len(app.query(AnswerMessage)) == 1


async def test_an_assistant_that_cannot_open_is_reported():
    def broken():
        raise QAError("no index at /nowhere: build one with `qa index PATH`")

    app = create_app(broken)
    notes = notes_of(app)
    async with app.run_test(size=WIDE) as pilot:
        await settle(app, pilot)
        assert app.header.state == "error"
        assert "no index at /nowhere" in app.query(Notice).filter(".-error").first().text
        await ask(app, pilot, "anyone there?")
        assert "Cannot answer: no index" in app.query(Notice).filter(".-error").last().text
        assert notes[0] == ("no index at /nowhere: build one with `qa index PATH`",
                            {"title": "Could not open the articles", "severity": "error",
                             "markup": False})
        assert app.is_running


async def test_copy_puts_the_answer_and_its_sources_on_the_clipboard():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what does it cost?")
        await pilot.press("ctrl+y")
        text = app.clipboard
        assert text.startswith("## Q: what does it cost?")
        assert "[1] **Harbour expansion approved** — Coastal Times · 2024-03-06" in text
        assert f"> {CITATIONS[0].quote}" in text
        assert "[2] (corroborating)" in text and "[3] (disagrees)" in text


async def test_export_writes_markdown_with_sources_and_says_where(tmp_path):
    app = create_app(FakeAssistant(), export_dir=tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        notes = notes_of(app)
        await pilot.press("ctrl+s")
        assert not list(tmp_path.iterdir()) and "Nothing to export" in notes[-1][0]
        await ask(app, pilot, "what does it cost?")
        await ask(app, pilot, "/search harbour")
        await pilot.press("ctrl+s")
        (path,) = tmp_path.iterdir()
        assert path == app.last_export and str(path) in notes[-1][0]
        text = path.read_text()
        assert "## Q: what does it cost?" in text and "## Search: harbour" in text
        assert f"> {CITATIONS[2].quote}" in text and "/news/wire-03.txt" in text


async def test_sources_panel_toggles_and_answers_list_sources_when_it_is_hidden():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what does it cost?")
        inline = app.query_one(AnswerMessage).query_one(".inline-sources")
        assert app.sources.display and not inline.display
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not app.sources.display and inline.display
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert app.sources.display and not inline.display


async def test_small_terminal_keeps_everything_on_screen():
    app = create_app(FakeAssistant())
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(app, pilot, "what does it cost?")
        assert not app.sources.display  # narrow: sources inline in the answer
        answer = app.query_one(AnswerMessage)
        assert answer.query_one(".inline-sources").display
        assert answer.region.right <= 80 and answer.region.bottom <= 20
        assert app.query_one(PromptInput).region.y == 20
        for card in answer.query(SourceCard):
            assert card.region.right <= 80 and card.size.height >= 1
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert app.sources.display and app.sources.region.right <= 80


async def test_default_theme_and_the_theme_picker():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await settle(app, pilot)
        assert app.theme == DEFAULT_THEME
        await pilot.press("ctrl+p")
        await type_text(pilot, "theme")
        await pilot.press("enter")
        await pilot.pause(0.2)
        await type_text(pilot, "nord")
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.theme == "nord"


async def test_questions_asked_while_answering_wait_their_turn():
    answering = threading.Event()
    fake = FakeAssistant(answer_gate=answering)
    app = create_app(fake)
    try:
        async with app.run_test(size=WIDE) as pilot:
            await settle(app, pilot)
            for q in ("first question", "second question"):
                app.query_one(PromptInput).value = q
                await pilot.press("enter")
            await pilot.pause()
            pending = [n.text for n in app.query(Notice).filter(".-pending")]
            assert pending == ["Reading the articles…", "Queued…"]
            assert app.header.state == "busy"
            answering.set()
            await settle(app, pilot)
            assert fake.asked == [("first question", 0), ("second question", 1)]
            assert [m.answer.question for m in app.query(AnswerMessage)] == [
                "first question", "second question"]
    finally:
        answering.set()


async def test_a_new_conversation_drops_the_reply_still_on_its_way():
    answering = threading.Event()
    fake = FakeAssistant(answer_gate=answering)
    app = create_app(fake)
    try:
        async with app.run_test(size=WIDE) as pilot:
            await settle(app, pilot)
            app.query_one(PromptInput).value = "slow question"
            await pilot.press("enter")
            await pilot.pause()
            await pilot.press("ctrl+n")
            answering.set()
            await settle(app, pilot)
            assert not app.query(AnswerMessage) and not app.query(QuestionMessage)
            assert app.conversation is fake.conversations[-1] and not app.conversation.history
            await ask(app, pilot, "next question")
            assert fake.asked[-1] == ("next question", 0)
    finally:
        answering.set()


async def test_the_view_follows_new_messages():
    app = create_app(FakeAssistant())
    async with app.run_test(size=(80, 24)) as pilot:
        for q in ("one", "two", "three"):
            await ask(app, pilot, q)
        view = app.chat_view
        assert view.max_scroll_y > 0 and view.scroll_y == view.max_scroll_y
        last = app.query(AnswerMessage).last()
        assert last.region.bottom <= view.region.bottom


async def test_a_source_whose_article_is_gone_is_reported():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        notes = notes_of(app)
        await ask(app, pilot, "what does it cost?")
        gone = SourceRef.from_citation(CITATIONS[0].model_copy(update={"article_id": "gone"}))
        app.open_source(gone)
        await settle(app, pilot)
        assert not isinstance(app.screen, ArticleScreen)
        assert "no article with id 'gone'" in notes[-1][0]
        assert notes[-1][1]["severity"] == "error"
