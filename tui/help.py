"""What the chat offers: commands and keys. ``/help`` shows it in the conversation, F1 in a
window of its own."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.text import line

COMMANDS = [
    ("QUESTION", "ask; follow-ups build on the answers before"),
    ("/search QUERY", "the passages that best match QUERY, ranked"),
    ("/new", "start a new conversation"),
    ("/help", "this help"),
]
KEYS = [
    ("up / down", "recall earlier questions"),
    ("tab", "from the question box to the latest answer"),
    ("n enter", "in the question box: open source [n] of the selected answer"),
    ("1-9", "on an answer (tab to it) or in an article: open that source"),
    ("click, enter", "select an answer, or open a source"),
    ("escape", "back to the chat or the question box"),
    ("ctrl+n", "new conversation"),
    ("ctrl+y", "copy the selected answer and its sources"),
    ("ctrl+s", "export the conversation to Markdown"),
    ("ctrl+b", "show or hide the sources panel"),
    ("ctrl+p", "command palette: themes and more"),
    ("f1", "this help"),
    ("ctrl+q", "quit"),
]


def help_text() -> str:
    """Commands and keys as plain text, aligned in two columns."""
    width = max(len(k) for k, _ in COMMANDS + KEYS) + 2
    rows = ["Type a question and press Enter. Commands:"]
    rows += [f"  {k.ljust(width)}{v}" for k, v in COMMANDS]
    rows += ["", "Keys:"]
    rows += [f"  {k.ljust(width)}{v}" for k, v in KEYS]
    return "\n".join(rows)


class HelpScreen(ModalScreen[None]):
    """The help text over the chat; Escape or F1 closes it."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Help"
            box.border_subtitle = "escape to close"
            yield Static(line(help_text()))

    def on_click(self) -> None:
        self.dismiss()
