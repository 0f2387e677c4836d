"""Read articles from files: .txt, .md, .html/.htm, .json (one article) and .jsonl (one a line).

Every file, line or folder left out is reported in one line naming it, and the rest loads:
nothing in the input stops a folder loading or makes memory grow past a bound set by
``max_article_bytes``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from corpus.cleaning import clean_page, fix_text
from corpus.errors import CorpusError
from corpus.files import (
    HTML_SUFFIXES,
    JSON_SUFFIXES,
    SUFFIXES,
    TEXT_SUFFIXES,
    SkipHandler,
    iter_files,
    warn,
)
from corpus.html import extract_page
from corpus.models import Article
from corpus.reading import (
    BINARY,
    DEFAULT_MAX_ARTICLE_BYTES,
    HTML_FILE_FACTOR,
    JSON_FILE_FACTOR,
    JSONL_LINE_FACTOR,
    NOT_UTF8,
    TEXT_FILE_FACTOR,
    check_limit,
    decode,
    is_binary,
    over_limit,
    raise_hint,
    read_capped,
    read_lines,
    size_text,
)
from corpus.records import FIELD_NAMES, MIN_TEXT_CHARS, build_article, from_record, make_id

__all__ = [
    "DEFAULT_MAX_ARTICLE_BYTES",
    "FIELD_NAMES",
    "HTML_SUFFIXES",
    "JSON_SUFFIXES",
    "MIN_TEXT_CHARS",
    "SUFFIXES",
    "TEXT_SUFFIXES",
    "SkipHandler",
    "iter_files",
    "load_articles",
    "load_file",
    "make_id",
]

_NESTED = "JSON nested too deeply to read"


def load_articles(
    path: str | Path,
    *,
    fields: Mapping[str, str] | None = None,
    on_skip: SkipHandler | None = None,
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES,
) -> Iterator[Article]:
    """Yield the articles in a file or, recursively, a folder.

    ``fields`` names JSON fields to use, e.g. ``{"text": "article_body"}``. Files that are empty,
    binary, undecodable, too big or hold no article text, and folders that cannot be read, are
    skipped, each reported to ``on_skip(where, reason)`` (by default a logged warning); a bad
    JSONL line is reported as ``file:line``. An article with more than ``max_article_bytes`` of
    text (UTF-8) is skipped the same way.
    """
    limit = check_limit(max_article_bytes)
    root = Path(path).expanduser()
    if not root.exists():
        raise CorpusError(f"{path}: no such file or folder; give a file or folder of articles")
    skip = on_skip or warn
    if root.is_file() and root.suffix.lower() not in SUFFIXES:
        skip(str(root), f"unsupported file type; use one of {', '.join(sorted(SUFFIXES))}")
        return
    for file in iter_files(root, on_skip=skip):
        yield from load_file(file, fields=fields, on_skip=skip, max_article_bytes=limit)


def load_file(
    file: Path,
    *,
    fields: Mapping[str, str] | None = None,
    on_skip: SkipHandler | None = None,
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES,
) -> Iterator[Article]:
    """Yield the article(s) in one file; see :func:`load_articles`."""
    limit = check_limit(max_article_bytes)
    skip = on_skip or warn
    suffix = file.suffix.lower()
    try:
        if suffix in JSON_SUFFIXES and suffix != ".json":
            yield from _from_jsonl(file, fields, skip, limit)
            return
        factor = (HTML_FILE_FACTOR if suffix in HTML_SUFFIXES
                  else JSON_FILE_FACTOR if suffix == ".json" else TEXT_FILE_FACTOR)
        data = read_capped(file, factor * limit)
    except OSError as exc:
        skip(str(file), f"cannot read it ({exc.strerror or exc})")
        return
    if data is None:
        skip(str(file), _too_big(file, suffix, factor * limit, limit))
        return
    if not data.strip():
        skip(str(file), "empty file")
        return
    if is_binary(data):
        skip(str(file), BINARY)
        return
    if suffix in HTML_SUFFIXES:
        yield from _from_html(file, data, skip, limit)
        return
    text = decode(data)
    if text is None:
        skip(str(file), NOT_UTF8)
    elif suffix == ".json":
        yield from _from_json_doc(file, text, fields, skip, limit)
    else:
        yield from _from_text(file, text, skip, limit)


def _too_big(file: Path, suffix: str, cap: int, limit: int) -> str:
    try:
        size = file.stat().st_size
    except OSError:
        size = cap + 1
    size_s, cap_s = size_text(size), size_text(cap)
    if size_s == cap_s:  # just over: "50.0 MB, over 50.0 MB" would say nothing
        size_s, cap_s = f"{size:,} bytes", f"{cap:,} bytes"
    if suffix == ".json":
        return (f"{size_s} file, over the {cap_s} allowed for one .json file; write its "
                f"articles one a line to a .jsonl file, or raise --max-article-bytes")
    return f"{size_s} file, too big to be one article ({raise_hint(limit)} to read it)"


def _from_text(file: Path, text: str, skip: SkipHandler, limit: int) -> Iterator[Article]:
    too_long = over_limit(text, limit)
    if too_long:
        skip(str(file), too_long)
        return
    article = build_article(f"file:{file.resolve()}", clean_page(text), path=file)
    if article is None:
        skip(str(file), "no article text found")
    else:
        yield article


def _from_html(file: Path, data: bytes, skip: SkipHandler, limit: int) -> Iterator[Article]:
    meta = extract_page(data)
    body = str(meta.get("text") or "") if meta else ""
    too_long = over_limit(body, limit)
    if meta is None or too_long:
        skip(str(file), too_long or "no article text found in the page")
        return
    title = fix_text(str(meta.get("title") or "")).strip() or None
    site = meta.get("sitename")
    cleaned = clean_page(body, title=title, site=str(site) if site else None)
    url = str(meta.get("url") or "") or None
    key = f"url:{url}" if url else f"file:{file.resolve()}"
    article = build_article(key, cleaned, path=file, url=url, published=meta.get("date"))
    if article is None:
        skip(str(file), "no article text found in the page")
    else:
        yield article


def _from_json_doc(file: Path, text: str, fields: Mapping[str, str] | None,
                   skip: SkipHandler, limit: int) -> Iterator[Article]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        skip(f"{file}:{exc.lineno}", f"invalid JSON ({exc.msg})")
        return
    except RecursionError:
        skip(str(file), _NESTED)
        return
    records = record if isinstance(record, list) else [record]
    for i, rec in enumerate(records):
        where = f"{file}" if len(records) == 1 else f"{file}[{i}]"
        article = from_record(file, rec, where, fields, skip, limit)
        if article:
            yield article


def _from_jsonl(file: Path, fields: Mapping[str, str] | None, skip: SkipHandler,
                limit: int) -> Iterator[Article]:
    blank = True
    for line in read_lines(file, JSONL_LINE_FACTOR * limit):
        where = f"{file}:{line.number}"
        if line.problem:
            blank = False
            skip(where, line.problem)
            continue
        if not line.text.strip():
            continue
        blank = False
        try:
            record = json.loads(line.text)
        except json.JSONDecodeError as exc:
            skip(where, f"invalid JSON ({exc.msg})")
            continue
        except RecursionError:
            skip(where, _NESTED)
            continue
        article = from_record(file, record, where, fields, skip, limit)
        if article:
            yield article
    if blank:
        skip(str(file), "empty file")
