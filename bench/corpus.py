"""Load, clean and chunk the 2,225 BBC articles: ``python -m bench corpus``."""

from __future__ import annotations

import resource
import time

import corpus
from bench._data import dataset


def main(argv: list[str]) -> int:
    path = dataset("bbc", "bbc_articles.jsonl")
    t0 = time.perf_counter()
    articles = list(corpus.load_articles(path))
    t1 = time.perf_counter()
    passages = [p for a in articles for p in corpus.chunk_article(a)]
    t2 = time.perf_counter()
    chars = sum(len(a.text) for a in articles)
    print(f"articles        {len(articles)}")
    print(f"load + clean    {t1 - t0:.2f} s  ({len(articles) / (t1 - t0):.0f} articles/s, "
          f"{chars / (t1 - t0) / 1e6:.2f} MB/s)")
    print(f"chunk           {t2 - t1:.2f} s  ({len(passages)} passages, "
          f"{len(passages) / (t2 - t1):.0f} passages/s)")
    words = [len(p.text.split()) for p in passages]
    print(f"passage words   mean {sum(words) / len(words):.0f}, max {max(words)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS        {peak:.0f} MB")
    return 0
