"""The top line: the corpus at a glance and what the assistant is doing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from qa import IndexInfo
from tui.text import line

STATES = {
    "opening": ("● opening the index…", "$warning"),
    "loading": ("● loading the model…", "$warning"),
    "ready": ("● ready", "$success"),
    "busy": ("● thinking…", "$accent"),
    "error": ("● not available", "$error"),
}


def summary(info: IndexInfo) -> str:
    """"5 articles · 37 passages · 3 outlets · 2020-02-28 · all-MiniLM-L6-v2"."""
    outlets = len(info.sources)
    parts = [f"{info.articles:,} article{'s' * (info.articles != 1)}",
             f"{info.passages:,} passage{'s' * (info.passages != 1)}",
             f"{outlets} outlet{'s' * (outlets != 1)}"]
    if info.earliest and info.latest and info.earliest != info.latest:
        parts.append(f"{info.earliest.isoformat()} – {info.latest.isoformat()}")
    elif (day := info.earliest or info.latest) is not None:
        parts.append(day.isoformat())
    parts.append(info.model.rsplit("/", 1)[-1])
    return " · ".join(parts)


class CorpusHeader(Horizontal):
    """App name, corpus summary (from ``assistant.info()``) and a status light."""

    def compose(self) -> ComposeResult:
        yield Static(line(("newsqa", "bold")), id="app-name")
        yield Static(line(("opening the index…", "italic")), id="corpus")
        yield Static(id="status")

    def on_mount(self) -> None:
        self.set_state("opening")

    def show_info(self, info: IndexInfo) -> None:
        corpus = self.query_one("#corpus", Static)
        corpus.update(line(summary(info)))
        outlets = ", ".join(info.sources) or "none named"
        corpus.tooltip = f"Index: {info.path}\nOutlets: {outlets}\nModel: {info.model}"

    def set_state(self, state: str, detail: str | None = None) -> None:
        text, style = STATES[state]
        status = self.query_one("#status", Static)
        status.update(line((text, f"bold {style}")))
        status.tooltip = detail
        self.state = state
