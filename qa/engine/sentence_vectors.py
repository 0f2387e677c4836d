"""Vectors of the sentences answers are picked from.

An index holds them per passage (``store.sentence_vectors``; late chunking: taken from the
passage's own forward pass while indexing). :meth:`SentenceVectors.of` reads them; a sentence
of a passage without stored vectors (an index from format 1 not re-indexed yet) is embedded
alone, on demand, and kept in memory (or in a ``sentences.sqlite`` when a ``folder`` is given,
as the benchmarks do).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from embeddings.layout import SENTENCES
from embeddings.models import StoredPassage

if TYPE_CHECKING:
    from embeddings.protocols import PassageStore, TextEncoder

log = logging.getLogger(__name__)

FILE = SENTENCES
CACHED_PASSAGES = 50_000  # passages whose sentence vectors are kept in memory at most


class SentenceRef(Protocol):
    """A sentence of a stored passage: ``start``/``end`` are offsets into its article."""

    @property
    def passage(self) -> StoredPassage: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def text(self) -> str: ...


class SentenceVectors:
    """``get(texts)`` returns their vectors, embedding only the ones not seen before."""

    def __init__(self, encoder: TextEncoder, folder: Path | None = None,
                 store: PassageStore | None = None) -> None:
        self.encoder = encoder
        self.store = store
        self._by_vid: dict[int, np.ndarray] = {}  # vids are never reused: safe to keep
        self._mem: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        # vectors differ slightly between runtimes (int8 against fp32): key by both
        self._model = f"{encoder.weights_sha256[:16]}-{encoder.backend}"
        if folder is not None:
            try:
                self._db = sqlite3.connect(Path(folder) / FILE, check_same_thread=False,
                                           timeout=5)
                self._db.execute("CREATE TABLE IF NOT EXISTS vec "
                                 "(model TEXT, key TEXT, v BLOB, PRIMARY KEY (model, key))")
                self._db.commit()
            except sqlite3.Error as exc:  # read-only folder: keep them in memory only
                log.info("sentence vectors kept in memory: %s", exc)
                self._db = None

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def of(self, sentences: Sequence[SentenceRef]) -> np.ndarray:
        """``(len(sentences), dim)`` vectors, each from its own passage's stored sentence
        vectors; those of a passage without any are embedded alone (:meth:`get`)."""
        if not len(sentences):
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        stored = self._stored({s.passage.vid for s in sentences})
        out: list[np.ndarray | None] = []
        alone: list[int] = []
        for i, s in enumerate(sentences):
            m = stored.get(s.passage.vid)
            k = _position(s.passage, s.start, s.end) if m is not None else -1
            if m is not None and 0 <= k < len(m):
                out.append(m[k])
            else:
                out.append(None)
                alone.append(i)
        if alone:
            for i, v in zip(alone, self.get([sentences[i].text for i in alone]), strict=True):
                out[i] = v
        return np.stack([v for v in out if v is not None]).astype(np.float32, copy=False)

    def _stored(self, vids: set[int]) -> dict[int, np.ndarray]:
        if self.store is None:
            return {}
        with self._lock:
            todo = [v for v in vids if v not in self._by_vid]
        if todo:
            found = self.store.sentence_vectors(sorted(todo))
            with self._lock:
                if len(self._by_vid) > CACHED_PASSAGES:
                    self._by_vid.clear()
                self._by_vid.update(found)
        with self._lock:
            return {v: self._by_vid[v] for v in vids if v in self._by_vid}

    def get(self, texts: Sequence[str]) -> np.ndarray:
        """Sentences embedded alone (for passages without stored sentence vectors)."""
        keys = [self.key(t) for t in texts]
        with self._lock:
            self._load([k for k in keys if k not in self._mem])
            todo = {k: t for k, t in zip(keys, texts) if k not in self._mem}
            if todo:
                vecs = self.encoder.encode(list(todo.values()), batch_size=64)
                for k, v in zip(todo, vecs):
                    self._mem[k] = v
                self._save(list(zip(todo, vecs)))
            if not keys:
                return np.zeros((0, self.encoder.dim), dtype=np.float32)
            return np.stack([self._mem[k] for k in keys])

    def fill(self, passages: Iterable[StoredPassage], batch: int = 256,
             progress: Callable[[int], None] | None = None) -> int:
        """Embed and store the sentences of ``passages`` (StoredPassages) not stored yet, so
        questions never wait for them. Returns how many were embedded."""
        with self._lock:
            have = set(self._mem)
            if self._db is not None:
                try:
                    have.update(k for (k,) in self._db.execute(
                        "SELECT key FROM vec WHERE model = ?", (self._model,)))
                except sqlite3.Error as exc:
                    log.info("sentence vectors: %s", exc)
        todo: dict[str, str] = {}
        for p in passages:
            for s in p.sentences:
                text = p.text[s.start - p.start:s.end - p.start]
                k = self.key(text)
                if k not in have and k not in todo:
                    todo[k] = text
        items = list(todo.items())
        for i in range(0, len(items), batch):
            part = items[i:i + batch]
            vecs = self.encoder.encode([t for _, t in part], batch_size=64)
            with self._lock:
                self._save([(k, v) for (k, _), v in zip(part, vecs)])
                if self._db is None:
                    self._mem.update((k, v) for (k, _), v in zip(part, vecs))
            if progress is not None:
                progress(len(part))
        return len(items)

    def _load(self, keys: list[str]) -> None:
        if self._db is None or not keys:
            return
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            try:
                rows = self._db.execute(
                    f"SELECT key, v FROM vec WHERE model = ? AND key IN "
                    f"({','.join('?' * len(part))})", [self._model, *part]).fetchall()
            except sqlite3.Error as exc:
                log.info("sentence vectors: %s", exc)
                return
            for k, b in rows:
                self._mem[k] = np.frombuffer(b, dtype=np.float32)

    def _save(self, items: list[tuple[str, np.ndarray]]) -> None:
        if self._db is None:
            return
        try:
            self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?)",
                                 [(self._model, k, v.astype(np.float32).tobytes())
                                  for k, v in items])
            self._db.commit()
        except sqlite3.Error as exc:  # locked or read-only: fine, they stay in memory
            log.info("sentence vectors not saved: %s", exc)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _position(passage: StoredPassage, start: int, end: int) -> int:
    """The index of the sentence ``start``-``end`` among ``passage``'s, or -1."""
    for k, s in enumerate(passage.sentences):
        if s.start == start and s.end == end:
            return k
    return -1
