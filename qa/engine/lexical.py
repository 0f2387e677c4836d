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

    def __init__(self, bm25: Any, vids: np.ndarray, df: dict[str, int], n_docs: int) -> None:
        self._bm25 = bm25
        self.vids = vids                       # row -> vid
        self._row = {int(v): i for i, v in enumerate(vids)}
        self.df = df
        self.n_docs = n_docs

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
        bm25s = _bm25s()

        vocab: dict[str, int] = {}
        vids, lengths, per_doc = array("q"), array("q"), array("q")
        cols, tfs = array("i"), array("f")
        for vid, text in items:
            words = terms(text) or [""]
            counts = Counter(vocab.setdefault(t, len(vocab)) for t in words)
            vids.append(vid)
            lengths.append(len(words))
            per_doc.append(len(counts))
            cols.extend(counts.keys())
            tfs.extend(counts.values())
        n_docs = len(vids)
        col = np.frombuffer(cols, dtype=np.int32) if cols else np.zeros(0, np.int32)
        df_all = np.bincount(col, minlength=len(vocab))
        df = {t: int(df_all[i]) for t, i in vocab.items() if t}
        bm25 = bm25s.BM25(k1=k1, b=b)
        if n_docs:
            length = np.frombuffer(lengths, dtype=np.int64)
            doc = np.repeat(np.arange(n_docs, dtype=np.int32),
                            np.frombuffer(per_doc, dtype=np.int64))
            tf = np.frombuffer(tfs, dtype=np.float32)
            idf = np.log(1 + (n_docs - df_all + 0.5) / (df_all + 0.5)).astype(np.float32)
            norm = k1 * (1 - b + b * length / length.mean())
            weight = (idf[col] * (tf / (tf + norm[doc]))).astype(np.float32)
            order = np.argsort(col, kind="stable")  # by term, passages in order within
            indptr = np.zeros(len(vocab) + 1, dtype=np.int32)
            np.cumsum(df_all, out=indptr[1:])
            bm25.scores = {"data": weight[order], "indices": doc[order], "indptr": indptr,
                           "num_docs": n_docs}
            if "" not in vocab:
                vocab[""] = len(vocab)
            bm25.vocab_dict = vocab
            bm25.unique_token_ids_set = set(vocab.values())
            bm25.nonoccurrence_array = None
        return cls(bm25, np.frombuffer(vids, dtype=np.int64).copy(), df, n_docs)

    @classmethod
    def for_store(cls, store: PassageStore) -> Lexical:
        """The lexical side of ``store``: the store's own (:class:`StoreLexical`) if it keeps
        one; else the saved index in its folder if it matches its generation, else built and
        saved."""
        if isinstance(store, LexicalStore):
            return StoreLexical(store)
        folder = Path(store.path) / FOLDER
        key = {"format": FORMAT, "generation": int(store.manifest.generation)}
        loaded = cls._load(folder, key)
        if loaded is not None:
            return loaded
        index = cls.build((p.vid, indexed_text(p.text, p.title, p.source, p.published))
                          for p in store.iter_passages())
        try:
            index._save(folder, key)
        except OSError as exc:  # a read-only index still works, it just rebuilds next time
            log.info("could not save the BM25 index in %s: %s", folder, exc)
        return index

    def _save(self, folder: Path, key: dict[str, int]) -> None:
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{FOLDER}."))
        try:
            if self.n_docs:
                self._bm25.save(str(tmp), show_progress=False)
            np.save(tmp / "vids.npy", self.vids)
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
    def _load(cls, folder: Path, key: dict[str, int]) -> LexicalIndex | None:
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
            _check_loaded(bm25, vids, df, n_docs)
        except Exception as exc:  # noqa: BLE001 - bm25s raises many kinds on a damaged folder
            if folder.exists():
                log.warning("the BM25 index in %s is damaged (%s: %s); rebuilding it", folder,
                            type(exc).__name__, exc)
            return None
        return cls(bm25, vids, df, n_docs)

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


def _check_loaded(bm25: Any, vids: np.ndarray, df: Any, n_docs: int) -> None:
    """ValueError unless the loaded parts agree with each other."""
    if vids.ndim != 1 or len(vids) != n_docs or vids.dtype.kind not in "iu":
        raise ValueError(f"vids.npy holds {vids.shape} {vids.dtype}, not {n_docs} passage ids")
    if not isinstance(df, dict) or not all(isinstance(v, int) for v in df.values()):
        raise ValueError("df.json is not a map of term counts")
    if bm25 is not None and int(bm25.scores["num_docs"]) != n_docs:
        raise ValueError(f"the saved BM25 matrix has {bm25.scores['num_docs']} documents, "
                         f"not {n_docs}")
