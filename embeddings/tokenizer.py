"""The model's word-piece tokenizer via the ``tokenizers`` package: no torch, no transformers."""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.errors import ModelError
from embeddings.model_files import ModelFiles


def _read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; ``{}`` if it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def max_tokens_of(files: ModelFiles) -> int:
    """The input limit sentence-transformers uses: ``max_seq_length``, else the model's limit."""
    st_config = _read_json(files.path / "sentence_bert_config.json")
    if st_config.get("max_seq_length"):
        return int(st_config["max_seq_length"])
    found = [_read_json(files.path / "config.json").get("max_position_embeddings"),
             _read_json(files.path / "tokenizer_config.json").get("model_max_length")]
    limits = [int(x) for x in found if isinstance(x, int | float) and 0 < x < 1_000_000]
    return min(limits) if limits else 512


# Texts whose word pieces :meth:`Tokenizer.count` keeps for :meth:`Tokenizer.join` (the oldest go
# first): the sentences the reader has counted and the encoder not yet reached, a few MB.
KEEP = 16384


class Tokenizer:
    """Counts and encodes texts exactly as the model's fast tokenizer does."""

    def __init__(self, files: ModelFiles, max_tokens: int) -> None:
        path = files.tokenizer_json
        if path is None:
            raise ModelError(f"model folder {files.path} has no tokenizer.json: use --backend "
                             "torch-fp32 for this model")
        from tokenizers import Tokenizer as _Fast

        self.max_tokens = max_tokens
        self.lowercase = bool(
            _read_json(files.path / "sentence_bert_config.json").get("do_lower_case", False))
        self._count = _Fast.from_file(str(path))
        self._count.no_truncation()
        self._count.no_padding()
        self._encode = _Fast.from_file(str(path))
        self._encode.enable_truncation(max_tokens)
        pad_id = self._encode.token_to_id(self._pad_token(files)) or 0
        self._encode.enable_padding(pad_id=pad_id, pad_token=self._pad_token(files))
        self._pad_id = pad_id
        self._kept: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._kept_lock = threading.Lock()
        self._ends = self._joinable()

    def _joinable(self) -> tuple[int, int] | None:
        """``(first, last)`` special token ids if this tokenizer's word pieces of a text are
        those of its whitespace-separated parts put together, between the two (BERT's
        normaliser and pre-tokenizer: every word is cut on its own); else ``None``."""
        kinds = (type(self._count.normalizer).__name__, type(self._count.pre_tokenizer).__name__)
        if self.lowercase or kinds != ("BertNormalizer", "BertPreTokenizer"):
            return None
        probe = "The bank's rate rose 3.5%, said Zürich.\n\nIt fell."
        whole = self._count.encode(probe)
        bare = self._count.encode(probe, add_special_tokens=False)
        if len(whole.ids) != len(bare.ids) + 2 or whole.ids[1:-1] != bare.ids:
            return None
        return whole.ids[0], whole.ids[-1]

    @staticmethod
    def _pad_token(files: ModelFiles) -> str:
        token = _read_json(files.path / "tokenizer_config.json").get("pad_token", "[PAD]")
        return token.get("content", "[PAD]") if isinstance(token, dict) else str(token)

    def _prepare(self, texts: Sequence[str]) -> list[str]:
        return [t.lower() for t in texts] if self.lowercase else list(texts)

    def count(self, texts: Sequence[str], keep: bool = False) -> list[int]:
        """Word pieces per text, special tokens included, without truncation. ``keep``: also
        keep the texts' word pieces, so :meth:`join` need not tokenize them again."""
        if not texts:
            return []
        encs = self._count.encode_batch(self._prepare(texts))
        if keep and self._ends is not None:
            pieces = {t: (np.array(e.ids[1:-1], dtype=np.int64),
                          np.array(e.offsets[1:-1], dtype=np.int64).reshape(-1, 2))
                      for t, e in zip(texts, encs, strict=True)}
            with self._kept_lock:
                self._kept.update(pieces)
                for old in list(self._kept)[:max(0, len(self._kept) - KEEP)]:
                    del self._kept[old]
        return [len(e.ids) for e in encs]

    def join(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
             ) -> dict[str, np.ndarray] | None:
        """What :meth:`encode` gives with ``offsets`` for ``texts``, put together from the
        kept word pieces (:meth:`count`) of each text's parts where it can be: what comes
        before its first span (a context header ending in whitespace), then its spans
        (sentences), with only whitespace between and after them. A text that is not cut that
        way, or has a part not kept, or would be truncated, is tokenized. ``None`` if no text
        could be put together (then :meth:`encode` them all)."""
        if self._ends is None or not texts:
            return None
        first, last = self._ends
        none = np.zeros((1, 2), np.int64)  # the offsets of a special token
        rows: list[tuple[np.ndarray, np.ndarray] | None] = []
        with self._kept_lock:
            for text, sp in zip(texts, spans, strict=True):
                parts = _parts(text, sp)
                if parts is None or any(part not in self._kept for _, part in parts):
                    rows.append(None)
                    continue
                rows.append((
                    np.concatenate([[first], *(self._kept[p][0] for _, p in parts), [last]]),
                    np.concatenate([none, *(self._kept[p][1] + at for at, p in parts), none])))
        rows = [None if row is not None and len(row[0]) > self.max_tokens else row
                for row in rows]
        missing = [i for i, row in enumerate(rows) if row is None]
        if len(missing) == len(rows):
            return None
        if missing:
            cut = self.encode([texts[i] for i in missing], offsets=True)
            for k, i in enumerate(missing):
                n = int(cut["attention_mask"][k].sum())
                rows[i] = (cut["input_ids"][k, :n], cut["offsets"][k, :n])
        longest = max(len(row[0]) for row in rows if row is not None)
        n = len(rows)
        feed = {"input_ids": np.full((n, longest), self._pad_id, dtype=np.int64),
                "attention_mask": np.zeros((n, longest), dtype=np.int64),
                "token_type_ids": np.zeros((n, longest), dtype=np.int64),
                "offsets": np.zeros((n, longest, 2), dtype=np.int64)}
        for r, row in enumerate(rows):
            assert row is not None
            ids, offsets = row
            feed["input_ids"][r, :len(ids)] = ids
            feed["attention_mask"][r, :len(ids)] = 1
            feed["offsets"][r, :len(ids)] = offsets
        return feed

    def cut(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` (ending at a word piece) of at most ``max_tokens``
        word pieces, special tokens included."""
        enc = self._count.encode(self._prepare([text])[0])
        if len(enc.ids) <= max_tokens:
            return text
        content = [i for i, special in enumerate(enc.special_tokens_mask) if not special]
        keep = max_tokens - (len(enc.ids) - len(content))
        return text[:enc.offsets[content[keep - 1]][1]] if keep > 0 else ""

    def encode(self, texts: Sequence[str], offsets: bool = False) -> dict[str, np.ndarray]:
        """``input_ids``, ``attention_mask``, ``token_type_ids`` (int64), padded to the longest;
        with ``offsets``, also ``offsets``: ``(n, tokens, 2)`` character spans of each word piece
        in its text (``(0, 0)`` for special and padding tokens)."""
        encs = self._encode.encode_batch(self._prepare(texts))
        if offsets:
            spans = np.array([e.offsets for e in encs], dtype=np.int64).reshape(len(encs), -1, 2)
            special = np.array([e.special_tokens_mask for e in encs], dtype=bool)
            spans[special.reshape(spans.shape[:2])] = 0
            return {**self._ids(encs), "offsets": spans}
        return self._ids(encs)

    @staticmethod
    def _ids(encs: Sequence[Any]) -> dict[str, np.ndarray]:
        return {
            "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
        }


def _parts(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, str]] | None:
    """``(start, part)`` of ``text``: the head before the first span (if any, ending in
    whitespace), then each span; ``None`` unless only whitespace comes between and after the
    spans (and at least one character between two), as word-piece tokenizers cut words."""
    if not spans:
        return None
    parts = []
    head = spans[0][0]
    if head:
        if not _blank(text[head - 1]):
            return None
        parts.append((0, text[:head]))
    end = head
    for a, b in spans:
        if a < end or b <= a or (a > head and (a == end or not _blank(text[end:a]))):
            return None
        parts.append((a, text[a:b]))
        end = b
    return parts if _blank(text[end:]) else None


def _blank(text: str) -> bool:
    """Only whitespace as BERT's tokenizer sees it (space, tab, newlines, Unicode spaces)."""
    return all(c in " \t\n\r" or unicodedata.category(c) == "Zs" for c in text)
