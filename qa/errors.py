"""Errors of the question-answering layer (all are ``QAError``: the CLI prints one line)."""

from corpus.errors import QAError


class UsageError(QAError):
    """A bad command-line argument: exit code 2."""


class QuestionError(QAError):
    """The question (or query) itself is unusable: empty, too long, a bad ``k``."""


class ArticleNotFound(QAError):
    """No article with that id in the index."""


class CitationError(QAError):
    """A citation's quote does not stand at its offsets: a bug, never shown as an answer."""
