"""Sentence boundaries as character offsets.

The splitter is sentencex (Wikimedia): it keeps "Gen.", "U.S.", "No. 10", decimals and quoted
sentences whole, and it was chosen, for speed and for those cases, by ``python -m bench
sentences``, which compares it with the other splitters on BBC text.
"""

from __future__ import annotations

import re

PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
"""A blank line (and the white space around it): what separates paragraphs in article text."""


def _segment(text: str) -> list[str]:
    import sentencex  # light, but keep `import corpus` lean

    return list(sentencex.segment("en", text))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences in ``text``, stripped of surrounding white
    space. Every non-space character of ``text`` lies in exactly one span."""
    spans: list[tuple[int, int]] = []
    for p_start, p_end in paragraph_spans(text):
        pos = p_start
        for piece in _segment(text[p_start:p_end]):
            found = text.find(piece, pos, p_end) if piece else -1
            if found < 0:  # the splitter altered the text: fall back to the rest as one sentence
                break
            pos = found + len(piece)
            _append_stripped(spans, text, found, pos)
        if pos < p_end:
            _append_stripped(spans, text, pos, p_end)
    return spans


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each paragraph (blocks separated by blank lines), stripped."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in PARAGRAPH_BREAK.finditer(text):
        _append_stripped(spans, text, pos, m.start())
        pos = m.end()
    _append_stripped(spans, text, pos, len(text))
    return spans


def _append_stripped(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
