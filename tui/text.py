"""Rich text built from data. Everything here is plain text with styles added by offset, never
markup: article text and answers may contain "[bold]" or "[/]"."""

from __future__ import annotations

import re

from textual.content import Content

MARKER = re.compile(r"\[\d+\]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MARKER_STYLE = "bold $text-accent"
HIGHLIGHT_STYLE = "bold $foreground on $accent-muted"


def safe(text: str) -> str:
    """``text`` with control characters (which could drive the terminal) replaced by spaces,
    keeping every offset."""
    return CONTROL.sub(" ", text)


def plain(text: str, style: str = "") -> Content:
    """``text`` as is, optionally in one style."""
    content = Content(safe(text))
    return content.stylize(style) if style else content


def with_markers(text: str) -> Content:
    """An answer's text with its [n] markers picked out."""
    content = Content(safe(text))
    for m in MARKER.finditer(text):
        content = content.stylize(MARKER_STYLE, m.start(), m.end())
    return content


def line(*parts: tuple[str, str] | str) -> Content:
    """One line from ``(text, style)`` pairs or plain strings."""
    return Content.assemble(*(safe(p) if isinstance(p, str) else (safe(p[0]), p[1])
                              for p in parts))
