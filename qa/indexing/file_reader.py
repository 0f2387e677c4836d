"""The producer side of indexing: a thread that reads files, drops what the index already has,
chunks the rest and queues it, in order, for the encoder."""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corpus import DEFAULT_MAX_ARTICLE_BYTES, context_prefix, load_file
from corpus.models import Article, Passage
from embeddings import PassageStore, StoreLookup, WriteBatch
from qa.indexing.summary import IndexSummary

log = logging.getLogger("qa")

MAX_AHEAD = 20_000  # passages read and chunked but not yet embedded


class Item:
    """What the reader queues for the encoding thread, applied there in order: written in a
    store transaction (:meth:`write`, with its passages' vectors), then, once committed,
    counted in the summary (:meth:`tally`)."""

    @property
    def embeds(self) -> int:
        """How many passages of this item are to be embedded."""
        return 0

    @property
    def articles(self) -> int:
        """How many articles this item finishes (for the progress shown)."""
        return 0

    def texts(self) -> list[str]:
        """Per passage to embed, what is embedded (its context header, then its text)."""
        return []

    def passage_texts(self) -> list[str]:
        """Per passage to embed, its own text (what is stored and cited)."""
        return []

    def spans(self) -> list[list[tuple[int, int]]]:
        """Per passage to embed, its sentences as ``(start, end)`` offsets into its text."""
        return []

    def write(self, batch: WriteBatch, vectors: np.ndarray,
              sentences: Sequence[np.ndarray] = ()) -> None:
        """Add this item to the open transaction ``batch``; ``vectors``: one per passage;
        ``sentences``: per passage, one vector per sentence."""

    def tally(self, summary: IndexSummary) -> None:
        """Count this (committed) item in ``summary``."""


@dataclass
class Work(Item):
    """An article to embed, new or (``replaces``) a changed version of a stored one."""

    article: Article
    passages: list[Passage]
    replaces: bool = False

    @property
    def embeds(self) -> int:
        return len(self.passages)

    @property
    def articles(self) -> int:
        return 1

    @property
    def prefix(self) -> str:
        """The article's context header (and a blank line) embedded before each passage."""
        a = self.article
        return context_prefix(a.title, a.source, a.published)

    def texts(self) -> list[str]:
        """What is embedded: each passage with its article's context header in front
        (:func:`corpus.indexed_text`); stored and cited is the passage's own text."""
        prefix = self.prefix
        return [prefix + p.text for p in self.passages]

    def passage_texts(self) -> list[str]:
        return [p.text for p in self.passages]

    def spans(self) -> list[list[tuple[int, int]]]:
        """Sentence offsets into :meth:`texts`: past the header, so a late-chunked sentence
        vector pools its own word pieces, not the header's."""
        shift = len(self.prefix)
        return [[(s.start - p.start + shift, s.end - p.start + shift) for s in p.sentences]
                for p in self.passages]

    def write(self, batch: WriteBatch, vectors: np.ndarray,
              sentences: Sequence[np.ndarray] = ()) -> None:
        batch.upsert(self.article, self.passages, vectors, list(sentences))

    def tally(self, summary: IndexSummary) -> None:
        if self.replaces:
            summary.updated += 1
        else:
            summary.added += 1
        summary.passages += len(self.passages)


@dataclass
class Unchanged(Item):
    """Articles already stored as they are; ``moved`` ones need their path or URL updated."""

    count: int
    moved: list[Article] = field(default_factory=list)

    @property
    def articles(self) -> int:
        return self.count

    def write(self, batch: WriteBatch, vectors: np.ndarray,
              sentences: Sequence[np.ndarray] = ()) -> None:
        for article in self.moved:
            batch.update_metadata(article)

    def tally(self, summary: IndexSummary) -> None:
        summary.unchanged += self.count

    def add(self, article: Article, *, moved: bool) -> None:
        self.count += 1
        if moved:
            self.moved.append(article)


@dataclass
class FileDone(Item):
    """Every article of this file is queued: once they are committed, so is the file's stamp
    (so an unchanged file is not even re-read next time)."""

    path: str
    size: int
    mtime_ns: int
    recipe: str

    def write(self, batch: WriteBatch, vectors: np.ndarray,
              sentences: Sequence[np.ndarray] = ()) -> None:
        batch.touch_file(self.path, self.size, self.mtime_ns, self.recipe)


class Done:
    """Every file is read: nothing follows."""


