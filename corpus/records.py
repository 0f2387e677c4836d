"""Articles from what a file holds: a cleaned page, or a JSON record's fields; ids and hashes.

A JSON field given as a list is joined: the text's items with a blank line, any other field's
with ", " (``"source": ["AP", "Reuters"]`` is "AP, Reuters"), except url and id, which take the
list's first item. Nested lists and objects are not text and are left out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from corpus.cleaning import Cleaned, clean_page, fix_text
from corpus.dates import parse_date
from corpus.files import SkipHandler
from corpus.models import Article
from corpus.reading import over_limit

# Field names recognised in JSON records, first match wins. ``fields`` adds to the front.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "name"),
    "text": ("text", "body", "content", "article", "maintext", "story"),
    "url": ("url", "link", "href", "source_url"),
    "source": ("source", "outlet", "publisher", "source_name", "site_name", "sitename"),
    "published": ("published", "date", "publish_date", "published_at", "pubdate",
                  "date_publish", "datetime", "timestamp"),
    "id": ("id", "_id", "uuid", "guid"),
}
MIN_TEXT_CHARS = 20
TEXT_JOIN = "\n\n"
FIELD_JOIN = ", "


def make_id(key: str) -> str:
    """A stable 16-hex-digit id for ``key`` (a URL or a path, which may hold any code point)."""
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def build_article(key: str, cleaned: Cleaned, *, path: Path, url: str | None = None,
                  source: str | None = None, published: object = None) -> Article | None:
    """The article, or None when the cleaned text is too short to be one."""
    text = cleaned.text.strip()
    if len(text) < MIN_TEXT_CHARS:
        return None
    title = (cleaned.title or "").strip() or path.stem
    source = source or cleaned.source or cleaned.site or None
    date = parse_date(published) or cleaned.published
    digest = _content_hash(title=title, text=text, source=source, site=cleaned.site,
                           published=date, url=url or None)
    return Article(id=make_id(key), path=str(path), content_hash=digest, title=title, text=text,
                   source=source, site=cleaned.site, published=date, url=url or None)


def _content_hash(**fields: str | dt.date | None) -> str:
    dumped = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(dumped.encode("utf-8", "surrogatepass")).hexdigest()


def from_record(file: Path, record: object, where: str, fields: Mapping[str, str] | None,
                skip: SkipHandler, limit: int) -> Article | None:
    """The article in one JSON record, or None (reported to ``skip`` as ``where``)."""
    if not isinstance(record, dict):
        skip(where, "not a JSON object")
        return None
    body = _field(record, "text", fields, TEXT_JOIN)
    if body is None:
        names = "/".join(FIELD_NAMES["text"])
        skip(where, f"no article text (fields {names}; name another with --fields text=NAME)")
        return None
    too_long = over_limit(body, limit)
    if too_long:
        skip(where, too_long)
        return None
    title = _field(record, "title", fields, FIELD_JOIN)
    cleaned = clean_page(body, title=(fix_text(title).strip() or None) if title else None)
    url, rec_id = _first(record, "url", fields), _first(record, "id", fields)
    local = rec_id if rec_id is not None else where
    key = f"url:{url}" if url else f"file:{file.resolve()}#{local}"
    source = _field(record, "source", fields, FIELD_JOIN)
    article = build_article(key, cleaned, path=file, url=url,
                            source=(fix_text(source).strip() or None) if source else None,
                            published=_field(record, "published", fields, FIELD_JOIN))
    if article is None:
        skip(where, "no article text found")
    return article


def _names(name: str, fields: Mapping[str, str] | None) -> list[str]:
    chosen = (fields or {}).get(name)
    return ([chosen] if chosen else []) + list(FIELD_NAMES[name])


def _field(record: Mapping[str, object], name: str, fields: Mapping[str, str] | None,
           join: str) -> str | None:
    """The first named field holding text: a string, a number, or a list of them joined."""
    for key in _names(name, fields):
        value = record.get(key)
        if isinstance(value, list):
            text = join.join(s for s in map(_scalar, value) if s) or None
        else:
            text = _scalar(value)
        if text:
            return text
    return None


def _first(record: Mapping[str, object], name: str, fields: Mapping[str, str] | None) -> str | None:
    """The first named field holding a single value (a list gives its first item)."""
    for key in _names(name, fields):
        value = record.get(key)
        items = value if isinstance(value, list) else [value]
        for text in map(_scalar, items):
            if text:  # a lone surrogate from a JSON escape cannot be stored: "?" stands in
                return text.encode("utf-8", "replace").decode("utf-8")
    return None


def _scalar(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None
