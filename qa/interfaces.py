"""What the user interfaces need of the assistant, as Protocols: the chat (``tui``) and the HTTP
server (``qa.server``) are typed against :class:`AssistantAPI`, not against
:class:`qa.Assistant` itself, so a test may hand them any object that has these methods.

``qa.Assistant`` satisfies :class:`AssistantAPI`, and ``qa.Conversation``
:class:`ConversationAPI` (tests/test_interfaces.py checks it under mypy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from corpus.models import Article
from qa.models import Answer, Hit, IndexInfo


class ConversationAPI(Protocol):
    """A chat: each question is answered in the light of the earlier turns."""

    @property
    def history(self) -> Sequence[Answer]:
        """The answers so far, oldest first."""
        ...

    def ask(self, question: str) -> Answer:
        """Answer ``question``, then append the answer to :attr:`history`."""
        ...

    def reset(self) -> None:
        """Forget the history: the next question starts a new conversation."""
        ...


@runtime_checkable
class AssistantAPI(Protocol):
    """An open index that answers questions. Raises ``qa.QAError`` subclasses (one-line
    messages): ``QuestionError`` for an unusable question, ``ArticleNotFound`` for a bad id."""

    def info(self) -> IndexInfo:
        """The index at a glance (fast: no model needed)."""
        ...

    def warm_up(self) -> None:
        """Load the model now, so the first question is quick."""
        ...

    def search(self, query: str, k: int = 5, *, source: str | None = None,
               published_from: dt.date | None = None, published_to: dt.date | None = None
               ) -> list[Hit]:
        """The ``k`` best passages for ``query``."""
        ...

    def ask(self, question: str, *, history: Sequence[Answer] | None = None,
            source: str | None = None, published_from: dt.date | None = None,
            published_to: dt.date | None = None, today: dt.date | None = None) -> Answer:
        """Answer ``question``, citing the sentences it rests on; ``today``: what relative
        time words ("last week") are read against (default: the newest article)."""
        ...

    def chat(self, *, source: str | None = None, published_from: dt.date | None = None,
             published_to: dt.date | None = None) -> ConversationAPI:
        """A new conversation; the filters apply to every turn."""
        ...

    def article(self, article_id: str) -> Article:
        """The whole article (ids come from hits and citations)."""
        ...

    def close(self) -> None:
        """Release the index and the model."""
        ...


#: What the chat accepts instead of an open assistant: a callable that opens one (in a worker).
AssistantOpener = Callable[[], AssistantAPI]
