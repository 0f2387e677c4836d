"""Snapshots of the chat (pytest-textual-snapshot; SVGs in __snapshots__/, looked at by eye).

They use the fake assistant's fixed records: the real model's answers could change with any
retrieval tweak, and a snapshot must depend on the layout only. Regenerate after a deliberate
change with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import threading

from tui_fakes import FakeAssistant, ask, settle, type_text

from tui.app import create_app
from tui.prompt import PromptInput


async def steady(pilot) -> None:
    """No blinking cursor in a snapshot."""
    pilot.app.query_one(PromptInput).cursor_blink = False


def test_main_screen_after_an_answer(snap_compare):
    async def run_before(pilot):
        await steady(pilot)
        await ask(pilot.app, pilot, "What will the harbour expansion cost?")

    assert snap_compare(create_app(FakeAssistant()), terminal_size=(100, 30),
                        run_before=run_before)


def test_short_answer_who_says_so_and_copies(snap_compare):
    """The short answer in bold first, the reading and as-of line, and source cards with the
    speaker, a hedge and "+2 copies"."""
    async def run_before(pilot):
        await steady(pilot)
        await ask(pilot.app, pilot, "How much will the harbour expansion cost now?")

    assert snap_compare(create_app(FakeAssistant()), terminal_size=(110, 34),
                        run_before=run_before)


def test_small_screen_with_a_refusal(snap_compare):
    async def run_before(pilot):
        await steady(pilot)
        await ask(pilot.app, pilot, "What will the harbour expansion cost?")
        await ask(pilot.app, pilot, "Will the weather hold?")

    assert snap_compare(create_app(FakeAssistant()), terminal_size=(80, 24),
                        run_before=run_before)


def test_article_viewer_scrolled_to_the_quote(snap_compare):
    async def run_before(pilot):
        await steady(pilot)
        await ask(pilot.app, pilot, "What will the harbour expansion cost?")
        await pilot.press("tab", "1")
        await settle(pilot.app, pilot)

    assert snap_compare(create_app(FakeAssistant()), terminal_size=(100, 30),
                        run_before=run_before)


def test_article_viewer_shows_markup_as_written(snap_compare):
    async def run_before(pilot):
        await steady(pilot)
        await ask(pilot.app, pilot, "What will the harbour expansion cost?")
        await pilot.press("tab", "2")
        await settle(pilot.app, pilot)

    assert snap_compare(create_app(FakeAssistant()), terminal_size=(80, 24),
                        run_before=run_before)


def test_loading_state_with_a_question_waiting(snap_compare):
    gate = threading.Event()
    app = create_app(FakeAssistant(gate))

    def open_gate_once_shot():
        # The app exits with the screenshot as its return value; only then may the model
        # "load" (the app waits for its worker thread on the way out).
        while app.return_value is None and not gate.wait(0.02):
            pass
        gate.set()

    async def run_before(pilot):
        await steady(pilot)
        await type_text(pilot, "who voted?")
        await pilot.press("enter")
        await type_text(pilot, "and then")
        threading.Thread(target=open_gate_once_shot, daemon=True).start()

    try:
        assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
    finally:
        gate.set()
