"""Errors a user can act on. The CLI prints ``str(error)`` as one line, never a traceback."""


class QAError(Exception):
    """Base of every error this project raises on purpose. The message says what to do."""


class CorpusError(QAError):
    """A problem with the articles given: a missing path, nothing readable."""
