"""BM25 over an index's passages (bm25s), saved in the index folder and keyed by its generation.
Each passage is indexed with its article's headline, outlet and date before its text
(:func:`corpus.indexed_text`)."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from corpus import indexed_text
from embeddings.layout import BM25
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
        """Index ``(vid, text)`` pairs."""
        bm25s = _bm25s()

        vids: list[int] = []
        docs: list[list[str]] = []
        for vid, text in items:
            vids.append(vid)
            # one string object per distinct term, not per occurrence: at 100k passages the
            # token lists held ~4x less memory (peak of `qa index`)
            docs.append([sys.intern(t) for t in terms(text)])
        df: dict[str, int] = {}
        for doc in docs:
            for t in set(doc):
                df[t] = df.get(t, 0) + 1
        bm25 = bm25s.BM25(k1=k1, b=b)
        if docs:
            bm25.index([d or [""] for d in docs], show_progress=False)
        return cls(bm25, np.asarray(vids, dtype=np.int64), df, len(docs))

    @classmethod
    def for_store(cls, store: PassageStore) -> LexicalIndex:
        """Load the saved index of ``store`` if it matches its generation, else build and save."""
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


def _check_loaded(bm25: Any, vids: np.ndarray, df: Any, n_docs: int) -> None:
    """ValueError unless the loaded parts agree with each other."""
    if vids.ndim != 1 or len(vids) != n_docs or vids.dtype.kind not in "iu":
        raise ValueError(f"vids.npy holds {vids.shape} {vids.dtype}, not {n_docs} passage ids")
    if not isinstance(df, dict) or not all(isinstance(v, int) for v in df.values()):
        raise ValueError("df.json is not a map of term counts")
    if bm25 is not None and int(bm25.scores["num_docs"]) != n_docs:
        raise ValueError(f"the saved BM25 matrix has {bm25.scores['num_docs']} documents, "
                         f"not {n_docs}")
