"""The seams of the embeddings layer: IndexStore and Encoder satisfy the protocols qa codes
against (checked by mypy and at run time), and no module of the layer imports itself back."""

from __future__ import annotations

import textwrap
from pathlib import Path

import grimp
import pytest
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

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: None = None
               ) -> np.ndarray:
        return np.zeros((len(texts), 4))

    def encode_query(self, text: str) -> np.ndarray:
        return np.zeros(4)

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


def _cycle(graph: grimp.ImportGraph, modules: set[str]) -> list[str] | None:
    """One import cycle among ``modules`` (TYPE_CHECKING imports included), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph.find_modules_directly_imported_by(m) & modules):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(modules):
        if m not in state and (found := visit(m)):
            return found
    return None


@pytest.mark.parametrize("package", ["embeddings"])
def test_no_import_cycles(package):
    graph = grimp.build_graph(package, exclude_type_checking_imports=False, cache_dir=None)
    modules = {m for m in graph.modules if m == package or m.startswith(package + ".")}
    assert len(modules) > 20
    assert _cycle(graph, modules) is None, " -> ".join(_cycle(graph, modules) or [])


def test_the_cycle_finder_finds_one():
    graph = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    assert _cycle(graph, {"p.a", "p.b", "p.c"}) is None
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycle(graph, {"p.a", "p.b", "p.c"}) == ["p.a", "p.b", "p.c", "p.a"]
