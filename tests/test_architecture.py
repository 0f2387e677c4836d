"""The shape of the code: no import cycles anywhere (type-only imports included), and the heavy
libraries stay out of the light entry points. The layer and forbidden-import rules themselves are
import-linter contracts in pyproject.toml, checked by `make lint`."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import grimp
import pytest

PACKAGES = ("corpus", "embeddings", "qa", "tui")


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


def test_no_import_cycles_anywhere():
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False, cache_dir=None)
    modules = set(graph.modules)
    assert len(modules) > 60
    cycle = _cycle(graph, modules)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_one():
    graph = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    assert _cycle(graph, {"p.a", "p.b", "p.c"}) is None
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycle(graph, {"p.a", "p.b", "p.c"}) == ["p.a", "p.b", "p.c", "p.a"]


@pytest.mark.parametrize(("statement", "absent"), [
    ("import corpus", ["torch", "faiss", "numpy", "textual", "fastapi", "onnxruntime"]),
    ("import embeddings", ["torch", "faiss", "textual", "fastapi", "onnxruntime",
                           "qdrant_client"]),
    ("import qa", ["torch", "faiss", "textual", "fastapi", "onnxruntime", "rich",
                   "qdrant_client"]),
    ("import qa.cli", ["torch", "faiss", "textual", "fastapi", "onnxruntime", "qdrant_client"]),
])
def test_light_entry_points_do_not_load_heavy_libraries(statement, absent):
    code = textwrap.dedent(f"""
        import sys
        {statement}
        print(" ".join(m for m in {absent!r} if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{statement} loaded {out.stdout.strip()}"
