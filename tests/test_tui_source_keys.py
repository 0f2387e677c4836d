"""How the number keys open sources. Digits typed in the question box are text (a question may
start with "2019"); a lone number and Enter opens that source of the selected answer; tab goes
to the answer, where a digit alone opens it (the footer says so there). The question box's
placeholder says how, once there are sources to open."""

from __future__ import annotations

from tui_fakes import (
    CITATIONS,
    MARKUP,
    OTHER,
    FakeAssistant,
    ask,
    notes_of,
    screen_text,
    settle,
    type_text,
)

from tui.answer import AnswerMessage
from tui.app import ASK, FOLLOW_UP, create_app
from tui.article import ArticleScreen
from tui.prompt import PromptInput

WIDE = (100, 30)


def footer_keys(app) -> dict[str, str]:
    """What the footer offers: key shown -> description."""
    return {b.binding.key_display or b.binding.key: b.binding.description
            for b in app.screen.active_bindings.values() if b.binding.show}


async def test_a_number_and_enter_in_the_question_box_opens_that_source():
    fake = FakeAssistant()
    app = create_app(fake)
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what does it cost?")
        prompt = app.query_one(PromptInput)
        assert app.focused is prompt
        await pilot.press("2", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ArticleScreen) and screen.article.id == MARKUP.id
        assert screen.highlighted_text() == CITATIONS[1].quote
        assert prompt.value == "" and prompt.history == ["what does it cost?"]
        assert [q for q, _ in fake.asked] == ["what does it cost?"]  # not asked as a question
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("3", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ArticleScreen) and app.screen.article.id == OTHER.id


async def test_a_number_with_no_such_source_says_so_and_is_not_asked():
    fake = FakeAssistant()
    app = create_app(fake)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("7", "enter")  # before any answer
        await settle(app, pilot)
        await ask(app, pilot, "what does it cost?")
        notes = notes_of(app)
        await pilot.press("7", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, ArticleScreen)
        assert notes == [("The selected answer has no source [7].", {"severity": "warning"})]
        assert [q for q, _ in fake.asked] == ["what does it cost?"]


async def test_numbers_within_a_question_are_asked():
    fake = FakeAssistant()
    app = create_app(fake)
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what does it cost?")
        await type_text(pilot, "2 ferries")
        await pilot.press("enter")
        await settle(app, pilot)
        assert fake.asked[-1][0] == "2 ferries"
        assert not isinstance(app.screen, ArticleScreen)


async def test_tab_then_a_digit_opens_a_source():
    app = create_app(FakeAssistant())
    async with app.run_test(size=WIDE) as pilot:
        await ask(app, pilot, "what does it cost?")
        await pilot.press("tab")
        assert app.focused is app.query_one(AnswerMessage)
        assert footer_keys(app).get("1-9") == "Open"
        await pilot.press("3")
        await settle(app, pilot)
        assert isinstance(app.screen, ArticleScreen) and app.screen.article.id == OTHER.id


async def test_the_placeholder_offers_the_sources_once_there_are_some():
    app = create_app(FakeAssistant())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        prompt = app.query_one(PromptInput)
        assert prompt.placeholder == ASK
        await ask(app, pilot, "what does it cost?")
        assert prompt.placeholder == FOLLOW_UP
        assert "source number" in FOLLOW_UP and "Enter" in FOLLOW_UP
        assert FOLLOW_UP[1:] in screen_text(app)  # whole at 80 columns (the cursor is on "A")
        assert "f1" in footer_keys(app)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert prompt.placeholder == ASK


def test_help_lists_both_ways_of_opening_a_source():
    from tui.help import help_text

    text = help_text()
    assert "n enter" in text and "in the question box: open source [n]" in text
    assert "on an answer (tab to it)" in text
