"""Which files hold articles, and finding them in a folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES

SkipHandler = Callable[[str, str], None]
"""Told ``(where, reason)`` for each file, line or folder left out."""

log = logging.getLogger("corpus")


def warn(where: str, reason: str) -> None:
    """The default :data:`SkipHandler`: one logged warning line."""
    log.warning("skipped %s: %s", where, reason)


def iter_files(path: Path, *, on_skip: SkipHandler | None = None) -> Iterator[Path]:
    """The article files under ``path`` (recursively, sorted, hidden entries left out).

    A folder that cannot be read is reported to ``on_skip`` (by default a logged warning).
    """
    if path.is_file():
        yield path
        return
    skip = on_skip or warn

    def unreadable(exc: OSError) -> None:
        where = exc.filename if exc.filename is not None else path
        skip(str(where), f"cannot read the folder ({exc.strerror}); its articles are left out")

    found: list[Path] = []
    for folder, dirs, names in os.walk(path, onerror=unreadable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            file = Path(folder, name)
            if name.startswith(".") or file.suffix.lower() not in SUFFIXES:
                continue
            try:
                file.stat()  # follows links: a loop or a dangling link raises here
            except OSError as exc:  # also a folder that lists its names but denies stat
                skip(str(file), f"cannot read it ({exc.strerror or exc})")
                continue
            if file.is_file():
                found.append(file)
    yield from sorted(found)
