"""One source: its number, title, outlet and date, and (in full) the quoted sentence. Click it
or press Enter on it to open the article."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from qa import snippet
from tui.refs import SourceRef
from tui.text import line

ROLE_LABELS = {"corroborating": "corroborates", "conflicting": "disagrees"}


class SourceCard(Static, can_focus=True):
    """A citation or ranked passage; ``compact`` shows a single line."""

    BINDINGS = [Binding("enter", "choose", "Open this source")]

    class Chosen(Message):
        """The user chose a source to read."""

        def __init__(self, ref: SourceRef) -> None:
            super().__init__()
            self.ref = ref

    def __init__(self, ref: SourceRef, *, compact: bool = False, quote_limit: int = 320) -> None:
        super().__init__(classes=f"-{ref.role}" + (" -compact" if compact else ""))
        self.ref = ref
        self.compact = compact
        self.quote_limit = quote_limit
        self.tooltip = ref.location

    def on_mount(self) -> None:
        self.update(self.compact_line() if self.compact else self.full())

    def label(self) -> list[tuple[str, str] | str]:
        parts: list[tuple[str, str] | str] = [(f"[{self.ref.n}]", "bold $text-accent"), " "]
        role = ROLE_LABELS.get(self.ref.role)
        if role:
            style = "bold $text-error" if self.ref.role == "conflicting" else "bold $text-success"
            parts += [(role, style), " "]
        return parts

    def compact_line(self):
        meta = self.ref.meta
        copies = f" (+{len(self.ref.copies)})" if self.ref.copies else ""
        return line(*self.label(), (self.ref.title, "bold"),
                    *([(f" — {meta}{copies}", "$text-muted")] if meta or copies else []))

    def full(self):
        meta = self.ref.meta or "outlet and date unknown"
        quote = snippet(self.ref.text, self.quote_limit)
        extra: list[tuple[str, str] | str] = []
        if self.ref.voice:
            extra += ["\n", (self.ref.voice, "$text-warning" if self.ref.hedged else "$text")]
        if self.ref.copies:
            extra += ["\n", (self.ref.copies_line, "$text-muted")]
        return line(*self.label(), (self.ref.title, "bold"), "\n", (meta, "$text-muted"), "\n",
                    (f"“{quote}”", "italic"), *extra)

    def on_click(self) -> None:
        self.action_choose()

    def action_choose(self) -> None:
        self.post_message(self.Chosen(self.ref))
