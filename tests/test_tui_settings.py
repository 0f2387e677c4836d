"""The chat keeps its theme between runs in settings.json in the user config folder; a broken
file is ignored with a one-line notice, never a crash. Every test uses a temporary folder."""

from __future__ import annotations

import json

from tui_fakes import FakeAssistant, notes_of, settle, type_text

from tui.app import DEFAULT_THEME, create_app
from tui.settings import default_path, load, save

WIDE = (100, 30)


async def run_app(path, *, theme=None, change_to=None, palette=False):
    """Start the chat with settings at ``path``; optionally pick another theme. Returns the
    theme it started with and its notices."""
    app = create_app(FakeAssistant(), settings_path=path, theme=theme)
    notes = notes_of(app)
    async with app.run_test(size=WIDE) as pilot:
        await settle(app, pilot)
        started = app.theme
        if palette:  # as a user does: ctrl+p, "theme", then the theme's name
            await pilot.press("ctrl+p")
            await type_text(pilot, "theme")
            await pilot.press("enter")
            await pilot.pause(0.2)
            await type_text(pilot, change_to)
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert app.theme == change_to
        elif change_to:
            app.theme = change_to
        await pilot.pause()
    return started, [message for message, _ in notes]


async def test_a_theme_chosen_in_the_palette_is_there_next_time(tmp_path):
    path = tmp_path / "newsqa" / "settings.json"
    started, notes = await run_app(path, change_to="nord", palette=True)
    assert started == DEFAULT_THEME and notes == []
    assert json.loads(path.read_text()) == {"theme": "nord"}
    started, notes = await run_app(path)
    assert started == "nord" and notes == []
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temporary left


async def test_nothing_is_written_until_the_theme_changes(tmp_path):
    path = tmp_path / "settings.json"
    started, _ = await run_app(path)
    assert started == DEFAULT_THEME and not path.exists()


async def test_the_theme_flag_is_for_this_run_only(tmp_path):
    path = tmp_path / "settings.json"
    save(load(path), theme="nord")
    started, _ = await run_app(path, theme="gruvbox")
    assert started == "gruvbox"
    assert json.loads(path.read_text()) == {"theme": "nord"}


async def test_other_keys_in_the_file_are_kept(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"theme": "nord", "later": [1, 2]}))
    await run_app(path, change_to="dracula")
    assert json.loads(path.read_text()) == {"theme": "dracula", "later": [1, 2]}


async def test_a_broken_file_is_ignored_with_one_notice_and_rewritten(tmp_path):
    path = tmp_path / "settings.json"
    for broken in (b"{not json", b"\xff\xfe\x00garbage", b"[1, 2]", b'{"theme": "no-such"}'):
        path.write_bytes(broken)
        started, notes = await run_app(path)
        assert started == DEFAULT_THEME
        assert len(notes) == 1 and str(path) in notes[0], (broken, notes)
        assert "\n" not in notes[0] and notes[0].startswith("Settings ignored: ")
    await run_app(path, change_to="nord")
    assert json.loads(path.read_text()) == {"theme": "nord"}
    assert await run_app(path) == ("nord", [])


async def test_a_settings_folder_that_cannot_be_written_is_a_notice(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    path = blocker / "settings.json"
    started, notes = await run_app(path, change_to="nord")
    assert started == DEFAULT_THEME
    assert len(notes) == 2 and notes[0].startswith("Settings ignored: ")  # unreadable too
    assert notes[1].startswith("The theme is not kept: could not save")
    assert all(str(path) in n and "\n" not in n for n in notes)


def test_a_huge_file_is_not_read(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"theme": "nord", "pad": "' + "x" * 100_000 + '"}')
    settings = load(path)
    assert settings.theme is None and "over" in settings.problem


def test_the_file_lives_in_the_user_config_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_path() == tmp_path / "newsqa" / "settings.json"


def test_qa_chat_keeps_its_settings_there(tmp_path, monkeypatch):
    from tui.app import ChatApp
    from tui.cli import run

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    started = []
    monkeypatch.setattr(ChatApp, "run", lambda self: started.append(self))
    args = type("Args", (), {"index": str(tmp_path / "none"), "model": None, "theme": None,
                             "export_dir": None})()
    assert run(args) == 0
    (app,) = started
    assert app.settings.path == tmp_path / "newsqa" / "settings.json"
