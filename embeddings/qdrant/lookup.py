"""Read-only questions an indexing run asks of a Qdrant store (``store.lookup()``): on the
store's own connection (local mode allows one client per folder), safe from another thread."""

from __future__ import annotations

from typing import Any

from qdrant_client import models as qm

from embeddings.qdrant import schema
from embeddings.qdrant.reads import QdrantReads


class QdrantLookup:
    def __init__(self, reads: QdrantReads) -> None:
        self._r = reads

    def article_meta(self, article_id: str) -> tuple[Any, ...] | None:
        """``(content_hash, path, url, site)`` of a stored article."""
        p = self._r.article_payload(article_id, ["content_hash", "path", "url", "site"])
        return None if p is None else (p["content_hash"], p.get("path"), p.get("url"),
                                       p.get("site"))

    def file_stamps(self) -> dict[str, tuple[int, int, str | None]]:
        return {p["path"]: (int(p["size"]), int(p["mtime_ns"]), p.get("recipe"))
                for p in (r.payload or {} for r in self._r.scroll(schema.kind(schema.FILE)))}

    def count_articles(self, path: str) -> int:
        return self._r.count(schema.kind(schema.ARTICLE, schema.match("path", path)))

    def articles_under(self, root: str) -> list[tuple[str, str]]:
        sel = qm.PayloadSelectorInclude(include=["id", "path"])
        return [(str(p["id"]), str(p["path"])) for p in (
            r.payload or {} for r in self._r.scroll(_under(schema.ARTICLE, root), payload=sel))]

    def files_under(self, root: str) -> list[str]:
        sel = qm.PayloadSelectorInclude(include=["path"])
        return [str((r.payload or {})["path"])
                for r in self._r.scroll(_under(schema.FILE, root), payload=sel)]

    def close(self) -> None:
        """Nothing to close: the lookup shares the store's connection."""


def _under(kind: str, root: str) -> qm.Filter:
    root = root.rstrip("/") or "/"
    return qm.Filter(must=[schema.match(schema.KIND, kind)],
                     should=[schema.match("path", root), schema.match("dirs", root)])