class Reader:
    """Reads ``files`` (``(root, file)`` pairs) in a thread; :meth:`get` yields work items."""

    def __init__(self, store: PassageStore, files: list[tuple[Path, Path]], *,
                 fields: Mapping[str, str] | None, chunk: Callable[[Article], list[Passage]],
                 recipe: Mapping[str, Any] | None = None,
                 max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES) -> None:
        self._store = store
        self._files = files
        self._fields = dict(fields) if fields else None
        self._chunk = chunk
        self._max_article_bytes = max_article_bytes
        self.recipe = json.dumps({"fields": self._fields, **(recipe or {})}, sort_keys=True)
        self._queue: queue.Queue[Item | Done | BaseException] = queue.Queue()
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._ahead = 0
        self._thread: threading.Thread | None = None
        self.queued_passages = 0
        self.bytes_total = 0
        self.bytes_done = 0
        self.finished = False
        self.articles_seen = 0
        self.skipped_files: set[str] = set()  # unchanged (not re-read) or unreadable: kept
        self.parsed: dict[str, set[str]] = {}  # file -> ids of the articles read from it

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="qa-index-reader", daemon=True)
        self._thread.start()

    def get(self, timeout: float | None) -> Item | Done | None:
        """The next item, or ``None`` if none came within ``timeout`` seconds. Re-raises an
        error of the reading thread."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    def consumed(self, passages: int) -> None:
        with self._cond:
            self._ahead -= passages
            self._cond.notify_all()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def total_estimate(self) -> int | None:
        if self.finished:
            return self.queued_passages
        if self.bytes_done and self.bytes_total:
            return round(self.queued_passages * self.bytes_total / self.bytes_done)
        return None

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        lookup = self._store.lookup()
        try:
            stamps = lookup.file_stamps()
            todo: list[tuple[Path, os.stat_result]] = []
            for _root, file in self._files:
                stat = file.stat()
                key = str(file)
                if stamps.get(key) == (stat.st_size, stat.st_mtime_ns, self.recipe):
                    self.skipped_files.add(key)
                    n = lookup.count_articles(key)
                    self.articles_seen += n
                    self._put(Unchanged(n))
                else:
                    todo.append((file, stat))
                    self.bytes_total += stat.st_size
            seen: set[str] = set()
            for file, stat in todo:
                if self._stop.is_set():
                    return
                self._read(file, stat, lookup, seen)
                self.bytes_done += stat.st_size
            self.finished = True
            self._queue.put(Done())  # after the last item: the queue keeps order
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._queue.put(exc)
        finally:
            lookup.close()

    def _read(self, file: Path, stat: os.stat_result, lookup: StoreLookup, seen: set[str]) -> None:
        key = str(file)
        unreadable: list[str] = []

        def on_skip(where: str, reason: str) -> None:
            if where == key:
                unreadable.append(reason)
            log.warning("skipped %s: %s", where, reason)

        ids = self.parsed.setdefault(key, set())
        unchanged = Unchanged(0)
        for article in load_file(file, fields=self._fields, on_skip=on_skip,
                                 max_article_bytes=self._max_article_bytes):
            if self._stop.is_set():
                return
            if not self._first_seen(article, key, seen):
                continue
            ids.add(article.id)
            stored = lookup.article_meta(article.id)
            if stored and stored[0] == article.content_hash:
                unchanged.add(article, moved=tuple(stored[1:]) != (article.path, article.url,
                                                                   article.site))
                continue
            if unchanged.count:
                self._put(unchanged)
                unchanged = Unchanged(0)
            passages = self._chunk(article)
            self._put(Work(article, passages, replaces=stored is not None))
        if unchanged.count:
            self._put(unchanged)
        if unreadable:
            self.skipped_files.add(key)
            self.parsed.pop(key, None)
        else:
            self._put(FileDone(key, stat.st_size, stat.st_mtime_ns, self.recipe))

    def _first_seen(self, article: Article, key: str, seen: set[str]) -> bool:
        """Whether ``article`` is the first of its id in this run (a later one is skipped)."""
        if article.id in seen:
            log.warning("skipped an article in %s: same id as an earlier one (%s)", key,
                        article.title[:60])
            return False
        seen.add(article.id)
        self.articles_seen += 1
        return True

    def _put(self, item: Item) -> None:
        n = item.embeds
        with self._cond:
            while self._ahead > MAX_AHEAD and not self._stop.is_set():
                self._cond.wait(0.5)
            self._ahead += n
        self.queued_passages += n
        self._queue.put(item)

    # -- pruning ---------------------------------------------------------------------------
    def stale_ids(self, store: PassageStore, roots: list[Path]) -> list[str]:
        """Stored articles under ``roots`` that this run did not find (their file is gone, or
        they are no longer in it). Articles of files skipped as unchanged or unreadable stay."""
        lookup = store.lookup()
        try:
            stale: list[str] = []
            for root in roots:
                for aid, path in lookup.articles_under(str(root)):
                    if path in self.skipped_files:
                        continue
                    if path not in self.parsed or aid not in self.parsed[path]:
                        stale.append(aid)
            return sorted(set(stale))
        finally:
            lookup.close()

    def vanished_files(self, store: PassageStore, roots: list[Path]) -> list[str]:
        present = {str(f) for _, f in self._files}
        lookup = store.lookup()
        try:
            return [p for root in roots for p in lookup.files_under(str(root)) if p not in present]
        finally:
            lookup.close()
