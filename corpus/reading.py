"""Reading a file's bytes and lines with memory bounded by the article size limit.

Nothing is read whole before its size is known: a file far over the limit is refused unread and
a JSONL file is read a line at a time, an over-long line skipped without being kept or parsed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import CorpusError

DEFAULT_MAX_ARTICLE_BYTES = 5_000_000
"""The most text (UTF-8 bytes) one article may have; a longer one is skipped with a warning."""

# How many times the article limit a raw unit may be before it is refused unread: markup, JSON
# escapes and UTF-16 take room the article's text does not ("é", two bytes of text, is six in
# ASCII-only JSON: "\\u00e9"). A .json file may hold many articles.
TEXT_FILE_FACTOR = 2
HTML_FILE_FACTOR = 4
JSON_FILE_FACTOR = 10
JSONL_LINE_FACTOR = 3

SNIFF_BYTES = 8192
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_DRAIN_CHARS = 1 << 16
_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by surrogateescape

NOT_UTF8 = "not UTF-8 text; convert it (iconv -t UTF-8) and index again"
BINARY = "binary file, not text"


def check_limit(max_article_bytes: int) -> int:
    """``max_article_bytes`` if it is a usable limit, else a :class:`CorpusError`."""
    if (isinstance(max_article_bytes, bool) or not isinstance(max_article_bytes, int)
            or max_article_bytes < 1):
        raise CorpusError(f"max article size must be a whole number of bytes above 0, "
                          f"not {max_article_bytes!r}; give e.g. 5000000")
    return max_article_bytes


def size_text(n: int) -> str:
    """A byte count for people: "5.0 MB", "1.2 kB", "300 bytes"."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.1f} kB"
    return f"{n} bytes"


def raise_hint(limit: int) -> str:
    return f"the limit is {size_text(limit)} of text per article; raise --max-article-bytes"


def over_limit(text: str, limit: int) -> str | None:
    """Why ``text`` is too long to be one article, or None if it fits."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= limit:
        return None
    return f"article text is {size_text(size)}, over the limit; {raise_hint(limit)} to read it"


def read_capped(file: Path, cap: int) -> bytes | None:
    """The bytes of ``file``, or None if it holds more than ``cap`` (read no further than that).

    Raises ``OSError`` when the file cannot be read.
    """
    if file.stat().st_size > cap:
        return None
    with file.open("rb") as f:
        data = f.read(cap + 1)  # the file may have grown, or be no regular file at all
    return None if len(data) > cap else data


def is_binary(data: bytes) -> bool:
    """A NUL byte near the start, in a file that is not UTF-16, marks a binary file."""
    return b"\x00" in data[:SNIFF_BYTES] and not data.startswith(_UTF16_BOMS)


def decode(data: bytes) -> str | None:
    """UTF-8 (with or without a BOM), or UTF-16 with a BOM; None for anything else."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class Line:
    """One line of a JSONL file: its text, or why it cannot be read."""

    number: int
    text: str = ""
    problem: str | None = None


def read_lines(file: Path, cap: int) -> Iterator[Line]:
    """The lines of ``file`` (UTF-8, or UTF-16 with a BOM), each judged on its own: a line over
    ``cap`` characters, with a NUL byte or with bytes that are not text comes with a problem.

    Raises ``OSError`` when the file cannot be read.
    """
    with file.open("rb") as raw:
        encoding = "utf-16" if raw.read(2) in _UTF16_BOMS else "utf-8-sig"
        raw.seek(0)
        stream = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="\n")
        try:
            yield from _judged_lines(stream, cap)
        finally:
            stream.detach()


def _judged_lines(stream: io.TextIOWrapper, cap: int) -> Iterator[Line]:
    too_long = (f"line is over {size_text(cap)}, too long to be one article; "
                "raise --max-article-bytes to read it")
    number = 0
    while line := stream.readline(cap + 2):
        number += 1
        if len(line) == cap + 2 and not line.endswith("\n"):
            _drain(stream)
            yield Line(number, problem=too_long)
            continue
        line = line.rstrip("\r\n")
        if len(line) > cap:
            yield Line(number, problem=too_long)
        elif "\x00" in line:
            yield Line(number, problem="binary data, not text")
        elif _UNDECODED.search(line):
            yield Line(number, problem=NOT_UTF8)
        else:
            yield Line(number, line)


def _drain(stream: io.TextIOWrapper) -> None:
    """Read to the end of the current line a bounded piece at a time, keeping nothing."""
    while piece := stream.readline(_DRAIN_CHARS):
        if piece.endswith("\n"):
            return
