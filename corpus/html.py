"""A web page's main content and metadata, by trafilatura, with its log chatter kept quiet.

trafilatura and its helpers log their own warnings ("discarding data: None") for pages with
no content; the loader already says what happened to the file in one line of its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Loggers of trafilatura and the libraries it calls; their children are silenced too.
QUIET_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer", "tld")
_SILENT = logging.CRITICAL + 1
_lock = threading.Lock()


def extract_page(data: bytes) -> dict[str, Any] | None:
    """trafilatura's reading of the page: ``text``, ``title``, ``sitename``, ``url``, ``date``."""
    import trafilatura  # heavy-ish: only when there is HTML to read

    with _quiet():
        doc = trafilatura.bare_extraction(
            data, with_metadata=True, include_comments=False, include_tables=False,
            favor_precision=True,
        )
    if doc is None:
        return None
    meta: dict[str, Any] = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    return meta


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the :data:`QUIET_LOGGERS` family for the duration, then restore each logger.

    Existing loggers are disabled; the top-level ones also get a level above CRITICAL so that a
    child created meanwhile is quiet as well. Other loggers and handlers are left alone.
    """
    with _lock:
        tops = [logging.getLogger(name) for name in QUIET_LOGGERS]
        family = [
            logger for name, logger in list(logging.Logger.manager.loggerDict.items())
            if isinstance(logger, logging.Logger) and name.split(".")[0] in QUIET_LOGGERS
        ]
        saved = [(logger, logger.disabled) for logger in family]
        levels = [(logger, logger.level) for logger in tops]
        try:
            for logger in family:
                logger.disabled = True
            for logger in tops:
                logger.setLevel(_SILENT)
            yield
        finally:
            for logger, disabled in saved:
                logger.disabled = disabled
            for logger, level in levels:
                logger.setLevel(level)
