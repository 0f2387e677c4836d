"""Copy groups (issue 13) on real news: how many, how large, sampled pairs to read, and what
grouping costs `qa index`.

``python -m bench copies [--limit N] [--pairs 50] [--seed 13] [--timing 300] [--rounds 1]
[--fresh | --regroup]``

1. Indexes ``realtimeqa-2023/articles.jsonl`` (its first ``--limit`` articles, or all) with the
   real pipeline (``qa.indexing.index_paths``, as ``qa index``) into
   ``bench/out/copies-realtimeqa-{N|all}/``; an index already there is reused (the run then
   only groups the articles never compared: an index built before copy groups).
2. Prints the number of copy groups with more than one article, the group-size histogram and
   ``--pairs`` sampled grouped pairs (each member with its group's first article; seeded) with
   title, outlet and the first 300 characters of both, to be read and judged by hand.
3. ``--timing N``: indexes the first N BBC articles into fresh folders with and without
   grouping (``--rounds`` times each, alternating) and prints both times, their ratio and the
   time spent in grouping itself.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from bench._common import OUT, load_encoder
from bench._data import dataset

SNIPPET = 300


def _limited(source: Path, limit: int, name: str) -> Path:
    """``source`` itself, or a copy of its first ``limit`` lines under bench/out/."""
    if not limit:
        return source
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}-{limit}.jsonl"
    if not path.exists():
        with source.open(encoding="utf-8") as f:
            path.write_text("".join(itertools.islice(f, limit)), encoding="utf-8")
    return path


SPENT = [0.0]  # seconds spent grouping so far


def _timed_grouping() -> list[float]:
    """Count the seconds spent in :class:`CopyGrouper` (both entry points) in :data:`SPENT`."""
    from qa.indexing.copies import CopyGrouper

    spent = SPENT
    if getattr(CopyGrouper, "_bench_timed", False):
        return spent
    CopyGrouper._bench_timed = True  # type: ignore[attr-defined]
    for name in ("group", "group_ungrouped"):
        original = getattr(CopyGrouper, name)

        def timed(self, *args, _original=original, **kwargs):
            if getattr(self, "_timing", False):  # group_ungrouped calls group
                return _original(self, *args, **kwargs)
            self._timing = True
            t = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t
                self._timing = False

        setattr(CopyGrouper, name, timed)
    return spent


def _forget_groups(folder: Path) -> None:
    """Every article back to "not compared" (what an index from before copy groups holds)."""
    conn = sqlite3.connect(folder / "store.sqlite")
    try:
        with conn:
            conn.execute("UPDATE articles SET copy_group = NULL")
    finally:
        conn.close()


def _index(data: Path, folder: Path, encoder, *, copies: bool = True) -> float:
    from qa.indexing import index_paths

    t = time.perf_counter()
    index_paths([data], folder, encoder=encoder, copies=copies)
    return time.perf_counter() - t


def _report_groups(folder: Path, pairs: int, seed: int) -> None:
    from embeddings import IndexStore
    from qa.indexing.copies import StoryText, same_story

    with IndexStore.open(folder) as store:
        articles = {a.id: a for a in store.articles()}
        groups = store.group_members(list(set(store.copy_groups(list(articles)).values())))
        info = store.info()
        multi = {g: m for g, m in groups.items() if len(m) > 1}
        sizes = collections.Counter(len(m) for m in multi.values())
        print(f"articles {len(articles)}, copy groups (stories) {info['copy_groups']}, "
              f"groups with >1 article {len(multi)}, articles in them "
              f"{sum(len(m) for m in multi.values())}")
        print("group size histogram:", dict(sorted(sizes.items())))
        grouped = [(m[0], other) for m in multi.values() for other in m[1:]]
        print(f"grouped pairs (member, first article): {len(grouped)}; "
              f"{min(pairs, len(grouped))} sampled (seed {seed})")
        for n, (a, b) in enumerate(random.Random(seed).sample(sorted(grouped),
                                                              min(pairs, len(grouped))), 1):
            x, y = articles[a], articles[b]
            score = same_story(StoryText.of(x), StoryText.of(y))
            print(f"\n== pair {n}: containment {score:.2f}")
            for art in (x, y):
                text = " ".join(art.text[:SNIPPET].split())
                print(f"  [{art.source}] {art.title} ({art.published})\n    {text}")


def _timing(n: int, rounds: int, encoder) -> None:
    data = _limited(dataset("bbc", "bbc_articles.jsonl"), n, "bbc")
    spent = _timed_grouping()
    times: dict[bool, list[float]] = {True: [], False: []}
    grouping: list[float] = []
    for r in range(rounds):
        for copies in ((False, True) if r % 2 == 0 else (True, False)):
            with tempfile.TemporaryDirectory(dir=OUT) as tmp:
                before = spent[0]
                times[copies].append(_index(data, Path(tmp) / "index", encoder, copies=copies))
                if copies:
                    grouping.append(spent[0] - before)
    without, with_ = min(times[False]), min(times[True])
    print(f"\nindexing {n} BBC articles ({rounds} round(s), best of each): without grouping "
          f"{without:.1f} s, with {with_:.1f} s, ratio {with_ / without:.3f}; grouping itself "
          f"{min(grouping):.2f} s ({min(grouping) / without:.1%} of the run without)")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench copies")
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles")
    ap.add_argument("--pairs", type=int, default=50, help="grouped pairs to print for reading")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--timing", type=int, default=300,
                    help="BBC articles to time indexing with and without grouping (0: skip)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--fresh", action="store_true", help="rebuild the realtimeqa index")
    ap.add_argument("--regroup", action="store_true",
                    help="compare every article again (after changing the thresholds)")
    args = ap.parse_args(argv)
    encoder = load_encoder()
    encoder.warm_up()
    data = _limited(dataset("realtimeqa-2023", "articles.jsonl"), args.limit, "realtimeqa")
    folder = OUT / f"copies-realtimeqa-{args.limit or 'all'}"
    if args.fresh and folder.exists():
        shutil.rmtree(folder)
    if args.regroup and folder.exists():
        _forget_groups(folder)
    spent = _timed_grouping()
    took = _index(data, folder, encoder)
    print(f"realtimeqa: indexed into {folder} in {took:.1f} s (grouping {spent[0]:.1f} s of it; "
          "an index already there is only brought up to date)")
    _report_groups(folder, args.pairs, args.seed)
    if args.timing:
        _timing(args.timing, args.rounds, encoder)
    return 0
