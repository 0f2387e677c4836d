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


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(
                        child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_anywhere():
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False)
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for a, b in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        graph.add_import(importer=a, imported=b)
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]


@pytest.mark.parametrize(("statement", "absent"), [
    ("import corpus", ["torch", "faiss", "numpy", "textual", "fastapi", "onnxruntime"]),
    ("import embeddings", ["torch", "faiss", "textual", "fastapi", "onnxruntime"]),
    ("import qa", ["torch", "faiss", "textual", "fastapi", "onnxruntime", "rich"]),
    ("import qa.cli", ["torch", "faiss", "textual", "fastapi", "onnxruntime"]),
])
def test_light_entry_points_do_not_load_heavy_libraries(statement, absent):
    code = textwrap.dedent(f"""
        import sys
        {statement}
        print(" ".join(m for m in {absent!r} if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{statement} loaded {out.stdout.strip()}"
