"""The sources panel: the citations (or ranked passages) of the selected answer."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.refs import SourceRef
from tui.source_card import SourceCard
from tui.text import line

EMPTY = ("The sources of the selected answer show here. Click one to read it (or press Tab, "
         "then its number).")


class SourcesPanel(VerticalScroll, can_focus=False):
    """Shows one card per source; ``refs`` are what number keys open."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.refs: list[SourceRef] = []
        self.border_title = "Sources"

    def on_mount(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.show("Sources", [], EMPTY)

    def show(self, title: str, refs: list[SourceRef], empty: str = "No sources.") -> None:
        self.refs = list(refs)
        self.border_title = title
        self.remove_children()
        if refs:
            self.mount_all(SourceCard(r) for r in refs)
        else:
            self.mount(Static(line((empty, "italic $text-muted")), classes="empty"))
        self.scroll_home(animate=False)
