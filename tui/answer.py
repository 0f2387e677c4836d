"""An answer in the conversation: its text with [n] markers and its sources, or, when the
articles do not cover the question, a refusal with the closest passages."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from qa import Answer
from tui.refs import SourceRef, refs_for_hits
from tui.source_card import SourceCard
from tui.text import MARKER_STYLE, line, with_markers
from tui.turn import TurnMessage


class AnswerMessage(TurnMessage):
    """A found answer (``-found``) or a refusal (``-refused``)."""

    def __init__(self, answer: Answer) -> None:
        refs = ([SourceRef.from_citation(c) for c in answer.citations] if answer.found
                else refs_for_hits(answer.related))
        super().__init__(refs, classes="-found" if answer.found else "-refused")
        self.answer = answer
        self.panel_title = "Sources" if answer.found else "Closest passages"
        self.empty_note = "This answer cites no sources."
        self.border_title = "Answer" if answer.found else "Not in the articles"
        self.border_subtitle = f"confidence {answer.confidence:.2f}"

    def compose(self) -> ComposeResult:
        short = self.answer.short_answer
        if short is not None:
            yield Static(line((short.text, "bold"), " ", (f"[{short.citation}]", MARKER_STYLE)),
                         classes="short-answer")
        yield Static(with_markers(self.answer.answer), classes="answer-text")
        notes = " · ".join(self.answer.notes())
        if notes:
            yield Static(line((notes, "italic $text-muted")), classes="answer-notes")
        if not self.refs:
            return
        # A found answer lists its sources here only while the sources panel is hidden; a
        # refusal always shows the closest passages.
        with Vertical(classes="inline-sources" if self.answer.found else "related"):
            if not self.answer.found:
                yield Static(line(("Closest passages:", "bold")), classes="related-label")
            for ref in self.refs:
                yield SourceCard(ref, compact=True)
