"""Index article files: read and chunk (a producer thread) while encoding in batches across
article boundaries (the calling thread), committing a few hundred passages per transaction.

Unchanged files (same path, size and mtime) are not even re-read; unchanged articles (same
``content_hash``) are not re-embedded. Ctrl-C commits what is finished, then raises
:class:`IndexingInterrupted` carrying the summary; a kill loses at most the batch in flight.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from corpus import CorpusError, chunk_article, iter_files
from corpus.loading import SUFFIXES
from embeddings import Encoder, IndexStore
from qa.indexing.file_reader import Done, FileDone, Reader, Unchanged, Work

log = logging.getLogger("qa")

ENCODE_CHUNK = 256  # passages per encode() call and per transaction


class IndexSummary(BaseModel):
    """What an indexing run did. ``passages``: passages embedded and stored by this run."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    seconds: float = 0.0


class IndexingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`index_paths`: finished work is committed; ``summary`` says what."""

    def __init__(self, summary: IndexSummary) -> None:
        super().__init__("indexing interrupted")
        self.summary = summary


@dataclass
class Progress:
    """Handed to the ``progress`` callback after every encoded batch."""

    passages: int  # embedded so far (sentences, in the "sentences" phase)
    total: int | None  # passages to embed in all (an estimate until every file is read)
    articles: int  # articles done (added, updated or unchanged)
    seconds: float
    phase: str = "passages"  # then "sentences": embedding single sentences for answering

    @property
    def rate(self) -> float:
        return self.passages / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if self.total is None or not self.rate:
            return None
        return max(0.0, (self.total - self.passages) / self.rate)


class _Stop(Exception):
    pass


def index_paths(
    paths: Sequence[str | Path],
    store_dir: str | Path | IndexStore,
    *,
    encoder: Encoder,
    prune: bool = False,
    progress: Callable[[Progress], None] | None = None,
    fields: Mapping[str, str] | None = None,
    wait: bool | float = False,
    batch_size: int = 32,
    prepare: bool = True,
) -> IndexSummary:
    """Add the articles under ``paths`` to the index in ``store_dir`` (created if need be).

    ``prepare`` also embeds the new sentences and saves BM25 (:func:`prepare_answers`), so no
    question waits for them. ``store_dir`` may be a store already open for writing (left open).
    Raises ``CorpusError``
    for a missing path or no readable articles, ``IndexStoreError`` for index problems.
    """
    started = time.perf_counter()
    roots = [_root(p) for p in paths]
    if not roots:
        raise CorpusError("no paths given: name files or folders of articles to index")
    files = list({f: (root, f) for root in roots for f in iter_files(root)}.values())
    if not files:
        kinds = ", ".join(sorted(SUFFIXES))
        raise CorpusError(f"no article files ({kinds}) in {', '.join(map(str, roots))}: "
                          "give files or folders that hold some")
    store, created = _open(store_dir, encoder, wait)
    summary = IndexSummary()
    try:
        _run(store, files, roots, encoder, summary, prune, progress, fields, batch_size, started)
        try:
            if prepare:
                prepare_answers(store, encoder, progress)
        except KeyboardInterrupt:  # the passages are all committed; sentences can wait
            raise IndexingInterrupted(summary) from None
    except BaseException:
        if created and store.counts()[0] == 0:
            _discard(store)
            created = False
        raise
    finally:
        summary.seconds = round(time.perf_counter() - started, 2)
        if not isinstance(store_dir, IndexStore) and store.writable and store._conn is not None:
            store.close()
    return summary


def _run(store, files, roots, encoder, summary, prune, progress, fields, batch_size, started):
    max_tokens = min(200, encoder.max_tokens)
    reader = Reader(store, files, fields=fields, chunk=lambda a: _chunk(a, encoder, max_tokens),
                    recipe={"max_tokens": max_tokens, "model": encoder.name})
    stop = threading.Event()
    pending: list = []
    state = {"passages": 0, "articles": 0, "t0": 0.0}

    def report(n: int = 0) -> None:
        if stop.is_set():
            raise _Stop
        state["passages"] += n
        if progress:
            progress(Progress(state["passages"], reader.total_estimate(), state["articles"],
                              time.perf_counter() - (state["t0"] or started)))

    def commit(items: list) -> None:
        works = [it for it in items if isinstance(it, Work)]
        texts = [p.text for w in works for p in w.passages]
        if texts and not state["t0"]:
            if hasattr(encoder, "warm_up"):
                encoder.warm_up()  # the rate shown leaves out loading the model
            state["t0"] = time.perf_counter()
        vectors = encoder.encode(texts, batch_size=batch_size, progress=report) if texts else None
        offset = 0
        with store.batch() as b:
            for it in items:
                if isinstance(it, Work):
                    n = len(it.passages)
                    b.upsert(it.article, it.passages, vectors[offset:offset + n])
                    offset += n
                elif isinstance(it, Unchanged):
                    for article in it.moved:
                        b.update_metadata(article)
                elif isinstance(it, FileDone):
                    b.touch_file(it.path, it.size, it.mtime_ns, it.recipe)
        for it in items:
            if isinstance(it, Work):
                setattr(summary, it.status, getattr(summary, it.status) + 1)
                summary.passages += len(it.passages)
            elif isinstance(it, Unchanged):
                summary.unchanged += it.count
            state["articles"] += it.articles
        reader.consumed(len(texts))

    restore = _catch_sigint(stop)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # the encoder thread gets the GIL back sooner from the reader
    reader.start()
    try:
        queued = 0  # passages in `pending`
        while True:
            item = reader.get(timeout=0.5)
            report()  # stops here after a Ctrl-C
            if item is None or isinstance(item, Done):
                if pending:
                    commit(pending)
                    pending, queued = [], 0
                if item is None:
                    continue
                break
            pending.append(item)
            queued += len(item.passages) if isinstance(item, Work) else 0
            if queued >= ENCODE_CHUNK or len(pending) >= 2000:
                commit(pending)
                pending, queued = [], 0
        if reader.articles_seen == 0:
            raise CorpusError(f"no readable articles in {', '.join(map(str, roots))}: check the "
                              "warnings above (or name JSON fields with --fields text=NAME)")
        if prune:
            with store.batch() as b:
                summary.removed = b.remove(reader.stale_ids(store, roots))
                b.forget_files(reader.vanished_files(store, roots))
    except (_Stop, KeyboardInterrupt):
        done = []
        for it in pending:  # commit what precedes the first article still to embed
            if isinstance(it, Work):
                break
            done.append(it)
        stop.clear()
        if done:
            commit(done)
        raise IndexingInterrupted(summary) from None
    finally:
        reader.stop()
        restore()
        sys.setswitchinterval(switch)


def prepare_answers(store: IndexStore, encoder: Encoder,
                    progress: Callable[[Progress], None] | None = None) -> int:
    """Embed the single sentences answers are picked from, and build the BM25 index, now rather
    than on the first question. Only sentences not embedded before are. Returns how many."""
    from qa.engine.lexical import LexicalIndex
    from qa.engine.sentence_vectors import SentenceVectors

    done, t0 = 0, time.perf_counter()

    def report(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(Progress(done, None, 0, time.perf_counter() - t0, phase="sentences"))

    embedded = SentenceVectors(encoder, store.path).fill(store.iter_passages(), progress=report)
    LexicalIndex.for_store(store)
    return embedded


def _chunk(article, encoder: Encoder, max_tokens: int):
    """Passages that fit the model; a still-too-long one is cut smaller, never truncated."""
    limit = max_tokens
    for _ in range(4):
        passages = chunk_article(article, max_tokens=limit, count_tokens=encoder.count_tokens)
        counts = encoder.count_tokens([p.text for p in passages])
        if not counts or max(counts) <= encoder.max_tokens:
            return passages
        limit = max(16, limit * 3 // 4)
    log.warning("article %s (%s): a passage of %d word pieces exceeds the model's %d; its end "
                "will not be searchable", article.id, article.path, max(counts), encoder.max_tokens)
    return passages


def _root(path: str | Path) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise CorpusError(f"{path}: no such file or folder; give a file or folder of articles")
    return p.resolve()


def _open(store_dir, encoder: Encoder, wait) -> tuple[IndexStore, bool]:
    if isinstance(store_dir, IndexStore):
        store_dir.check_model(encoder.name, encoder.dim, encoder.weights_sha256)
        return store_dir, False
    path = Path(store_dir).expanduser().absolute()
    if (path / "manifest.json").exists() or (path / "store.sqlite").exists():
        store = IndexStore.open(path, writable=True, wait=wait)
        try:
            store.check_model(encoder.name, encoder.dim, encoder.weights_sha256)
        except BaseException:
            store.close()
            raise
        return store, False
    store = IndexStore.create(path, model=encoder.name, dim=encoder.dim,
                              weights_sha256=encoder.weights_sha256, wait=wait)
    return store, True


def _discard(store: IndexStore) -> None:
    """Remove an index this run created and filled with nothing."""
    path = store.path
    store.close()
    for name in ("manifest.json", "store.sqlite", "store.sqlite-wal", "store.sqlite-shm",
                 "faiss.index", ".write.lock"):
        (path / name).unlink(missing_ok=True)
    try:
        path.rmdir()
    except OSError:
        pass


def _catch_sigint(stop: threading.Event) -> Callable[[], None]:
    """First Ctrl-C: finish gracefully (``stop`` is set); a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, handler)
    return lambda: signal.signal(signal.SIGINT, previous)


__all__ = ["IndexSummary", "IndexingInterrupted", "Progress", "index_paths", "prepare_answers"]
