"""The question box: Enter asks (a lone source number opens that source), up and down recall
earlier questions, tab goes to the selected answer, where the digits open its sources."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import Input


class PromptInput(Input):
    """An ``Input`` with a history of what was submitted."""

    BINDINGS = [
        Binding("up", "history(-1)", "Earlier question", show=False),
        Binding("down", "history(1)", "Later question", show=False),
        Binding("tab", "app.focus_answer", "To the answer", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        # coming back to the box must not select its text: the next key would wipe it
        kwargs.setdefault("select_on_focus", False)
        super().__init__(**kwargs)
        self.history: list[str] = []
        self._pos: int | None = None   # index into history while recalling, else None
        self._draft = ""

    def remember(self, text: str) -> None:
        """Add ``text`` to the history (not twice in a row) and stop recalling."""
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._pos = None
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._pos is None:
            if step > 0:
                return
            self._draft = self.value
            pos = len(self.history) - 1
        else:
            pos = self._pos + step
        if pos < 0:
            pos = 0
        if pos >= len(self.history):
            self._pos = None
            self._set(self._draft)
            return
        self._pos = pos
        self._set(self.history[pos])

    def _set(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)
