"""Embeddings of single sentences, computed on demand and kept in ``sentences.sqlite`` beside the
index (keyed by the model's weights and the sentence text), so each sentence is embedded once."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embeddings.layout import SENTENCES
from embeddings.models import StoredPassage

if TYPE_CHECKING:
    from embeddings.protocols import TextEncoder

log = logging.getLogger(__name__)

FILE = SENTENCES


class SentenceVectors:
    """``get(texts)`` returns their vectors, embedding only the ones not seen before."""

    def __init__(self, encoder: TextEncoder, folder: Path | None = None) -> None:
        self.encoder = encoder
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

    def get(self, texts: Sequence[str]) -> np.ndarray:
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
