"""The seams of the embeddings layer: IndexStore and Encoder satisfy the protocols qa codes
against (checked by mypy and at run time), and no module of the layer imports itself back."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api as mypy_api

from embeddings import Encoder, IndexStore, PassageStore, StoreLookup, TextEncoder, WriteBatch

ROOT = Path(__file__).resolve().parents[1]


def test_index_store_and_encoder_are_the_protocols_at_run_time(tmp_path):
    from embeddings import load_encoder

    encoder = load_encoder()
    assert isinstance(encoder, Encoder) and isinstance(encoder, TextEncoder)
    with IndexStore.create(tmp_path / "idx", model="m", dim=4, weights_sha256="x") as store:
        assert isinstance(store, PassageStore)
        with store.batch() as batch:
            assert isinstance(batch, WriteBatch)
        lookup = store.lookup()
        assert isinstance(lookup, StoreLookup)
        lookup.close()
    assert not isinstance(object(), PassageStore) and not isinstance(object(), TextEncoder)


CHECKED = """
from pathlib import Path

from embeddings import Encoder, IndexStore, PassageStore, StoreLookup, TextEncoder, WriteBatch


def seams(store: IndexStore, encoder: Encoder) -> None:
    passages: PassageStore = store
    text_encoder: TextEncoder = encoder
    lookup: StoreLookup = store.lookup()
    with store.batch() as b:
        batch: WriteBatch = b
    print(passages, text_encoder, lookup, batch)
"""

NOT_AN_ENCODER = """
from collections.abc import Sequence

import numpy as np

from embeddings import TextEncoder


class NoWarmUp:  # everything but warm_up
    name = "m"
    dim = 4
    weights_sha256 = "x"
    max_tokens = 128
    backend = "b"
    batch_size = 32

    def encode(self, texts: Sequence[str], batch_size: int | None = None, progress: None = None
               ) -> np.ndarray:
        return np.zeros((len(texts), 4))

    def encode_passages(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                        batch_size: int | None = None, progress: None = None
                        ) -> tuple[np.ndarray, list[np.ndarray]]:
        return np.zeros((len(texts), 4)), [np.zeros((len(s), 4)) for s in spans]

    def encode_query(self, text: str) -> np.ndarray:
        return np.zeros(4)

    def release(self) -> None:
        pass

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [1 for _ in texts]


encoder: TextEncoder = NoWarmUp()
"""


def run_mypy(tmp_path: Path, code: str) -> tuple[int, str]:
    module = tmp_path / "seams_check.py"
    module.write_text(textwrap.dedent(code))
    out, err, status = mypy_api.run([str(module), "--config-file", str(ROOT / "pyproject.toml"),
                                     "--strict", "--follow-imports=silent",
                                     "--no-error-summary"])
    return status, out + err


def test_mypy_accepts_index_store_and_encoder_as_the_protocols(tmp_path):
    status, out = run_mypy(tmp_path, CHECKED)
    assert status == 0, out


def test_mypy_rejects_an_encoder_without_warm_up(tmp_path):
    status, out = run_mypy(tmp_path, NOT_AN_ENCODER)
    assert status == 1 and "warm_up" in out, out
