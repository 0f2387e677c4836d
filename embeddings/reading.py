"""The read side of an index's database: passages, vectors, articles, filters and figures."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from corpus.models import Article
from embeddings import database as db
from embeddings.errors import IndexStoreError
from embeddings.models import Manifest, StoredPassage

_CHUNK = 900  # vids per SQL IN (...) query


class StoreReads:
    """Queries of :class:`embeddings.store.IndexStore` that only read SQLite."""

    path: Path
    dim: int
    _conn: sqlite3.Connection
    _mutex: threading.RLock

    @property
    def manifest(self) -> Manifest:
        """The manifest as of the last commit (cheap: recomputed only when that changes)."""
        with self._mutex:
            meta = db.get_meta(self._conn)
            cached = getattr(self, "_manifest", None)
            if (cached is not None and cached.generation == int(meta["generation"])
                    and cached.index_type == meta["index_type"]):
                return cached
            articles, passages = self.counts()
            self._manifest = self._make_manifest(meta, articles, passages)
            return self._manifest

    @property
    def generation(self) -> int:
        """+1 for every committed write: a cheap way to tell that the index changed."""
        with self._mutex:
            return db.generation(self._conn)

    @staticmethod
    def _make_manifest(meta: dict, articles: int, passages: int) -> Manifest:
        return Manifest(
            format_version=int(meta["format_version"]), model=meta["model"], dim=int(meta["dim"]),
            weights_sha256=meta["weights_sha256"], index_type=meta["index_type"],
            articles=articles, passages=passages, generation=int(meta["generation"]),
            created=dt.datetime.fromisoformat(meta["created"]),
            updated=dt.datetime.fromisoformat(meta["updated"]))

    def counts(self) -> tuple[int, int]:
        (a,), (p,) = (self._conn.execute(f"SELECT count(*) FROM {t}").fetchone()
                      for t in ("articles", "passages"))
        return a, p

    def _rows(self, sql: str, vids: Sequence[int]) -> dict[int, tuple]:
        """``{vid: row}`` for ``sql`` with ``{}`` standing for a ``?`` list of vids."""
        out: dict[int, tuple] = {}
        ids = [int(v) for v in vids if int(v) >= 0]
        with self._mutex:
            for i in range(0, len(ids), _CHUNK):
                part = ids[i:i + _CHUNK]
                for row in self._conn.execute(sql.format(",".join("?" * len(part))), part):
                    out[row[0]] = row
        return out

    def passages(self, vids: Sequence[int]) -> list[StoredPassage]:
        """The passages with these vids, in the same order. Vids that are ``-1`` or no longer
        stored (removed by a writer since the search) are left out: match by ``.vid``."""
        rows = self._rows(f"SELECT {db.PASSAGE_COLUMNS} FROM passages p JOIN articles a "
                          "ON a.id = p.article_id WHERE p.vid IN ({})", vids)
        return [db.passage_from_row(rows[int(v)]) for v in vids if int(v) in rows]

    def iter_passages(self) -> Iterator[StoredPassage]:
        """Every passage, ordered by vid."""
        cur = self._conn.cursor()
        cur.execute(f"SELECT {db.PASSAGE_COLUMNS} FROM passages p JOIN articles a "
                    "ON a.id = p.article_id ORDER BY p.vid")
        for row in cur:
            yield db.passage_from_row(row)

    def vectors(self, vids: Sequence[int]) -> np.ndarray:
        """float32 ``(len(vids), dim)``; :class:`IndexStoreError` if a vid is not stored."""
        rows = self._rows("SELECT vid, vector FROM vectors WHERE vid IN ({})", vids)
        try:
            return db.from_blobs([rows[int(v)][1] for v in vids], self.dim)
        except KeyError as exc:
            raise IndexStoreError(f"no passage with vid {exc.args[0]} in {self.path}") from None

    def article(self, article_id: str) -> Article | None:
        row = self._conn.execute(f"SELECT {db.ARTICLE_COLUMNS} FROM articles WHERE id = ?",
                                 (article_id,)).fetchone()
        return db.article_from_row(row) if row else None

    def articles(self) -> Iterator[Article]:
        cur = self._conn.cursor()
        cur.execute(f"SELECT {db.ARTICLE_COLUMNS} FROM articles ORDER BY id")
        for row in cur:
            yield db.article_from_row(row)

    def vids_matching(self, *, source: str | None = None, published_from: dt.date | None = None,
                      published_to: dt.date | None = None) -> np.ndarray:
        """The vids of passages whose article matches all the filters given (``source``
        case-insensitively, against the outlet or the site; dates inclusive)."""
        where, args = [], []
        if source is not None:
            where.append("(a.source = ? COLLATE NOCASE OR a.site = ? COLLATE NOCASE)")
            args += [source, source]
        if published_from is not None:
            where.append("a.published >= ?")
            args.append(published_from.isoformat())
        if published_to is not None:
            where.append("a.published <= ?")
            args.append(published_to.isoformat())
        sql = "SELECT p.vid FROM passages p JOIN articles a ON a.id = p.article_id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return np.fromiter((r[0] for r in self._conn.execute(sql + " ORDER BY p.vid", args)),
                           dtype=np.int64)

    def info(self) -> dict:
        """What ``qa info`` shows (the fields of ``qa.IndexInfo``, plus a few)."""
        m = self.manifest
        sources = [r[0] for r in self._conn.execute(
            "SELECT DISTINCT source FROM articles WHERE source IS NOT NULL ORDER BY source")]
        lo, hi = self._conn.execute("SELECT min(published), max(published) FROM articles"
                                    ).fetchone()
        size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
        return {
            "path": str(self.path), "articles": m.articles, "passages": m.passages,
            "sources": sources, "earliest": dt.date.fromisoformat(lo) if lo else None,
            "latest": dt.date.fromisoformat(hi) if hi else None, "model": m.model, "dim": m.dim,
            "index_type": m.index_type, "size_bytes": size, "created": m.created,
            "updated": m.updated, "generation": m.generation, "weights_sha256": m.weights_sha256,
            "format_version": m.format_version,
        }
