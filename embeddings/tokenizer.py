"""The model's word-piece tokenizer via the ``tokenizers`` package: no torch, no transformers."""

from __future__ import annotations

import json
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

    @staticmethod
    def _pad_token(files: ModelFiles) -> str:
        token = _read_json(files.path / "tokenizer_config.json").get("pad_token", "[PAD]")
        return token.get("content", "[PAD]") if isinstance(token, dict) else str(token)

    def _prepare(self, texts: Sequence[str]) -> list[str]:
        return [t.lower() for t in texts] if self.lowercase else list(texts)

    def count(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, special tokens included, without truncation."""
        if not texts:
            return []
        return [len(e.ids) for e in self._count.encode_batch(self._prepare(texts))]

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
