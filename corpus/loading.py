"""Read articles from files: .txt, .md, .html/.htm, .json (one article) and .jsonl (one a line)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from corpus.cleaning import Cleaned, clean_page, fix_text
from corpus.dates import parse_date
from corpus.errors import CorpusError
from corpus.models import Article

log = logging.getLogger("corpus")

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES

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

SkipHandler = Callable[[str, str], None]


def _warn(where: str, reason: str) -> None:
    log.warning("skipped %s: %s", where, reason)


def iter_files(path: Path) -> Iterator[Path]:
    """The article files under ``path`` (recursively, sorted, hidden entries left out)."""
    if path.is_file():
        yield path
        return
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).parts
        if p.is_file() and p.suffix.lower() in SUFFIXES and not any(s.startswith(".") for s in rel):
            yield p


def load_articles(
    path: str | Path,
    *,
    fields: Mapping[str, str] | None = None,
    on_skip: SkipHandler | None = None,
) -> Iterator[Article]:
    """Yield the articles in a file or, recursively, a folder.

    ``fields`` names JSON fields to use, e.g. ``{"text": "article_body"}``. Files that are empty,
    binary, undecodable or hold no article text are skipped, each reported to ``on_skip(where,
    reason)`` (by default a logged warning); a bad JSONL line is reported as ``file:line``.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise CorpusError(f"{path}: no such file or folder; give a file or folder of articles")
    skip = on_skip or _warn
    if root.is_file() and root.suffix.lower() not in SUFFIXES:
        skip(str(root), f"unsupported file type; use one of {', '.join(sorted(SUFFIXES))}")
        return
    for file in iter_files(root):
        yield from load_file(file, fields=fields, on_skip=skip)


def load_file(
    file: Path, *, fields: Mapping[str, str] | None = None, on_skip: SkipHandler | None = None
) -> Iterator[Article]:
    """Yield the article(s) in one file."""
    skip = on_skip or _warn
    try:
        data = file.read_bytes()
    except OSError as exc:
        skip(str(file), f"cannot read it ({exc.strerror})")
        return
    if not data.strip():
        skip(str(file), "empty file")
        return
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        skip(str(file), "binary file, not text")
        return
    suffix = file.suffix.lower()
    if suffix in HTML_SUFFIXES:
        article = _from_html(file, data)
        if article is None:
            skip(str(file), "no article text found in the page")
        else:
            yield article
        return
    text = _decode(data)
    if text is None:
        skip(str(file), "not UTF-8 text; convert it (iconv -t UTF-8) and index again")
        return
    if suffix in TEXT_SUFFIXES:
        article = _from_text(file, text)
        if article is None:
            skip(str(file), "no article text found")
        else:
            yield article
    elif suffix == ".json":
        yield from _from_json_doc(file, text, fields, skip)
    else:
        yield from _from_jsonl(file, text, fields, skip)


def _decode(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None
        return text
    return None


def make_id(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _article(key: str, cleaned: Cleaned, *, path: Path, url: str | None = None,
             source: str | None = None, published: Any = None) -> Article | None:
    text = cleaned.text.strip()
    if len(text) < MIN_TEXT_CHARS:
        return None
    title = (cleaned.title or "").strip() or path.stem
    fields = {
        "title": title,
        "text": text,
        "source": (source or cleaned.source or cleaned.site or None),
        "site": cleaned.site,
        "published": parse_date(published) or cleaned.published,
        "url": url or None,
    }
    digest = hashlib.sha256(
        json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()
    return Article(id=make_id(key), path=str(path), content_hash=digest, **fields)


def _from_text(file: Path, text: str) -> Article | None:
    return _article(f"file:{file.resolve()}", clean_page(text), path=file)


def _from_html(file: Path, data: bytes) -> Article | None:
    import trafilatura  # heavy-ish: only when there is HTML to read

    doc = trafilatura.bare_extraction(
        data, with_metadata=True, include_comments=False, include_tables=False,
        favor_precision=True,
    )
    if doc is None:
        return None
    meta = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    body = meta.get("text") or ""
    title = fix_text(meta.get("title") or "").strip() or None
    cleaned = clean_page(body, title=title, site=meta.get("sitename"))
    url = meta.get("url")
    key = f"url:{url}" if url else f"file:{file.resolve()}"
    return _article(key, cleaned, path=file, url=url, published=meta.get("date"))


def _pick(record: Mapping[str, Any], name: str, fields: Mapping[str, str] | None) -> Any:
    names = ((fields or {}).get(name),) + FIELD_NAMES[name]
    for key in names:
        if key and record.get(key) not in (None, ""):
            return record[key]
    return None


def _from_record(file: Path, record: Any, where: str, fields: Mapping[str, str] | None,
                 skip: SkipHandler) -> Article | None:
    if not isinstance(record, dict):
        skip(where, "not a JSON object")
        return None
    body = _pick(record, "text", fields)
    if not isinstance(body, str) or not body.strip():
        names = "/".join(FIELD_NAMES["text"])
        skip(where, f"no article text (fields {names}; name another with --fields text=NAME)")
        return None
    title = _pick(record, "title", fields)
    url, rec_id = _pick(record, "url", fields), _pick(record, "id", fields)
    cleaned = clean_page(body, title=fix_text(str(title)).strip() if title else None)
    if cleaned.title is None:  # no title field: the body's first line is the headline
        cleaned = clean_page(body)
    local = rec_id if rec_id is not None else where
    key = f"url:{url}" if url else f"file:{file.resolve()}#{local}"
    source = _pick(record, "source", fields)
    article = _article(key, cleaned, path=file, url=str(url) if url else None,
                       source=str(source) if source else None,
                       published=_pick(record, "published", fields))
    if article is None:
        skip(where, "no article text found")
    return article


def _from_json_doc(file: Path, text: str, fields: Mapping[str, str] | None,
                   skip: SkipHandler) -> Iterator[Article]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        skip(f"{file}:{exc.lineno}", f"invalid JSON ({exc.msg})")
        return
    records = record if isinstance(record, list) else [record]
    for i, rec in enumerate(records):
        article = _from_record(file, rec, f"{file}" if len(records) == 1 else f"{file}[{i}]",
                               fields, skip)
        if article:
            yield article


def _from_jsonl(file: Path, text: str, fields: Mapping[str, str] | None,
                skip: SkipHandler) -> Iterator[Article]:
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{file}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            skip(where, f"invalid JSON ({exc.msg})")
            continue
        article = _from_record(file, record, where, fields, skip)
        if article:
            yield article
