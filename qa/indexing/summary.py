"""The records an indexing run hands back: its summary, its progress, and the interruption that
carries the summary out of a Ctrl-C."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel


class IndexSummary(BaseModel):
    """What an indexing run did. ``passages``: passages embedded and stored by this run."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    seconds: float = 0.0


class IndexingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`qa.indexing.index_paths`: finished work is committed; ``summary``
    says what."""

    def __init__(self, summary: IndexSummary) -> None:
        super().__init__("indexing interrupted")
        self.summary = summary


Phase = Literal["passages", "sentences"]


@dataclass
class Progress:
    """Handed to the ``progress`` callback after every encoded batch."""

    passages: int  # embedded so far (sentences, in the "sentences" phase)
    total: int | None  # passages to embed in all (an estimate until every file is read)
    articles: int  # articles done (added, updated or unchanged)
    seconds: float
    phase: Phase = "passages"  # then "sentences": embedding single sentences for answering

    @property
    def rate(self) -> float:
        return self.passages / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if self.total is None or not self.rate:
            return None
        return max(0.0, (self.total - self.passages) / self.rate)
