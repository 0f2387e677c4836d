"""BM25 over an index's passages. Each passage is indexed with its article's headline, outlet and
date before its text (:func:`corpus.indexed_text`).

Two implementations of one small interface (:class:`Lexical`), chosen by
:meth:`LexicalIndex.for_store`: for a folder store, :class:`LexicalIndex` (bm25s), saved in the
index folder and keyed by its generation; for a store that keeps the lexical side itself (a
:class:`~embeddings.protocols.LexicalStore`: Qdrant's sparse vectors and term statistics),
:class:`StoreLexical`, which asks the store for candidates and term counts and scores them with
the same formula, so both rank alike.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from corpus import indexed_text
from embeddings.layout import BM25
from embeddings.protocols import LexicalStore
from qa.engine.terms import terms

if TYPE_CHECKING:
    from embeddings.protocols import PassageStore

log = logging.getLogger(__name__)

FORMAT = 2  # bump when the tokenisation or parameters change: saved indexes are then rebuilt
CHUNK = 1 << 20  # pairs computed at a time when (re)building
K1, B = 0.9, 0.4  # tuned on SQuAD dev (bench/squad.py --tune); Lucene defaults are 1.2/0.75
FOLDER = BM25


def _bm25s() -> Any:  # bm25s has no type information
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on import
    return bm25s


class Lexical(Protocol):
    """What retrieval and answering need of the lexical side."""

    @property
    def n_docs(self) -> int:
        """How many passages are indexed (0: no lexical side to ask)."""

    def idf(self, term: str) -> float: ...

    def search(self, query: str, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` ``(vids, scores)`` with a positive BM25 score, best first; ``allowed``:
        the only vids to consider."""

    def scores_for(self, vids: Sequence[int], query_terms: Sequence[str]) -> np.ndarray:
        """The BM25 score of each of ``vids`` (0 for one not indexed)."""


