"""A question the user asked (or a command they ran), as shown in the conversation."""

from __future__ import annotations

from textual.widgets import Static

from tui.text import line


class QuestionMessage(Static):
    """The user's words, as typed."""

    def __init__(self, text: str) -> None:
        super().__init__(line(text))
        self.text = text
        self.border_title = "You"
