"""Question answering over news articles, with sentence-level citations.

``Assistant.open()`` opens an index (fast; the model loads on first use), then ``search``,
``ask``, ``chat`` and ``article``. Records are pydantic models; ``model_dump_json()`` is their
JSON.
"""

from typing import TYPE_CHECKING

from corpus import paragraph_spans
from corpus.errors import QAError
from corpus.models import Article
from qa.engine.text import snippet
from qa.errors import ArticleNotFound, CitationError, QuestionError, UsageError
from qa.interfaces import AssistantAPI, AssistantOpener, ConversationAPI
from qa.models import Answer, Citation, Hit, IndexInfo

if TYPE_CHECKING:  # for type checkers; at run time imported on first use (below)
    from qa.assistant import Assistant, Conversation

__all__ = [
    "Answer",
    "Article",
    "ArticleNotFound",
    "Assistant",
    "AssistantAPI",
    "AssistantOpener",
    "Citation",
    "CitationError",
    "Conversation",
    "ConversationAPI",
    "Hit",
    "IndexInfo",
    "QAError",
    "QuestionError",
    "UsageError",
    "paragraph_spans",
    "snippet",
]


def __getattr__(name: str) -> object:
    # Imported on first use, so `qa --help` and light commands stay quick.
    if name == "Assistant":
        from qa.assistant import Assistant

        return Assistant
    if name == "Conversation":
        from qa.assistant import Conversation

        return Conversation
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
