"""The read side of an index's database: passages, vectors, articles, filters and figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from corpus.models import Article
from embeddings import database as db
from embeddings import groups
from embeddings.errors import IndexStoreError, translated
from embeddings.models import Manifest, StoredPassage


class StoreReads:
    """Queries that only read SQLite, on the store's connection (``store.reads``). A damaged
    database or another SQLite failure is an :class:`IndexStoreError` naming the file."""

    def __init__(self, store_db: db.StoreConnection, dim: int) -> None:
        self._db = store_db
        self.root = store_db.root
        self.dim = dim
        self._manifest: Manifest | None = None

    @property
    def manifest(self) -> Manifest:
        """The manifest as of the last commit (cheap: recomputed only when that changes)."""
        with self._db.lock, translated(self.root):
            meta = db.get_meta(self._db.conn)
            cached = self._manifest
            if (cached is not None and cached.generation == int(meta["generation"])
                    and cached.index_type == meta["index_type"]):
                return cached
            articles, passages = self.counts()
            self._manifest = make_manifest(meta, articles, passages)
            return self._manifest

    @property
    def generation(self) -> int:
        """+1 for every committed write: a cheap way to tell that the index changed."""
        with self._db.lock, translated(self.root):
            return db.generation(self._db.conn)

    def meta(self) -> dict[str, str]:
        with self._db.lock, translated(self.root):
            return db.get_meta(self._db.conn)

    def counts(self) -> tuple[int, int]:
        """``(articles, passages)`` stored."""
        with self._db.lock, translated(self.root):
            (a,), (p,) = (self._db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()
                          for t in ("articles", "passages"))
            return int(a), int(p)

    def passages(self, vids: Sequence[int]) -> list[StoredPassage]:
        """The passages with these vids, in the same order. Vids that are ``-1`` or no longer
        stored (removed by a writer since the search) are left out: match by ``.vid``."""
        rows: dict[int, db.Row] = {}
        ids = [int(v) for v in vids if int(v) >= 0]
        with self._db.lock, translated(self.root):
            for part, marks in db.in_lists(ids):
                for row in self._db.conn.execute(
                        f"SELECT {db.PASSAGE_COLUMNS} FROM passages p JOIN articles a "
                        f"ON a.id = p.article_id WHERE p.vid IN ({marks})", part):
                    rows[row[0]] = row
        return [db.passage_from_row(rows[int(v)]) for v in vids if int(v) in rows]

    def iter_passages(self) -> Iterator[StoredPassage]:
        """Every passage, ordered by vid."""
        with translated(self.root):
            cur = self._db.conn.cursor()
            cur.execute(f"SELECT {db.PASSAGE_COLUMNS} FROM passages p JOIN articles a "
                        "ON a.id = p.article_id ORDER BY p.vid")
            for row in cur:
                yield db.passage_from_row(row)

    def vectors(self, vids: Sequence[int]) -> np.ndarray:
        """float32 ``(len(vids), dim)``; :class:`IndexStoreError` if a vid is not stored."""
        with self._db.lock, translated(self.root):
            try:
                return db.vectors_of(self._db.conn, vids, self.dim)
            except KeyError as exc:
                raise IndexStoreError(f"no passage with vid {exc.args[0]} in "
                                      f"{self.root}") from None

    def sentence_vectors(self, vids: Sequence[int]) -> dict[int, np.ndarray]:
        """``{vid: (sentences, dim) float32}`` for the passages whose sentence vectors are
        stored (an index built before they were, or an indexing run cut short, lacks some)."""
        with self._db.lock, translated(self.root):
            return db.sentence_vectors_of(self._db.conn, vids, self.dim)

    def passages_without_sentence_vectors(self) -> list[int]:
        """The vids of passages whose sentence vectors are not stored, in order."""
        with self._db.lock, translated(self.root):
            return db.vids_without_sentence_vectors(self._db.conn)

    def article(self, article_id: str) -> Article | None:
        with self._db.lock, translated(self.root):
            row = self._db.conn.execute(f"SELECT {db.ARTICLE_COLUMNS} FROM articles WHERE id = ?",
                                        (article_id,)).fetchone()
        return db.article_from_row(row) if row else None

    def articles(self) -> Iterator[Article]:
        with translated(self.root):
            cur = self._db.conn.cursor()
            cur.execute(f"SELECT {db.ARTICLE_COLUMNS} FROM articles ORDER BY id")
            for row in cur:
                yield db.article_from_row(row)

    def copy_groups(self, article_ids: Sequence[str]) -> dict[str, str]:
        """The copy group of each known article (see :mod:`embeddings.groups`)."""
        with self._db.lock, translated(self.root):
            return groups.copy_groups(self._db.conn, article_ids)

    def group_members(self, group_ids: Sequence[str]) -> dict[str, list[str]]:
        """The articles of each known group, oldest-indexed first."""
        with self._db.lock, translated(self.root):
            return groups.group_members(self._db.conn, group_ids)

    def ungrouped(self) -> dict[str, list[int]]:
        """``{article id: vids}`` of the articles not yet compared for copies, oldest first."""
        with self._db.lock, translated(self.root):
            return groups.ungrouped(self._db.conn)

    def vids_matching(self, *, source: str | None = None, published_from: dt.date | None = None,
                      published_to: dt.date | None = None, undated: bool = False
                      ) -> np.ndarray:
        """The vids of passages whose article matches all the filters given (``source``
        case-insensitively, against the outlet or the site; dates inclusive)."""
        where: list[str] = []
        args: list[str] = []
        if source is not None:
            where.append("(a.source = ? COLLATE NOCASE OR a.site = ? COLLATE NOCASE)")
            args += [source, source]
        dates: list[str] = []
        if published_from is not None:
            dates.append("a.published >= ?")
            args.append(published_from.isoformat())
        if published_to is not None:
            dates.append("a.published <= ?")
            args.append(published_to.isoformat())
        if dates:
            within = " AND ".join(dates)
            where.append(f"(({within}) OR a.published IS NULL)" if undated else within)
        sql = "SELECT p.vid FROM passages p JOIN articles a ON a.id = p.article_id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._db.lock, translated(self.root):
            return np.fromiter((r[0] for r in self._db.conn.execute(sql + " ORDER BY p.vid",
                                                                    args)), dtype=np.int64)

    def info(self) -> dict[str, Any]:
        """What ``qa info`` shows (the fields of ``qa.IndexInfo``, plus a few)."""
        m = self.manifest
        with self._db.lock, translated(self.root):
            sources = [r[0] for r in self._db.conn.execute(
                "SELECT DISTINCT source FROM articles WHERE source IS NOT NULL ORDER BY source")]
            lo, hi = self._db.conn.execute("SELECT min(published), max(published) FROM articles"
                                           ).fetchone()
            copy_groups = groups.count_groups(self._db.conn)
        size = sum(f.stat().st_size for f in self.root.iterdir() if f.is_file())
        return {
            "path": str(self.root), "articles": m.articles, "passages": m.passages,
            "sources": sources, "earliest": dt.date.fromisoformat(lo) if lo else None,
            "latest": dt.date.fromisoformat(hi) if hi else None, "model": m.model, "dim": m.dim,
            "index_type": m.index_type, "size_bytes": size, "created": m.created,
            "updated": m.updated, "generation": m.generation, "weights_sha256": m.weights_sha256,
            "format_version": m.format_version, "copy_groups": copy_groups,
        }


def make_manifest(meta: dict[str, str], articles: int, passages: int) -> Manifest:
    return Manifest(
        format_version=int(meta["format_version"]), model=meta["model"], dim=int(meta["dim"]),
        weights_sha256=meta["weights_sha256"], index_type=meta["index_type"],
        articles=articles, passages=passages, generation=int(meta["generation"]),
        created=dt.datetime.fromisoformat(meta["created"]),
        updated=dt.datetime.fromisoformat(meta["updated"]))