class LexicalIndex:
    """BM25 scores for a query over all passages, addressed by the store's vids."""

    def __init__(self, bm25: Any, vids: np.ndarray, df: dict[str, int], n_docs: int,
                 lengths: np.ndarray | None = None) -> None:
        self._bm25 = bm25
        self.vids = vids                       # row -> vid
        self._row = {int(v): i for i, v in enumerate(vids)}
        self.df = df
        self.n_docs = n_docs
        self.lengths = lengths  # row -> terms in the passage (None: an index saved before)

    @classmethod
    def build(cls, items: Iterable[tuple[int, str]], *, k1: float = K1, b: float = B
              ) -> LexicalIndex:
        """Index ``(vid, text)`` pairs.

        The score matrix is the one ``bm25s.BM25.index`` makes (Robertson idf and term
        weights, a document with no terms counted as one empty term), built here from a
        stream: per passage only its distinct term ids and counts are kept, in flat arrays
        (8 bytes a pair), and the column-major matrix is made with one sort. bm25s's own
        build held every passage's token list twice, then the matrix as triples and again
        sorted: at 100k passages it added several hundred MB to the peak of ``qa index``."""
        pairs = _Pairs()
        pairs.add(items)
        return pairs.index(k1, b)

    def _updated(self, store: PassageStore, *, k1: float = K1, b: float = B
                 ) -> LexicalIndex | None:
        """This index brought up to ``store``: the passages gone are dropped, the new ones
        added (only they are read and cut into terms), the weights computed again from the
        term counts recovered from the saved weights. ``None`` if that cannot be done exactly
        (an index saved without passage lengths, or counts that do not come out whole)."""
        if self.lengths is None or not self.n_docs:
            return None
        now = np.sort(np.asarray(store.vids_matching(), dtype=np.int64))
        keep = np.isin(self.vids, now)
        m = self._bm25.scores
        indptr = np.asarray(m["indptr"], dtype=np.int64)
        counts = np.diff(indptr)  # passages holding each term
        col = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        doc = np.asarray(m["indices"], dtype=np.int32)
        idf = _idf(counts, self.n_docs)
        norm = k1 * (1 - b + b * self.lengths / self.lengths.mean())
        tf = np.empty(len(col), dtype=np.float32)
        for i in range(0, len(col), CHUNK):  # in parts: float64 temporaries stay small
            part = slice(i, i + CHUNK)
            share = m["data"][part] / np.maximum(idf[col[part]].astype(np.float64), 1e-30)
            exact = share * norm[doc[part]] / np.maximum(1 - share, 1e-12)  # tf/(tf+norm)
            if len(exact) and float(np.abs(exact - np.rint(exact)).max()) > 0.01:
                return None
            tf[part] = np.rint(exact)
        pairs = _Pairs(dict(self._bm25.vocab_dict), n_terms=len(counts))
        row = np.cumsum(keep) - 1  # old row -> new row
        on = keep[doc]
        pairs.take(self.vids[keep], self.lengths[keep], row[doc[on]], col[on], tf[on])
        new = np.setdiff1d(now, self.vids, assume_unique=True)
        for i in range(0, len(new), 2000):
            stored = store.passages([int(v) for v in new[i:i + 2000]])
            pairs.add((p.vid, indexed_text(p.text, p.title, p.source, p.published))
                      for p in stored)
        return pairs.index(k1, b)

    @classmethod
    def for_store(cls, store: PassageStore) -> Lexical:
        """The lexical side of ``store``: the store's own (:class:`StoreLexical`) if it keeps
        one; else the saved index in its folder if it matches its generation, else the saved
        one of an earlier generation of the same index, brought up to date (a new article
        costs its own passages, not the whole index's), else built; then saved."""
        if isinstance(store, LexicalStore):
            return StoreLexical(store)
        folder = Path(store.path) / FOLDER
        key: dict[str, int | str] = {"format": FORMAT,
                                     "generation": int(store.manifest.generation),
                                     "created": store.manifest.created.isoformat()}
        loaded = cls._load(folder, key)
        if loaded is not None:
            return loaded
        earlier = cls._load(folder, {k: v for k, v in key.items() if k != "generation"})
        index = earlier._updated(store) if earlier is not None else None
        if index is None:
            index = cls.build((p.vid, indexed_text(p.text, p.title, p.source, p.published))
                              for p in store.iter_passages())
        try:
            index._save(folder, key)
        except OSError as exc:  # a read-only index still works, it just rebuilds next time
            log.info("could not save the BM25 index in %s: %s", folder, exc)
        return index

    def _save(self, folder: Path, key: dict[str, int | str]) -> None:
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{FOLDER}."))
        try:
            if self.n_docs:
                self._bm25.save(str(tmp), show_progress=False)
            np.save(tmp / "vids.npy", self.vids)
            if self.lengths is not None:
                np.save(tmp / "lengths.npy", self.lengths.astype(np.int32))
            (tmp / "df.json").write_text(json.dumps(self.df))
            (tmp / "key.json").write_text(json.dumps({**key, "n_docs": self.n_docs}))
            old = folder.with_name(f".{FOLDER}.old.{os.getpid()}")
            if folder.exists():
                folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def _load(cls, folder: Path, key: dict[str, int | str]) -> LexicalIndex | None:
        # Derived data: anything malformed in it (not only a missing file) means "rebuild".
        try:
            saved = json.loads((folder / "key.json").read_text())
            if not isinstance(saved, dict) or {k: saved.get(k) for k in key} != key:
                return None
            bm25s = _bm25s()
            n_docs = int(saved["n_docs"])
            bm25 = bm25s.BM25.load(str(folder), show_progress=False) if n_docs else None
            vids = np.load(folder / "vids.npy", allow_pickle=False)
            df = json.loads((folder / "df.json").read_text())
            lengths = (np.load(folder / "lengths.npy", allow_pickle=False).astype(np.int64)
                       if (folder / "lengths.npy").exists() else None)
            _check_loaded(bm25, vids, df, n_docs, lengths)
        except Exception as exc:  # noqa: BLE001 - bm25s raises many kinds on a damaged folder
            if folder.exists():
                log.warning("the BM25 index in %s is damaged (%s: %s); rebuilding it", folder,
                            type(exc).__name__, exc)
            return None
        return cls(bm25, vids, df, n_docs, lengths)

    def row(self, vid: int) -> int:
        """The row of passage ``vid`` in :meth:`scores`, or -1 if it is not indexed."""
        return self._row.get(vid, -1)

    def idf(self, term: str) -> float:
        """Robertson idf, never negative; unseen terms get the highest value."""
        n = self.df.get(term, 0)
        return math.log(1 + (self.n_docs - n + 0.5) / (n + 0.5))

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every row (aligned with ``self.vids``)."""
        if not self.n_docs:
            return np.zeros(0, dtype=np.float32)
        ids = self._bm25.get_tokens_ids(list(query_terms))
        if not ids:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)

    def scores_for(self, vids: Sequence[int], query_terms: Sequence[str]) -> np.ndarray:
        """The BM25 score of each of ``vids`` (0 for one not indexed)."""
        s = self.scores(query_terms)
        rows = [self.row(int(v)) for v in vids]
        return np.array([s[r] if r >= 0 else 0.0 for r in rows], dtype=np.float32)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` ``(vids, scores)`` with a positive score, best first."""
        s = self.scores(terms(query))
        if allowed is not None and s.size:
            mask = np.zeros(s.size, dtype=bool)
            rows = [self._row[int(v)] for v in allowed if int(v) in self._row]
            mask[rows] = True
            s = np.where(mask, s, 0.0)
        k = min(k, int(np.count_nonzero(s > 0)))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.argsort(-s[top], kind="stable")]
        return self.vids[top], s[top]


