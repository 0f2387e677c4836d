"""``qa index --rebuild``: a fresh store from the article files a (damaged) store knew of.

1. :func:`embeddings.recover_files` lists the files, with the recipe (JSON fields, article size
   limit) each was read with, from a copy of the damaged database;
2. the list is saved in the index folder (``rebuild-files.json``, written
   atomically), with the damaged database's size and modification time;
3. :func:`embeddings.set_aside` renames the damaged ``store.sqlite`` to
   ``store.sqlite.damaged-<time>`` (kept, never deleted);
4. the files are indexed into a new store, as ``qa index`` would, then the list is removed.

Killed anywhere, the same command resumes: before step 2 nothing has changed; after it, the
saved list (not the half-built new store) says what to read, the damaged database is set aside
if it is still in place (same size and time), and files already in the new store are skipped as
unchanged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from corpus import DEFAULT_MAX_ARTICLE_BYTES, CorpusError
from embeddings import (
    IndexLayout,
    IndexStoreError,
    RecoveredFile,
    TextEncoder,
    atomic_write,
    recover_files,
    set_aside,
)
from qa.indexing.pipeline import index_paths
from qa.indexing.summary import IndexingInterrupted, IndexSummary, Progress

log = logging.getLogger("qa")


Group = tuple[str, int]  # (the JSON fields as sorted JSON, the article size limit)


def rebuild(index_dir: str | Path, *, encoder: TextEncoder,
            progress: Callable[[Progress], None] | None = None,
            fields: dict[str, str] | None = None,
            max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES,
            release_encoder: bool = False) -> IndexSummary:
    """Rebuild the store in ``index_dir`` from the article files it lists (see the module).
    ``fields`` and ``max_article_bytes`` apply to files whose recipe did not survive;
    ``release_encoder`` as for :func:`~qa.indexing.index_paths` (after the last group). Raises
    ``IndexStoreError`` if there is nothing to rebuild from, ``IndexingInterrupted`` on Ctrl-C
    (run it again to go on)."""
    layout = IndexLayout(Path(index_dir).expanduser().absolute())
    saved = layout.rebuild_list
    if not saved.exists():
        files = recover_files(layout.root)
        if not files:
            raise IndexStoreError(f"{layout.database} lists no article files to rebuild from: "
                                  "index them again with `qa index PATH`")
        plan = {"database": _stamp(layout.database), "files": [_dump(f) for f in files]}
        atomic_write(saved, [json.dumps(plan).encode()])
    stamp, files = _load(saved)
    if layout.database.exists() and _stamp(layout.database) == stamp:
        set_aside(layout.root)  # not done yet: this is still the damaged database
    root = layout.root
    total = IndexSummary()
    groups = _groups(files, fields, max_article_bytes)
    for n, ((fields_json, limit), paths) in enumerate(groups.items(), 1):
        try:
            summary = index_paths(paths, root, encoder=encoder, progress=progress,
                                  fields=json.loads(fields_json), max_article_bytes=limit,
                                  prepare=n == len(groups),
                                  release_encoder=release_encoder and n == len(groups))
        except IndexingInterrupted as exc:
            _add(total, exc.summary)
            raise IndexingInterrupted(total) from None
        _add(total, summary)
    saved.unlink()
    return total


def _dump(file: RecoveredFile) -> dict[str, Any]:
    return {"path": str(file.path), "recipe": file.recipe}


def _stamp(database: Path) -> list[int]:
    stat = database.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _load(saved: Path) -> tuple[list[int], list[RecoveredFile]]:
    try:
        plan = json.loads(saved.read_text(encoding="utf-8"))
        files = [RecoveredFile(Path(row["path"]), row.get("recipe")) for row in plan["files"]]
        return list(plan["database"]), files
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexStoreError(f"{saved} is unreadable ({exc}): remove it and index the "
                              "articles again with `qa index PATH`") from None


def _groups(files: list[RecoveredFile], fields: dict[str, str] | None,
            max_article_bytes: int) -> dict[Group, list[Path]]:
    """The files still there, grouped by how they are to be read."""
    groups: dict[Group, list[Path]] = {}
    for file in files:
        if not file.path.is_file():
            log.warning("skipped %s: no longer there, so not in the rebuilt index", file.path)
            continue
        recipe = file.recipe or {}
        how = (json.dumps(recipe.get("fields", fields), sort_keys=True),
               int(recipe.get("max_article_bytes", max_article_bytes)))
        groups.setdefault(how, []).append(file.path)
    if not groups:
        raise CorpusError("none of the article files the index knew of is still there: index "
                          "them again with `qa index PATH`")
    return groups


def _add(total: IndexSummary, part: IndexSummary) -> None:
    total.added += part.added
    total.updated += part.updated
    total.removed += part.removed
    total.unchanged += part.unchanged
    total.passages += part.passages
    total.seconds = round(total.seconds + part.seconds, 2)
