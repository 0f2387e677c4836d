"""Sentence splitters on the BBC corpus: speed, and the cases news text needs right.

``python -m bench sentences``
"""

from __future__ import annotations

import json
import time

from bench._data import dataset

CASES = [
    ('Gen. Smith met U.S. officials at No. 10 Downing St. on Monday. The rate rose 2.5 percent.',
     2),
    ('"We will fight," he said. "Is it over?" she asked. Mr. Jones left at 5 p.m. yesterday.', 3),
    ("UN chief Antonio Guterres on Feb. 27 reiterated his call. He said no.", 2),
]


def _splitters():
    out = {}
    try:
        import sentencex
        out["sentencex"] = lambda t: list(sentencex.segment("en", t))
    except ImportError:
        pass
    try:
        import blingfire
        out["blingfire"] = lambda t: blingfire.text_to_sentences(t).split("\n")
    except ImportError:
        pass
    try:
        import syntok.segmenter as ss
        out["syntok"] = lambda t: ["".join(map(str, s)) for p in ss.analyze(t) for s in p]
    except ImportError:
        pass
    try:
        import pysbd
        seg = pysbd.Segmenter(language="en", clean=False)
        out["pysbd"] = seg.segment
    except ImportError:
        pass
    return out


def main(argv: list[str]) -> int:
    path = dataset("bbc", "bbc_articles.jsonl")
    bodies = [json.loads(line)["body"] for line in path.open()]
    limit = int(argv[0]) if argv else 500
    bodies = bodies[:limit]
    size = sum(len(b) for b in bodies)
    print(f"{len(bodies)} BBC articles, {size / 1e6:.2f} MB")
    print(f"{'splitter':<10} {'MB/s':>8} {'articles/s':>11}  cases right")
    for name, split in _splitters().items():
        t = time.perf_counter()
        for body in bodies:
            split(body)
        dt = time.perf_counter() - t
        right = sum(len([s for s in split(text) if s.strip()]) == n for text, n in CASES)
        print(f"{name:<10} {size / dt / 1e6:>8.2f} {len(bodies) / dt:>11.0f}  {right}/{len(CASES)}")
    print("(blingfire, syntok and pysbd are compared when installed; sentencex is used)")
    return 0
