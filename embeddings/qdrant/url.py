"""Store URLs: where a Qdrant-backed index lives, and how a new collection is laid out.

``qdrant:PATH`` is qdrant-client's embedded local mode (a folder; one process at a time; search
is brute force in Python); ``http://HOST:6333`` or ``https://...`` is a Qdrant server or
cluster (API key from ``$QA_QDRANT_API_KEY``). The collection is ``newsqa`` unless the URL says
otherwise: ``qdrant:PATH#NAME`` or ``http://HOST:6333/NAME``. Query parameters set the layout of a
collection when it is created (ignored for one that exists): ``shards``, ``replicas``,
``on_disk`` (original dense vectors on disk) and ``quantization`` (``int8`` or ``none``), e.g.
``http://qdrant-1:6333/newsqa?shards=6&replicas=2&on_disk=true&quantization=int8``.

This module imports nothing heavy: the CLI parses URLs before deciding to load qdrant-client.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from embeddings.errors import IndexStoreError

DEFAULT_COLLECTION = "newsqa"
API_KEY_ENV = "QA_QDRANT_API_KEY"
LOCAL = "qdrant:"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
QUANTIZATIONS = ("int8", "none")


def is_store_url(text: object) -> bool:
    """Whether ``text`` names a Qdrant store (rather than an index folder)."""
    return isinstance(text, str) and (text.startswith(LOCAL) or text.startswith("http://")
                                      or text.startswith("https://"))


@dataclass(frozen=True)
class Layout:
    """How a new collection is made. ``None``: the default for local mode or the server."""

    shards: int | None = None
    replicas: int | None = None
    on_disk: bool | None = None
    quantization: str | None = None


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: a local folder (``path``) or a server (``endpoint``)."""

    text: str
    collection: str
    path: Path | None = None
    endpoint: str | None = None
    layout: Layout = Layout()

    @property
    def local(self) -> bool:
        return self.path is not None

    @property
    def api_key(self) -> str | None:
        return os.environ.get(API_KEY_ENV) or None

    def __str__(self) -> str:
        if self.path is not None:
            suffix = "" if self.collection == DEFAULT_COLLECTION else f"#{self.collection}"
            return f"{LOCAL}{self.path}{suffix}"
        return f"{self.endpoint}/{self.collection}"

    def with_layout(self, layout: Layout) -> StoreURL:
        return replace(self, layout=layout)


def parse(text: str) -> StoreURL:
    """The store ``text`` names; :class:`IndexStoreError` (one line) if it is malformed."""
    if text.startswith(LOCAL):
        return _local(text)
    if text.startswith(("http://", "https://")):
        return _server(text)
    raise IndexStoreError(f"{text!r} is not a store URL: use qdrant:PATH or http(s)://HOST:6333")


def _local(text: str) -> StoreURL:
    rest, _, query = text[len(LOCAL):].partition("?")
    where, _, name = rest.partition("#")
    if not where.strip():
        raise IndexStoreError(f"{text!r} names no folder: use qdrant:PATH, e.g. "
                              "qdrant:~/qa-qdrant")
    collection = _collection(name or DEFAULT_COLLECTION, text)
    path = Path(where).expanduser().absolute()
    return StoreURL(text, collection, path=path, layout=_layout(query, text))


def _server(text: str) -> StoreURL:
    parts = urlsplit(text)
    if not parts.hostname:
        raise IndexStoreError(f"{text!r} names no host: use http(s)://HOST:6333[/COLLECTION]")
    try:
        port = parts.port or 6333
    except ValueError:
        raise IndexStoreError(f"{text!r} has a bad port: use http(s)://HOST:6333") from None
    collection = _collection(parts.path.strip("/") or DEFAULT_COLLECTION, text)
    endpoint = f"{parts.scheme}://{parts.hostname}:{port}"
    return StoreURL(text, collection, endpoint=endpoint, layout=_layout(parts.query, text))


def _collection(name: str, text: str) -> str:
    if not _NAME.match(name):
        raise IndexStoreError(f"{text!r}: collection name {name!r} must be letters, digits, _ "
                              "or - (at most 200)")
    return name


def _layout(query: str, text: str) -> Layout:
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = set(params) - {"shards", "replicas", "on_disk", "quantization"}
    if unknown:
        raise IndexStoreError(f"{text!r}: unknown setting {sorted(unknown)[0]!r}; use shards, "
                              "replicas, on_disk or quantization")
    return Layout(shards=_count(params, "shards", text), replicas=_count(params, "replicas", text),
                  on_disk=_flag(params, "on_disk", text),
                  quantization=_quantization(params, text))


def _count(params: dict[str, str], key: str, text: str) -> int | None:
    if key not in params:
        return None
    value = params[key]
    if not value.isdigit() or not 1 <= int(value) <= 1000:
        raise IndexStoreError(f"{text!r}: {key} wants a whole number from 1 to 1000, not "
                              f"{value!r}")
    return int(value)


def _flag(params: dict[str, str], key: str, text: str) -> bool | None:
    if key not in params:
        return None
    value = params[key].lower()
    if value not in _TRUE | _FALSE:
        raise IndexStoreError(f"{text!r}: {key} wants true or false, not {params[key]!r}")
    return value in _TRUE


def _quantization(params: dict[str, str], text: str) -> str | None:
    value = params.get("quantization")
    if value is not None and value not in QUANTIZATIONS:
        raise IndexStoreError(f"{text!r}: quantization wants int8 or none, not {value!r}")
    return value
