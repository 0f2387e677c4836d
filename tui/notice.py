"""A line from the app itself in the conversation: a greeting, help, progress or an error."""

from __future__ import annotations

from textual.widgets import Static

from tui.text import line

KINDS = ("info", "pending", "error")


class Notice(Static):
    """``kind`` is one of ``info``, ``pending`` (a reply on its way) or ``error``."""

    def __init__(self, text: str, kind: str = "info", *, title: str | None = None) -> None:
        assert kind in KINDS, kind
        super().__init__(classes=f"-{kind}")
        self.kind = kind
        self.text = text
        if title:
            self.border_title = title
        self.set_text(text)

    def set_text(self, text: str) -> None:
        self.text = text
        self.update(line(text))
