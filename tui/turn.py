"""A reply in the conversation that has sources: selecting it fills the sources panel."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message

from tui.refs import SourceRef
from tui.transcript import Turn


class TurnMessage(Vertical, can_focus=True):
    """Base of answers and search results. ``refs`` are its sources, in number order."""

    BINDINGS = [
        Binding("1", "app.open_source(1)", "Open", key_display="1-9"),
        *[Binding(str(n), f"app.open_source({n})", show=False) for n in range(2, 10)],
    ]
    panel_title = "Sources"
    empty_note = "No sources."
    turn: Turn | None = None   # the exchange it shows, for copy and export

    class Selected(Message):
        """The user picked this reply (click or focus)."""

        def __init__(self, turn: TurnMessage) -> None:
            super().__init__()
            self.turn = turn

    def __init__(self, refs: list[SourceRef], **kwargs) -> None:
        super().__init__(**kwargs)
        self.refs = refs

    def ref(self, n: int) -> SourceRef | None:
        return next((r for r in self.refs if r.n == n), None)

    def on_click(self) -> None:
        self.post_message(self.Selected(self))

    def on_focus(self) -> None:
        self.post_message(self.Selected(self))
