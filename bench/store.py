"""The folder store and Qdrant (local mode) side by side, on the BBC set and the news dev set
(RealTimeQA 2023), in one run:

    python -m bench store [--limit N] [--questions N] [--chars N] [--sets bbc,news]

For each set, the same articles are indexed by ``qa index``'s own pipeline into a folder and
into ``qdrant:PATH`` (index time, and size on disk), then copied folder -> Qdrant with
``qa migrate`` (the store's own write cost: no embedding). The same questions are then asked of
both: search and ask latency (p50, p95), and answer agreement: the share of questions where the
two give the same top citation (article and sentence; two refusals agree too), and among the
questions either answered.

BBC questions are the sampled articles' headlines asked as questions; news questions are the
set's own (the held-out "test" half), with the articles holding their answers indexed first,
then others up to ``--limit`` as distractors (``--chars``: each article's lead only, as
``bench news`` does on this slow machine).

Local mode searches by brute force in Python (numpy over every vector, the payload filters in
Python): its latency is not what a Qdrant server's HNSW index gives.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from bench._common import percentile
from bench._data import dataset
from bench.news import DATA, lead, news_questions, part_of  # noqa: F401 - part_of: the split

OUT = Path(__file__).parent / "out"
SEED = 20261130


def bbc_set(limit: int, questions: int) -> tuple[list[dict], list[str]]:
    lines = dataset("bbc", "bbc_articles.jsonl").read_text(encoding="utf-8").splitlines()
    rng = random.Random(SEED)
    picked = [json.loads(line) for line in rng.sample(lines, min(limit, len(lines)))]
    records = [{"id": r["id"], "title": r["title"], "text": r["body"], "source": "BBC"}
               for r in picked]
    return records, [f"{r['title']}?" for r in records[:questions]]


def news_set(limit: int, questions: int, chars: int | None) -> tuple[list[dict], list[str]]:
    asked = [q for q in news_questions("test") if q.answers][:questions]
    records = []
    with dataset(*DATA, "articles.jsonl").open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            a = json.loads(line)
            text = lead(a["text"], chars) if chars else a["text"]
            records.append({"id": f"n{i}", "title": a.get("title") or "", "text": text,
                            "source": a.get("source") or None,
                            "published": a.get("published") or None, "url": a.get("url")})
    wanted = [a.lower() for q in asked for a in q.answers]
    holding = [r for r in records if any(w in r["text"].lower() for w in wanted)]
    rest = [r for r in records if r not in holding]
    random.Random(SEED).shuffle(holding)
    picked = (holding + rest)[:limit]
    return picked, [q.text for q in asked]


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def index_both(records: list[dict], work: Path, encoder) -> dict:
    from embeddings import IndexStore
    from qa.indexing import index_paths
    from qa.indexing.migrate import copy_index
    from qa.indexing.stores import open_store

    articles = work / "articles.jsonl"
    articles.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out: dict = {}
    folder, local = work / "folder", work / "qdrant"
    for name, where in (("folder", str(folder)), ("qdrant", f"qdrant:{local}")):
        t0 = time.perf_counter()
        summary = index_paths([articles], where, encoder=encoder)
        out[name] = {"index_s": round(time.perf_counter() - t0, 1),
                     "passages": summary.passages}
    out["folder"]["bytes"], out["qdrant"]["bytes"] = size(folder), size(local)
    with IndexStore.open(folder) as source, open_store(
            f"qdrant:{work / 'migrated'}", writable=True, encoder=encoder) as target:
        t0 = time.perf_counter()
        copy_index(source, target)
        out["qdrant"]["migrate_s"] = round(time.perf_counter() - t0, 1)
    return out


def top_citation(answer) -> tuple | None:
    if not answer.found or not answer.citations:
        return None
    c = answer.citations[0]
    return (c.article_id, c.start, c.end)


def ask_both(work: Path, questions: list[str], encoder) -> dict:
    from qa.assistant import Assistant

    out: dict = {}
    tops: dict[str, list] = {}
    for name, where in (("folder", str(work / "folder")),
                        ("qdrant", f"qdrant:{work / 'qdrant'}")):
        with Assistant(_open(where), encoder=encoder) as assistant:
            assistant.warm_up()
            assistant.search("warm up the store", 5)
            search_ms, ask_ms, tops[name] = [], [], []
            for q in questions:
                t0 = time.perf_counter()
                assistant.search(q, 5)
                t1 = time.perf_counter()
                answer = assistant.ask(q)
                t2 = time.perf_counter()
                search_ms.append(1000 * (t1 - t0))
                ask_ms.append(1000 * (t2 - t1))
                tops[name].append(top_citation(answer))
            out[name] = {f"{kind}_{q}": round(percentile(ms, q), 1)
                         for kind, ms in (("search_ms", search_ms), ("ask_ms", ask_ms))
                         for q in (50, 95)}
    pairs = list(zip(tops["folder"], tops["qdrant"], strict=True))
    answered = [(a, b) for a, b in pairs if a is not None or b is not None]
    out["agreement"] = round(sum(a == b for a, b in pairs) / max(len(pairs), 1), 3)
    out["agreement_answered"] = round(
        sum(a == b for a, b in answered) / max(len(answered), 1), 3)
    out["answered"] = {"folder": sum(a is not None for a, _ in pairs),
                       "qdrant": sum(b is not None for _, b in pairs)}
    out["questions"] = len(questions)
    return out


def _open(where: str):
    from qa.indexing.location import open_index

    return open_index(where, build_if_missing=False, announce=None)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench store", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--limit", type=int, default=120, help="articles per set")
    parser.add_argument("--questions", type=int, default=40, help="questions per set")
    parser.add_argument("--chars", type=int, default=2000,
                        help="news articles: index each one's lead of about N characters "
                        "(0: whole articles)")
    parser.add_argument("--sets", default="bbc,news")
    args = parser.parse_args(argv)
    from bench._common import load_encoder

    encoder = load_encoder()
    encoder.warm_up()  # else the first store timed pays for loading the model
    encoder.encode_passages(["warm up"], [[(0, 4)]])
    report: dict = {"limit": args.limit, "questions": args.questions}
    for name in args.sets.split(","):
        records, questions = (bbc_set(args.limit, args.questions) if name == "bbc" else
                              news_set(args.limit, args.questions, args.chars or None))
        work = Path(tempfile.mkdtemp(prefix=f"bench-store-{name}-"))
        try:
            built = index_both(records, work, encoder)
            asked = ask_both(work, questions, encoder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        report[name] = {"articles": len(records), **_merge(built, asked)}
        _print(name, report[name])
    OUT.mkdir(exist_ok=True)
    (OUT / "store.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"(saved {OUT / 'store.json'}; local mode is brute force in Python: not a server's "
          "latency)")
    return 0


def _merge(built: dict, asked: dict) -> dict:
    return {"folder": {**built["folder"], **asked["folder"]},
            "qdrant": {**built["qdrant"], **asked["qdrant"]},
            **{k: v for k, v in asked.items() if k not in ("folder", "qdrant")}}


def _print(name: str, row: dict) -> None:
    f, q = row["folder"], row["qdrant"]
    print(f"{name}: {row['articles']} articles, {f['passages']} passages, "
          f"{row['questions']} questions")
    print(f"  {'':8} {'index s':>8} {'MB':>7} {'search p50/p95 ms':>18} {'ask p50/p95 ms':>16}")
    for label, r in (("folder", f), ("qdrant", q)):
        print(f"  {label:8} {r['index_s']:>8} {r['bytes'] / 2**20:>7.1f} "
              f"{r['search_ms_50']:>8}/{r['search_ms_95']:<9} {r['ask_ms_50']:>7}/{r['ask_ms_95']}")
    print(f"  qdrant migrate (no embedding): {q['migrate_s']} s; same top citation: "
          f"{row['agreement']:.1%} of all, {row['agreement_answered']:.1%} of those answered "
          f"(answered: folder {row['answered']['folder']}, qdrant {row['answered']['qdrant']})")
