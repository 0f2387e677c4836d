"""One indexing run, a step at a time: the reader thread queues items (articles to embed,
unchanged articles, file stamps); this thread gathers them into batches, embeds a batch's
passages in one ``encode_passages`` call (passage vectors and, from the same forward pass, their
sentences' vectors) and writes the batch in one transaction, in reading order.

Crash safety rests on that order: a file's stamp is committed only with (or after) its last
article, so a killed run redoes at most the batch in flight and re-reads only unfinished files.
Ctrl-C stops at the next encoder batch; the items queued before the first article still to
embed are committed, then :class:`IndexingInterrupted` carries the summary out.

No interpreter-wide tuning: a shorter ``sys.setswitchinterval`` (0.5 ms, to hand the GIL back
from the reader sooner) made no measurable difference with ``python -m bench index`` (240
articles, alternating runs: pipeline/bare encoder 94% with it, 96% without; CPU per passage
equal), so it was dropped.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import signal
import threading
import time
from collections.abc import Callable, Container, Mapping
from pathlib import Path
from types import FrameType

import numpy as np

from corpus import DEFAULT_MAX_ARTICLE_BYTES, CorpusError, chunk_sized, context_prefix
from corpus.models import Article, Passage
from embeddings import IndexStoreError, PassageStore, TextEncoder
from qa.indexing.copies import CopyGrouper
from qa.indexing.file_reader import Done, Item, Reader, Work
from qa.indexing.summary import IndexingInterrupted, IndexSummary, Progress

log = logging.getLogger("qa")

# Passages fill 256 word pieces with their article's context header in front (MiniLM's whole
# window), or the model's own limit if that is lower. Cut at 200 without the header, they held
# the answer to fewer real news questions: RealTimeQA passage hit@5 0.796 -> 0.841, held-out
# half (README, "Measured").
PASSAGE_TOKENS = 256
# a passage whose packed size (and header) comes this close to the model's limit is counted
# again, whole (chunk_for_model)
FIT_SLACK = 4
ENCODE_CHUNK = 256  # passages per encode() call and per transaction
# Items held before a commit even with fewer than ENCODE_CHUNK passages among them: a re-run
# over thousands of unchanged files (items that embed nothing) still commits their stamps and
# shows progress every so often, and holds little memory meanwhile.
MAX_PENDING_ITEMS = 2000
POLL_SECONDS = 0.5  # how long to wait for the reader before embedding what is already here
_NO_VECTORS = np.empty((0, 0), dtype=np.float32)  # for a batch with nothing to embed


class _Stop(Exception):
    """Raised at the next progress report after the first Ctrl-C."""


class IndexRun:
    """Index ``files`` (``(root, file)`` pairs) into ``store``; :meth:`run` does it once."""

    def __init__(self, store: PassageStore, files: list[tuple[Path, Path]], roots: list[Path],
                 encoder: TextEncoder, *, prune: bool = False,
                 progress: Callable[[Progress], None] | None = None,
                 fields: Mapping[str, str] | None = None, batch_size: int | None = None,
                 started: float | None = None,
                 max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES, copies: bool = True) -> None:
        self.store = store
        self.roots = roots
        self.encoder = encoder
        self.prune = prune
        self.progress = progress
        self.batch_size = batch_size or encoder.batch_size
        self.started = time.perf_counter() if started is None else started
        max_tokens = passage_tokens(encoder)
        self.reader = Reader(store, files, fields=fields,
                             chunk=lambda article: chunk_for_model(article, encoder, max_tokens),
                             recipe=_recipe(encoder, max_tokens, max_article_bytes),
                             max_article_bytes=max_article_bytes)
        self.summary = IndexSummary()
        self.stop = threading.Event()  # set by the first Ctrl-C
        self.pending: list[Item] = []  # read, not yet committed
        self.pending_passages = 0  # passages to embed among them
        self.embedded = 0  # passages embedded so far
        self.articles_done = 0  # articles committed (added, updated or unchanged)
        self.encoding_since: float | None = None  # when the model was ready
        # digest of a passage's text -> its vid, for passages this run stored: wire copies
        # repeat whole paragraphs across outlets, read back rather than encoded again
        self.seen: dict[bytes, int] = {}
        # copy groups (qa.indexing.copies): the articles of each batch, once it is committed
        self.grouper = CopyGrouper(store) if copies else None

    def run(self) -> IndexSummary:
        """Index everything, then prune if asked. Raises :class:`IndexingInterrupted` on
        Ctrl-C, ``CorpusError`` if no file held a readable article."""
        restore_sigint = _catch_sigint(self.stop)
        self.reader.start()
        try:
            if self.grouper is not None:  # an index from before copy groups: once, in chunks
                self.grouper.group_ungrouped()
            self._consume()
            self._check_something_was_read()
            if self.prune:
                self._prune()
        except (_Stop, KeyboardInterrupt):
            self._commit_finished()
            raise IndexingInterrupted(self.summary) from None
        finally:
            self.reader.stop()
            restore_sigint()
        return self.summary

    # -- the steps ---------------------------------------------------------------------------
    def _consume(self) -> None:
        """Gather the reader's items into batches until it is done."""
        while True:
            # a batch is waiting and the reader has nothing more yet: encode now rather than
            # leave the encoder idle (at the start the reader is still on the first files)
            ready = self.pending_passages >= self.batch_size
            item = self.reader.get(timeout=0 if ready else POLL_SECONDS)
            self._report()  # where a Ctrl-C stops a run that is waiting for the reader
            if isinstance(item, Done):
                self._flush()
                return
            if item is None:  # the reader is slow: embed what it has given so far
                self._flush()
                continue
            self.pending.append(item)
            self.pending_passages += item.embeds
            if (self.pending_passages >= ENCODE_CHUNK
                    or len(self.pending) >= MAX_PENDING_ITEMS):
                self._flush()

    def _flush(self) -> None:
        if self.pending:
            self._commit(self.pending)
            self.pending, self.pending_passages = [], 0

    def _commit(self, items: list[Item]) -> None:
        """Embed the items' passages, write the items in one transaction, then count them."""
        texts = [text for item in items for text in item.texts()]
        own = [text for item in items for text in item.passage_texts()]
        vectors, sentences = self._encode(texts, [s for item in items for s in item.spans()],
                                          own)
        offset = 0
        written: dict[str, list[int]] = {}
        with self.store.batch() as batch:
            for item in items:
                end = offset + item.embeds
                item.write(batch, vectors[offset:end], sentences[offset:end])
                if item.embeds:
                    vids = batch.added_vids[-item.embeds:]
                    self.seen.update(zip(map(_digest, own[offset:end]), vids, strict=True))
                    if isinstance(item, Work):
                        written[item.article.id] = vids
                offset = end
        if self.grouper is not None:
            self.grouper.group(written)
        for item in items:
            item.tally(self.summary)
            self.articles_done += item.articles
        self.reader.consumed(offset)

    def _encode(self, texts: list[str], spans: list[list[tuple[int, int]]], own: list[str]
                ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The passages' vectors and their sentences' (one forward pass: late chunking).
        ``texts``: what is embedded (context header and passage); ``own``: the passages' own
        texts. Twins (the same passage text and sentences: wire copies) are encoded once, under
        the first copy's header."""
        if not texts:
            return _NO_VECTORS, []
        if self.encoding_since is None:
            self.encoder.warm_up()  # the rate shown leaves out loading the model
            self.encoding_since = time.perf_counter()
        reuse = self._stored_twins(own, spans)
        twin = _twins(texts, spans, own, skip=reuse)
        todo = [i for i, j in twin.items() if i == j]
        vectors = np.empty((len(texts), self.encoder.dim), dtype=np.float32)
        sentences: list[np.ndarray] = [_NO_VECTORS] * len(texts)
        if todo:
            new, new_sentences = self.encoder.encode_passages(
                [texts[i] for i in todo], [spans[i] for i in todo], batch_size=self.batch_size,
                progress=self._report)
            vectors[todo] = new
            for i, found in zip(todo, new_sentences, strict=True):
                sentences[i] = found
        for i, j in twin.items():
            if i != j:
                vectors[i], sentences[i] = vectors[j], sentences[j].copy()
        for i, (vector, found) in reuse.items():
            vectors[i], sentences[i] = vector, found
        copies = len(reuse) + len(twin) - len(todo)
        if copies:
            self._report(copies)
        return vectors, sentences

    def _stored_twins(self, own: list[str], spans: list[list[tuple[int, int]]]
                      ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """``{i: (vector, sentence vectors)}`` for the passages whose exact text (``own``, and
        sentences) this run stored already, read back from the store."""
        wanted = {i: self.seen[d] for i, d in enumerate(map(_digest, own)) if d in self.seen}
        if not wanted:
            return {}
        vids = list(wanted.values())
        try:
            vectors = self.store.vectors(vids)
            sentences = self.store.sentence_vectors(vids)
        except IndexStoreError:  # removed since (a later version of its article): encode
            return {}
        return {i: (vectors[k], sentences[vid]) for k, (i, vid) in enumerate(wanted.items())
                if vid in sentences and len(sentences[vid]) == len(spans[i])}

    def _report(self, embedded: int = 0) -> None:
        """Count ``embedded`` passages and tell ``progress``; raise ``_Stop`` after Ctrl-C."""
        if self.stop.is_set():
            raise _Stop
        self.embedded += embedded
        if self.progress:
            since = self.started if self.encoding_since is None else self.encoding_since
            self.progress(Progress(self.embedded, self.reader.total_estimate(),
                                   self.articles_done, time.perf_counter() - since))

    def _check_something_was_read(self) -> None:
        if self.reader.articles_seen == 0:
            raise CorpusError(f"no readable articles in {', '.join(map(str, self.roots))}: "
                              "check the warnings above (or name JSON fields with "
                              "--fields text=NAME)")

    def _prune(self) -> None:
        with self.store.batch() as batch:
            self.summary.removed = batch.remove(self.reader.stale_ids(self.store, self.roots))
            batch.forget_files(self.reader.vanished_files(self.store, self.roots))

    def _commit_finished(self) -> None:
        """After Ctrl-C: commit the pending items that precede the first article still to be
        embedded (unchanged articles, file stamps), so the next run need not redo them."""
        finished = list(itertools.takewhile(lambda item: item.embeds == 0, self.pending))
        self.stop.clear()
        if finished:
            self._commit(finished)


def _twins(texts: list[str], spans: list[list[tuple[int, int]]], own: list[str],
           skip: Container[int]) -> dict[int, int]:
    """``{i: j}``: passage ``i`` (not in ``skip``) is a twin of the earlier ``j`` (or ``i`` itself
    if first): the same own text and sentences, whatever the context header in front."""
    first: dict[tuple[str, tuple[tuple[int, int], ...]], int] = {}
    twin: dict[int, int] = {}
    for i in range(len(texts)):
        if i in skip:
            continue
        shift = len(texts[i]) - len(own[i])
        key = (own[i], tuple((a - shift, b - shift) for a, b in spans[i]))
        twin[i] = first.setdefault(key, i)
    return twin


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).digest()


def _recipe(encoder: TextEncoder, max_tokens: int, max_article_bytes: int) -> dict[str, object]:
    """How files are read and cut, stamped on each file: a file read with another recipe is
    read again. Another article size limit is part of it (a JSONL line skipped as too long is
    then read), but the default limit is left out, so indexes made before it existed match."""
    recipe: dict[str, object] = {"max_tokens": max_tokens, "model": encoder.name}
    if max_article_bytes != DEFAULT_MAX_ARTICLE_BYTES:
        recipe["max_article_bytes"] = max_article_bytes
    return recipe


def passage_tokens(encoder: TextEncoder) -> int:
    """The word pieces a passage is cut at for ``encoder``."""
    return min(PASSAGE_TOKENS, encoder.max_tokens)


def chunk_for_model(article: Article, encoder: TextEncoder, max_tokens: int) -> list[Passage]:
    """Passages that fit the model with their article's context header in front (as they are
    embedded); a still-too-long one is cut smaller, never truncated. Only a passage whose
    packed size comes within :data:`FIT_SLACK` (plus a token a sentence) of the model's limit
    is counted again whole: with a word-piece tokenizer the packed size is already exact or
    over, so the model's own text is tokenized once for cutting, not twice."""
    prefix = context_prefix(article.title, article.source, article.published)
    header = encoder.count_tokens([prefix])[0] - 2 if prefix else 0
    limit = max(16, min(max_tokens, encoder.max_tokens - header))
    for _ in range(4):
        sized = chunk_sized(article, max_tokens=limit, count_tokens=encoder.count_tokens)
        passages = [p for p, _ in sized]
        near = [p for p, size in sized
                if header + size + FIT_SLACK + len(p.sentences) > encoder.max_tokens]
        counts = encoder.count_tokens([prefix + p.text for p in near])
        if not counts or max(counts) <= encoder.max_tokens:
            return passages
        limit = max(16, limit * 3 // 4)
    log.warning("article %s (%s): a passage of %d word pieces exceeds the model's %d; its end "
                "will not be searchable", article.id, article.path, max(counts), encoder.max_tokens)
    return passages


def _catch_sigint(stop: threading.Event) -> Callable[[], None]:
    """First Ctrl-C: finish gracefully (``stop`` is set); a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, handler)
    return restore
