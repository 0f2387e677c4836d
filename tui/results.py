"""The reply to ``/search QUERY``: ranked passages instead of an answer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from qa import Hit
from tui.refs import refs_for_hits
from tui.source_card import SourceCard
from tui.text import line
from tui.turn import TurnMessage


class SearchResults(TurnMessage):
    """Passages ranked for a query, best first, with their scores."""

    def __init__(self, query: str, hits: list[Hit]) -> None:
        super().__init__(refs_for_hits(hits), classes="-search")
        self.search_query = query   # not `query`: that is Widget.query()
        self.hits = hits
        self.panel_title = "Passages"
        self.empty_note = "No passages matched."
        self.border_title = "Search"
        self.border_subtitle = f"{len(hits)} passage{'s' * (len(hits) != 1)}"

    def compose(self) -> ComposeResult:
        if not self.hits:
            yield Static(line(("No passages matched this query.", "italic")))
        for ref in self.refs:
            yield SourceCard(ref, quote_limit=200)
