"""Copy groups in ``store.sqlite``: articles that carry one story (wire copies, syndicated
reprints, the same text under another headline) share a label, ``articles.copy_group``.

The label is the id of the group's first article, and stays a member's id: when that article
is removed or changes (its text is compared again), the others take the id of the oldest of
them, so no label ever names an article that is gone or that left. ``copy_group`` NULL means
"not compared yet" (an index from before schema 3, or an article just written): such an
article is its own group until ``qa index`` compares it (see :mod:`qa.indexing.copies`). A
database without the column (read-only, not migrated) has every article in a group of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from embeddings.database import has_column, in_lists

GROUP = "COALESCE(copy_group, id)"
ORDER = "indexed_at, rowid"  # oldest-indexed first


def copy_groups(conn: sqlite3.Connection, article_ids: Sequence[str]) -> dict[str, str]:
    """``{article id: group id}`` for the known ones among ``article_ids``."""
    group = GROUP if has_column(conn, "articles", "copy_group") else "id"
    out: dict[str, str] = {}
    for part, marks in in_lists(list(dict.fromkeys(article_ids))):
        out.update(conn.execute(f"SELECT id, {group} FROM articles WHERE id IN ({marks})", part))
    return out


def group_members(conn: sqlite3.Connection, group_ids: Sequence[str]) -> dict[str, list[str]]:
    """``{group id: [article ids, oldest-indexed first]}`` for the known groups."""
    wanted = list(dict.fromkeys(group_ids))
    if not has_column(conn, "articles", "copy_group"):
        return {g: [g] for g in copy_groups(conn, wanted)}
    rows: dict[str, tuple[str, str, int]] = {}
    for part, marks in in_lists(wanted):
        for aid, group, when, rowid in conn.execute(
                f"SELECT id, {GROUP}, indexed_at, rowid FROM articles WHERE copy_group IN "
                f"({marks}) OR id IN ({marks})", part + part):
            rows[aid] = (group, when, rowid)
    out: dict[str, list[str]] = {}
    for aid, (group, *_) in sorted(rows.items(), key=lambda kv: kv[1][1:]):
        if group in wanted:
            out.setdefault(group, []).append(aid)
    return {g: out[g] for g in wanted if g in out}


def count_groups(conn: sqlite3.Connection) -> int:
    """How many distinct stories the index holds (each ungrouped article counts once)."""
    group = GROUP if has_column(conn, "articles", "copy_group") else "id"
    return int(conn.execute(f"SELECT count(DISTINCT {group}) FROM articles").fetchone()[0])


def ungrouped(conn: sqlite3.Connection) -> dict[str, list[int]]:
    """``{article id: its passages' vids}`` of the articles not compared yet, oldest first."""
    if not has_column(conn, "articles", "copy_group"):
        return {}
    out: dict[str, list[int]] = {}
    for aid, vid in conn.execute(
            "SELECT a.id, p.vid FROM articles a JOIN passages p ON p.article_id = a.id "
            "WHERE a.copy_group IS NULL ORDER BY a.indexed_at, a.rowid, p.vid"):
        out.setdefault(aid, []).append(int(vid))
    return out


def leave_groups(conn: sqlite3.Connection, article_ids: Sequence[str]) -> None:
    """Before ``article_ids`` are removed or replaced: the other members of the groups they
    label take the id of their oldest member as the label."""
    leaving = set(article_ids)
    members: dict[str, list[str]] = {}
    for part, marks in in_lists(list(leaving)):
        for aid, group in conn.execute(
                f"SELECT id, copy_group FROM articles WHERE copy_group IN ({marks}) "
                f"ORDER BY {ORDER}", part):
            if aid not in leaving:
                members.setdefault(group, []).append(aid)
    for ids in members.values():
        for part, marks in in_lists(ids):
            conn.execute(f"UPDATE articles SET copy_group = ? WHERE id IN ({marks})",
                         [ids[0], *part])


def set_group(conn: sqlite3.Connection, article_id: str, group_id: str) -> int:
    """Put one article in a group; returns 1 if it is stored (0: unknown id)."""
    return conn.execute("UPDATE articles SET copy_group = ? WHERE id = ?",
                        (group_id, article_id)).rowcount