class StoreLexical:
    """BM25 served by a :class:`~embeddings.protocols.LexicalStore`: the store finds candidates
    by its sparse term vectors (BM25 with the statistics of when each passage was written);
    they are scored again here, exactly as :class:`LexicalIndex` scores (its idf, ``K1``, ``B``
    and today's average length), from the stored term counts. Made per store generation (as
    the assistant re-makes its lexical side when the index changes)."""

    POOL = 3  # candidates asked of the store per result wanted (at least k + 50)

    def __init__(self, store: LexicalStore, *, k1: float = K1, b: float = B) -> None:
        self.store = store
        self.n_docs, self.avgdl = store.term_stats()
        self.k1, self.b = k1, b
        self._df: dict[str, int] = {}

    def _frequencies(self, query_terms: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(query_terms))
        missing = [t for t in wanted if t not in self._df]
        if missing:
            self._df.update(self.store.document_frequencies(missing))
        return {t: self._df[t] for t in wanted}

    def idf(self, term: str) -> float:
        """Robertson idf, never negative; unseen terms get the highest value."""
        n = self._frequencies([term])[term]
        return math.log(1 + (self.n_docs - n + 0.5) / (n + 0.5))

    def scores_for(self, vids: Sequence[int], query_terms: Sequence[str]) -> np.ndarray:
        df = self._frequencies(query_terms)
        known = [t for t in query_terms if df[t] > 0]  # a repeated term counts again
        if not len(vids) or not known or not self.n_docs:
            return np.zeros(len(vids), dtype=np.float32)
        uniq = list(dict.fromkeys(known))
        lengths, counts = self.store.term_counts(vids, uniq)
        norm = self.k1 * (1 - self.b + self.b * lengths / max(self.avgdl, 1e-9))
        tfc = counts / np.maximum(counts + norm[:, None], 1e-12)
        weight = np.array([self.idf(t) * known.count(t) for t in uniq])
        return np.asarray(tfc @ weight, dtype=np.float32)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` ``(vids, scores)`` with a positive score, best first."""
        query_terms = terms(query)
        df = self._frequencies(query_terms)
        weights: dict[str, float] = {}
        for t in query_terms:
            if df[t] > 0:
                weights[t] = weights.get(t, 0.0) + self.idf(t)
        if k <= 0 or not weights:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        vids, _ = self.store.sparse_search(weights, max(self.POOL * k, k + 50),
                                           allowed=allowed)
        s = self.scores_for(vids.tolist(), query_terms)
        order = np.argsort(-s, kind="stable")
        order = order[s[order] > 0][:k]
        return vids[order], s[order]


def _check_loaded(bm25: Any, vids: np.ndarray, df: Any, n_docs: int,
                  lengths: np.ndarray | None = None) -> None:
    """ValueError unless the loaded parts agree with each other."""
    if vids.ndim != 1 or len(vids) != n_docs or vids.dtype.kind not in "iu":
        raise ValueError(f"vids.npy holds {vids.shape} {vids.dtype}, not {n_docs} passage ids")
    if lengths is not None and (lengths.shape != (n_docs,) or (n_docs and lengths.min() < 1)):
        raise ValueError(f"lengths.npy holds {lengths.shape}, not {n_docs} passage lengths")
    if not isinstance(df, dict) or not all(isinstance(v, int) for v in df.values()):
        raise ValueError("df.json is not a map of term counts")
    if bm25 is not None and int(bm25.scores["num_docs"]) != n_docs:
        raise ValueError(f"the saved BM25 matrix has {bm25.scores['num_docs']} documents, "
                         f"not {n_docs}")


def _idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Robertson idf per term, as bm25s computes it (float32)."""
    return np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)


class _Pairs:
    """Passages as (passage, term, count) triples in flat arrays, and the vocabulary; made
    into a :class:`LexicalIndex` by :meth:`index`."""

    def __init__(self, vocab: dict[str, int] | None = None, n_terms: int | None = None) -> None:
        self.vocab: dict[str, int] = vocab if vocab is not None else {}
        if n_terms is not None and self.vocab.get("", -1) >= n_terms:
            del self.vocab[""]  # bm25s's stand-in for queries of no term: no column of its own
        self.vids, self.lengths, self.per_doc = array("q"), array("q"), array("q")
        self.cols, self.tfs = array("i"), array("f")
        self.taken: list[tuple[np.ndarray, ...]] = []  # rows kept from a saved index
        self.rows_taken = 0

    def take(self, vids: np.ndarray, lengths: np.ndarray, doc: np.ndarray, col: np.ndarray,
             tf: np.ndarray) -> None:
        """Rows kept whole (``doc``: their new row numbers, from 0)."""
        self.taken.append((vids, lengths, doc.astype(np.int32), col.astype(np.int32),
                           tf.astype(np.float32)))
        self.rows_taken += len(vids)

    def add(self, items: Iterable[tuple[int, str]]) -> None:
        vocab, cols, tfs = self.vocab, self.cols, self.tfs
        for vid, text in items:
            words = terms(text) or [""]
            counts = Counter(vocab.setdefault(t, len(vocab)) for t in words)
            self.vids.append(vid)
            self.lengths.append(len(words))
            self.per_doc.append(len(counts))
            cols.extend(counts.keys())
            tfs.extend(counts.values())

    def index(self, k1: float, b: float) -> LexicalIndex:
        """The index of every row taken and added. Each large array is let go of as soon as it
        is used (at 100k passages, ~11M pairs: 43 MB an int32 array), and the sort and the
        weights are the only copies made."""
        bm25s = _bm25s()
        vocab, first = self.vocab, self.rows_taken
        added = len(self.vids)
        own = (
            np.frombuffer(self.vids, dtype=np.int64) if added else np.zeros(0, np.int64),
            np.frombuffer(self.lengths, dtype=np.int64) if added else np.zeros(0, np.int64),
            np.repeat(np.arange(first, first + added, dtype=np.int32),
                      np.frombuffer(self.per_doc, dtype=np.int64) if added
                      else np.zeros(0, np.int64)),
            np.frombuffer(self.cols, dtype=np.int32) if self.cols else np.zeros(0, np.int32),
            np.frombuffer(self.tfs, dtype=np.float32) if self.tfs else np.zeros(0, np.float32),
        )
        parts, self.taken = self.taken + [own], []
        # one part (a build): its arrays as they are; several (an update): put together
        vids, length, doc, col, tf = (x[0] if len(x) == 1 else np.concatenate(x)
                                      for x in zip(*parts, strict=True))
        del parts, own
        n_docs = len(vids)
        df_all = np.bincount(col, minlength=len(vocab))
        df = {t: int(df_all[i]) for t, i in vocab.items() if t and df_all[i]}
        bm25 = bm25s.BM25(k1=k1, b=b)
        if n_docs:
            idf = _idf(df_all, n_docs)
            norm = k1 * (1 - b + b * length / length.mean())
            weight = np.empty(len(col), dtype=np.float32)
            for i in range(0, len(col), CHUNK):  # in parts: float64 temporaries stay small
                part = slice(i, i + CHUNK)
                weight[part] = idf[col[part]] * (tf[part] / (tf[part] + norm[doc[part]]))
            del tf
            self.tfs = array("f")
            # by term, passages in order within: the pairs come in passage order (those kept
            # from a saved index first, in its term-major order, with lower row numbers)
            order = np.argsort(col, kind="stable")
            del col
            self.cols = array("i")
            data = weight[order]
            del weight
            indices = doc[order]
            del doc, order
            indptr = np.zeros(len(vocab) + 1, dtype=np.int32)
            np.cumsum(df_all, out=indptr[1:])
            bm25.scores = {"data": data, "indices": indices, "indptr": indptr,
                           "num_docs": n_docs}
            if "" not in vocab:
                vocab[""] = len(vocab)
            bm25.vocab_dict = vocab
            bm25.unique_token_ids_set = set(vocab.values())
            bm25.nonoccurrence_array = None
        return LexicalIndex(bm25, vids.copy(), df, n_docs, length.copy())
