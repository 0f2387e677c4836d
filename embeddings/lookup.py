"""Read-only questions an indexing run asks of an index, on a connection of its own."""

from __future__ import annotations

from pathlib import Path

from embeddings.database import Row, connect
from embeddings.errors import translated


class Lookup:
    """Made by :meth:`IndexStore.lookup`, for a thread of its own; close it when done."""

    def __init__(self, database: Path) -> None:
        self._root = database.parent
        with translated(self._root):
            self._conn = connect(database, readonly=True)

    def article_meta(self, article_id: str) -> Row | None:
        """``(content_hash, path, url, site)`` of a stored article."""
        with translated(self._root):
            row: Row | None = self._conn.execute(
                "SELECT content_hash, path, url, site FROM articles WHERE id = ?",
                (article_id,)).fetchone()
        return row

    def file_stamps(self) -> dict[str, tuple[int, int, str | None]]:
        """``{path: (size, mtime_ns, recipe)}`` of every file recorded as indexed."""
        with translated(self._root):
            return {p: (s, m, r) for p, s, m, r in self._conn.execute(
                "SELECT path, size, mtime_ns, recipe FROM files")}

    def count_articles(self, path: str) -> int:
        with translated(self._root):
            return int(self._conn.execute("SELECT count(*) FROM articles WHERE path = ?",
                                          (path,)).fetchone()[0])

    def articles_under(self, root: str) -> list[tuple[str, str]]:
        """``(id, path)`` of the stored articles read from ``root`` or a file below it."""
        prefix = root.rstrip("/") + "/"
        with translated(self._root):
            return [(str(i), str(p)) for i, p in self._conn.execute(
                "SELECT id, path FROM articles WHERE path = ? OR substr(path, 1, ?) = ?",
                (root, len(prefix), prefix))]

    def files_under(self, root: str) -> list[str]:
        """The recorded files at ``root`` or below it."""
        prefix = root.rstrip("/") + "/"
        with translated(self._root):
            return [str(r[0]) for r in self._conn.execute(
                "SELECT path FROM files WHERE path = ? OR substr(path, 1, ?) = ?",
                (root, len(prefix), prefix))]

    def close(self) -> None:
        self._conn.close()
