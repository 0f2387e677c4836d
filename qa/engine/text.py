"""Text shown on one line: whitespace collapsed, and cut at a word boundary when too long."""

from __future__ import annotations

ELLIPSIS = "…"


def snippet(text: str, width: int | None = None) -> str:
    """``text`` on one line (runs of whitespace become one space), cut at a word boundary to at
    most ``width`` characters, an ellipsis included; ``width=None``: never cut."""
    one = " ".join(text.split())
    if width is None or len(one) <= width:
        return one
    return one[: width - 1].rsplit(" ", 1)[0] + ELLIPSIS
