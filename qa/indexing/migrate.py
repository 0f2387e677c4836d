"""Copy a folder index into another store (Qdrant) without embedding anything again.

Articles go over with their passages, passage vectors and sentence vectors as stored (the
int8 codes come back as the same unit vectors); then the file records (so ``qa index`` on the
same folders finds the files unchanged) and the copy groups. Articles the target already holds
in the same version are skipped, so a copy cut short is resumed by running it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from pydantic import BaseModel

from corpus.models import Article, Passage
from embeddings import PassageStore

CHUNK = 256  # passages per batch


class MigrateSummary(BaseModel):
    articles: int = 0
    skipped: int = 0
    passages: int = 0
    files: int = 0
    seconds: float = 0.0


def copy_index(source: PassageStore, target: PassageStore, *,
               progress: Callable[[MigrateSummary], None] | None = None) -> MigrateSummary:
    """Copy every article of ``source`` into ``target`` (open for writing)."""
    started = time.perf_counter()
    summary = MigrateSummary()
    by_article: dict[str, list[int]] = {}
    for p in source.iter_passages():
        by_article.setdefault(p.article_id, []).append(p.vid)
    lookup = target.lookup()
    try:
        pending: list[Article] = []
        size = 0
        for article in _articles(source, by_article):
            stored = lookup.article_meta(article.id)
            if stored is not None and stored[0] == article.content_hash:
                summary.skipped += 1
                continue
            pending.append(article)
            size += len(by_article.get(article.id, []))
            if size >= CHUNK:
                _copy(source, target, pending, by_article, summary)
                pending, size = [], 0
                if progress:
                    progress(summary)
        _copy(source, target, pending, by_article, summary)
        stamps = source.lookup()
        try:
            files = stamps.file_stamps()
        finally:
            stamps.close()
    finally:
        lookup.close()
    ids = sorted(by_article)
    groups = source.copy_groups(ids)
    with target.batch() as batch:
        for path, (size, mtime_ns, recipe) in files.items():
            batch.touch_file(path, size, mtime_ns, recipe)
        for aid, group in groups.items():
            batch.set_copy_group(aid, group)
    summary.files = len(files)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _articles(source: PassageStore, by_article: dict[str, list[int]]) -> list[Article]:
    """The source's articles (every one has a passage, as ``qa index`` stores them)."""
    found = [source.article(aid) for aid in by_article]
    return [a for a in found if a is not None]


def _copy(source: PassageStore, target: PassageStore, articles: Sequence[Article],
          by_article: dict[str, list[int]], summary: MigrateSummary) -> None:
    if not articles:
        return
    with target.batch() as batch:
        for article in articles:
            vids = by_article.get(article.id, [])
            stored = source.passages(vids)
            passages = [Passage(id=p.id, article_id=p.article_id, index=p.index, text=p.text,
                                start=p.start, end=p.end, sentences=p.sentences)
                        for p in stored]
            sentences = source.sentence_vectors(vids)
            batch.upsert(article, passages, source.vectors(vids),
                         [sentences[v] for v in vids] if all(v in sentences for v in vids)
                         else None)
            summary.articles += 1
            summary.passages += len(passages)
