"""Run a benchmark by name: ``python -m bench NAME [ARGS...]``; ``all`` runs the quick ones."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import bench

QUICK = ["sentences", "corpus", "time_words"]


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(bench.__file__).parent)])
                  if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print("usage: python -m bench NAME [ARGS...]   names:", ", ".join(available()))
        return 0
    name, rest = argv[0].replace("-", "_"), argv[1:]  # "short-answers" names short_answers
    names = [n for n in QUICK if n in available()] if name == "all" else [name]
    for n in names:
        if n not in available():
            print(f"bench: no benchmark named {n!r}; choose from {', '.join(available())}")
            return 2
        print(f"== bench {n}", flush=True)
        code = importlib.import_module(f"bench.{n}").main(rest)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
