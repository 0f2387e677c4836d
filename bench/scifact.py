"""SciFact (BEIR) nDCG@10 for BM25 alone, dense alone and the hybrid, in one run.

    python -m bench scifact [--qrels test|train] [--tune]

Each abstract is indexed as an article (title as its first paragraph, as BEIR scores title +
text), chunked like any article; a document's rank is that of its best passage. Tune on the
train qrels (--qrels train --tune); the reported figure is on test, never tuned on.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from bench._common import VectorCache, load_encoder
from bench._corpora import scifact_corpus
from bench._harness import article_order, build_index


def ndcg10(ranked: list[str], grades: dict[str, int]) -> float:
    dcg = sum(grades.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(grades.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench scifact")
    ap.add_argument("--qrels", choices=["test", "train"], default="test")
    ap.add_argument("--tune", action="store_true", help="grid over the fusion weight")
    args = ap.parse_args(argv)

    from qa.engine.lexical import LexicalIndex
    from qa.engine.retrieval import DENSE_WEIGHT, Retriever

    encoder = load_encoder()
    cache = VectorCache(encoder)
    corpus = scifact_corpus(encoder, args.qrels)
    store = build_index("scifact", corpus, encoder, cache, sentences=False)
    lexical = LexicalIndex.for_store(store)
    qs = corpus.questions
    print(f"SciFact {args.qrels}: {len(qs)} queries over {len(corpus.articles)} abstracts "
          f"({len(corpus.passages)} passages)")
    qvecs = cache.embed([q.text for q in qs], "queries")
    weights = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0] if args.tune else [0.0, 1.0, DENSE_WEIGHT]
    names = {0.0: "bm25", 1.0: "dense", DENSE_WEIGHT: "hybrid"}
    for w in weights:
        r = Retriever(store, lexical, dense_weight=w)
        scores = [ndcg10(article_order(r.retrieve(q.text, v, 30)), q.grades)
                  for q, v in zip(qs, qvecs)]
        label = names.get(w, "") if not args.tune else f"w={w}"
        print(f"{label:<8} nDCG@10 {np.mean(scores):.3f}", flush=True)
    store.close()
    return 0
