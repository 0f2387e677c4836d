"""Search latency, memory and recall@10 of faiss index types at 10k, 100k and 1M passages.

``python -m bench faiss_scale [--sizes 10000,100000,1000000] [--types flat,ivf,hnsw]``

Vectors are synthetic but shaped like sentence embeddings: 384-dim, normalised, each a mix of two
real MiniLM passage vectors (``bench/out/bbc_vectors.npy``, which ``bench index`` writes) plus a
little noise. Queries come from the same distribution and are not in the index.
Latency is one query at a time (k=10), as the assistant searches. Recall@10 is against exact
search. "ivf" is what the store uses past its threshold: IVF + SQ8, re-ranked with exact vectors.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from embeddings import faiss_index as fx

OUT = Path(__file__).parent / "out"
DIM, K = 384, 10


def synthetic(n: int, rng: np.random.Generator, real: np.ndarray) -> np.ndarray:
    """Points between two real passage vectors, plus a little noise: they stay close to where
    real embeddings lie (random isotropic vectors would make every index look bad)."""
    out = np.empty((n, DIM), dtype=np.float32)
    for i in range(0, n, 100_000):
        m = min(100_000, n - i)
        a, b = real[rng.integers(0, len(real), m)], real[rng.integers(0, len(real), m)]
        w = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
        x = w * a + (1 - w) * b + rng.standard_normal((m, DIM), dtype=np.float32) * 0.01
        out[i:i + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def real_vectors(rng: np.random.Generator) -> np.ndarray:
    path = OUT / "bbc_vectors.npy"
    if path.exists():
        return np.load(path).astype(np.float32)
    print("(no bench/out/bbc_vectors.npy: run `python -m bench index` first for real vectors; "
          "using random clusters)")
    c = rng.standard_normal((4000, DIM), dtype=np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def build(kind: str, base: np.ndarray):
    import faiss

    ids = np.arange(len(base), dtype=np.int64)
    if kind == "flat":
        return fx.build(fx.FLAT, DIM, ids, base), fx.FLAT
    if kind == "ivf":
        t = f"IVF{fx.ivf_lists(len(base))},SQ8"
        return fx.build(t, DIM, ids, base), t
    index = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 40
    index.add(base)
    index.hnsw.efSearch = 64
    return index, "HNSW32"


def search_one(kind: str, index, index_type: str, base: np.ndarray, q: np.ndarray):
    if kind == "hnsw":
        return index.search(q, K)[1]
    if kind == "flat":
        return fx.search(index, index_type, q, K)[1]
    _, cand = fx.search(index, index_type, q, K * fx.RERANK)
    out = np.full((len(q), K), -1, dtype=np.int64)
    for i, row in enumerate(cand):
        row = row[row >= 0]
        s = base[row] @ q[i]
        out[i, :min(K, len(row))] = row[np.argsort(-s)[:K]]
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench faiss_scale")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--types", default="flat,ivf,hnsw")
    ap.add_argument("--hnsw-max", type=int, default=100_000, help="skip HNSW above this size")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--store-max", type=int, default=100_000,
                    help="also time IndexStore.search up to this size")
    args = ap.parse_args(argv)
    import faiss

    rng = np.random.default_rng(0)
    cent = real_vectors(rng)
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads, from {len(cent)} "
          f"real vectors; latency = one query at a time, k={K}")
    print(f"{'n':>9} {'type':<14} {'build s':>8} {'index MB':>10} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'recall@10':>9}")
    for n in (int(s) for s in args.sizes.split(",")):
        base = synthetic(n, rng, cent)
        queries = synthetic(args.queries, rng, cent)
        exact = None
        for kind in args.types.split(","):
            if kind == "hnsw" and n > args.hnsw_max:
                continue
            t0 = time.perf_counter()
            index, index_type = build(kind, base)
            built = time.perf_counter() - t0
            memory = faiss.serialize_index(index).nbytes / 2**20
            lat, found = [], []
            for i in range(len(queries)):
                t = time.perf_counter()
                found.append(search_one(kind, index, index_type, base, queries[i:i + 1])[0])
                lat.append((time.perf_counter() - t) * 1000)
            found = np.array(found)
            if kind == "flat":
                exact = found
            recall = (np.mean([len(set(a) & set(b)) / K for a, b in zip(found, exact, strict=True)])
                      if exact is not None else float("nan"))
            print(f"{n:>9,} {index_type:<14} {built:>8.1f} {memory:>10.0f} "
                  f"{np.percentile(lat, 50):>8.2f} {np.percentile(lat, 95):>8.2f} {recall:>9.3f}",
                  flush=True)
            del index
        if n <= args.store_max:
            store_search(n, base, queries, exact)
        del base
    return 0


def store_search(n: int, base: np.ndarray, queries: np.ndarray, exact: np.ndarray | None) -> None:
    """What a user gets: ``IndexStore.search`` (IVF candidates re-ranked with vectors read
    from SQLite), exact and approximate, on a store holding ``base``."""
    import shutil
    import tempfile

    from corpus.models import Article, Passage, Sentence
    from embeddings import IndexStore

    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    store = IndexStore.create(folder / "index", model="synthetic", dim=DIM, weights_sha256="-")
    t0 = time.perf_counter()
    for i in range(0, n, 5000):
        with store.batch() as b:
            for j in range(i, min(n, i + 5000)):
                a = Article(id=f"a{j}", title="t", text="synthetic passage", content_hash="h")
                p = Passage(id=f"a{j}-0", article_id=a.id, index=0, text=a.text, start=0,
                            end=len(a.text), sentences=[Sentence(start=0, end=len(a.text))])
                b.upsert(a, [p], base[j:j + 1])
    wrote = time.perf_counter() - t0
    for index_type in (fx.FLAT, f"IVF{fx.ivf_lists(n)},SQ8"):
        store.rebuild_faiss(index_type)
        lat, found = [], []
        for q in queries:
            t = time.perf_counter()
            found.append(store.search(q[None], K)[1][0] - 1)  # vids start at 1
            lat.append((time.perf_counter() - t) * 1000)
        recall = (np.mean([len(set(a) & set(b)) / K for a, b in zip(found, exact, strict=True)])
                  if exact is not None else float("nan"))
        print(f"{n:>9,} {'store ' + index_type:<14} {wrote:>8.1f} {'':>10} "
              f"{np.percentile(lat, 50):>8.2f} {np.percentile(lat, 95):>8.2f} {recall:>9.3f}",
              flush=True)
    size = sum(f.stat().st_size for f in (folder / "index").iterdir())
    print(f"{'':>9} (store on disk: {size / 2**20:.0f} MB; 'build s' = writing it to SQLite)")
    store.close()
    shutil.rmtree(folder, ignore_errors=True)
