"""Index article files: read and chunk (a producer thread) while encoding in batches across
article boundaries (the calling thread), committing a few hundred passages per transaction
(see :mod:`qa.indexing.run`).

Unchanged files (same path, size and mtime) are not even re-read; unchanged articles (same
``content_hash``) are not re-embedded. Ctrl-C commits what is finished, then raises
:class:`IndexingInterrupted` carrying the summary; a kill loses at most the batch in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from corpus import DEFAULT_MAX_ARTICLE_BYTES, CorpusError, context_prefix, iter_files
from corpus.loading import SUFFIXES
from embeddings import IndexLayout, IndexStore, PassageStore, TextEncoder
from embeddings.qdrant.url import is_store_url
from qa.indexing.run import ENCODE_CHUNK, IndexRun
from qa.indexing.summary import IndexingInterrupted, IndexSummary, Progress


def index_paths(
    paths: Sequence[str | Path],
    store_dir: str | Path | PassageStore,
    *,
    encoder: TextEncoder,
    prune: bool = False,
    progress: Callable[[Progress], None] | None = None,
    fields: Mapping[str, str] | None = None,
    wait: bool | float = False,
    batch_size: int | None = None,
    prepare: bool = True,
    max_article_bytes: int = DEFAULT_MAX_ARTICLE_BYTES,
    copies: bool = True,
    release_encoder: bool = False,
) -> IndexSummary:
    """Add the articles under ``paths`` to the index in ``store_dir`` (created if need be).

    ``prepare`` also gives sentence vectors to passages that lack them (an index from format 1)
    and saves BM25 (:func:`prepare_answers`), so no question waits for them. ``store_dir`` may
    be a store already open for writing (left open). An article of more than
    ``max_article_bytes`` of text is skipped with a warning. ``copies``: put the articles
    written in copy groups (:mod:`qa.indexing.copies`; off only to measure what it costs).
    ``release_encoder``: let go of the encoder's runtime once the passages are embedded, before
    BM25 is built (for a caller that will not encode again soon, as ``qa index``: OpenVINO's
    per-shape state is a third of the peak of a large run). Raises
    ``CorpusError`` for a missing path or no readable articles, ``IndexStoreError`` for index
    problems.
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
    run = IndexRun(store, files, roots, encoder, prune=prune, progress=progress, fields=fields,
                   batch_size=batch_size, started=started, max_article_bytes=max_article_bytes,
                   copies=copies)
    try:
        run.run()
        if release_encoder:
            encoder.release()
        try:
            if prepare:
                prepare_answers(store, encoder, progress)
        except KeyboardInterrupt:  # the passages are all committed; sentences can wait
            raise IndexingInterrupted(run.summary) from None
    except BaseException:
        if created and store.counts()[0] == 0:
            _discard(store)
            created = False
        raise
    finally:
        run.summary.seconds = round(time.perf_counter() - started, 2)
        if isinstance(store_dir, (str, Path)) and store.writable and store.is_open:
            store.close()
    return run.summary


def prepare_answers(store: PassageStore, encoder: TextEncoder,
                    progress: Callable[[Progress], None] | None = None) -> int:
    """Give every passage its sentence vectors (those of an index from format 1 lack them;
    passages indexed now got theirs with their own vectors) and build the BM25 index, now
    rather than on the first question. Returns how many sentences were embedded."""
    from qa.engine.lexical import LexicalIndex

    done, t0 = 0, time.perf_counter()
    todo = store.passages_without_sentence_vectors()
    for i in range(0, len(todo), ENCODE_CHUNK):
        passages = store.passages(todo[i:i + ENCODE_CHUNK])
        # as a new index embeds them: after the context header (see file_reader.Work)
        prefixes = [context_prefix(p.title, p.source, p.published) for p in passages]
        spans = [[(s.start - p.start + len(x), s.end - p.start + len(x)) for s in p.sentences]
                 for p, x in zip(passages, prefixes, strict=True)]
        _, sentences = encoder.encode_passages(
            [x + p.text for p, x in zip(passages, prefixes, strict=True)], spans)
        with store.batch() as batch:  # each chunk committed: a kill loses at most one
            batch.set_sentence_vectors([p.vid for p in passages], passages, sentences)
        done += sum(len(s) for s in spans)
        if progress:
            progress(Progress(done, None, 0, time.perf_counter() - t0, phase="sentences"))
    LexicalIndex.for_store(store)
    return done


def _root(path: str | Path) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise CorpusError(f"{path}: no such file or folder; give a file or folder of articles")
    return p.resolve()


def _open(store_dir: str | Path | PassageStore, encoder: TextEncoder,
          wait: bool | float) -> tuple[PassageStore, bool]:
    """The store to write to, and whether this call created it."""
    if not isinstance(store_dir, (str, Path)):  # a store already open for writing
        store_dir.check_model(encoder.name, encoder.dim, encoder.weights_sha256)
        return store_dir, False
    if isinstance(store_dir, str) and is_store_url(store_dir):  # Qdrant (made if need be)
        from qa.indexing.stores import open_store

        return open_store(store_dir, writable=True, encoder=encoder, wait=wait), False
    path = Path(store_dir).expanduser().absolute()
    layout = IndexLayout(path)
    if layout.manifest.exists() or layout.database.exists():
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


def _discard(store: PassageStore) -> None:
    """Remove an index this run created and filled with nothing."""
    layout = IndexLayout(store.path)
    store.close()
    for file in layout.store_files:
        file.unlink(missing_ok=True)
    try:
        layout.root.rmdir()
    except OSError:
        pass


__all__ = ["IndexSummary", "IndexingInterrupted", "Progress", "index_paths", "prepare_answers"]
