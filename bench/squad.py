"""SQuAD v1.1 dev as open retrieval over all 2,067 paragraphs, then extractive answering.

    python -m bench squad [--part dev|test|all] [--every N] [--tune] [--fit]

Every paragraph is indexed as an article (chunked like any article). Questions are split by
article: even positions are the dev half (tuning), odd positions the held-out test half. The
default reports on test. BM25 alone, dense alone and the hybrid run in the same pass.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench._common import VectorCache, load_encoder, percentile
from bench._corpora import squad_corpus
from bench._harness import Ranking, answered, article_order, build_index, seed_sentences


def setup(version: str = "1.1", part: str = "test"):
    from qa.assistant import Assistant

    encoder = load_encoder()
    cache = VectorCache(encoder)
    corpus = squad_corpus(encoder, version, part)
    store = build_index(f"squad{version}", corpus, encoder, cache)
    assistant = Assistant(store, encoder=encoder)
    seed_sentences(assistant, corpus, cache)
    return assistant, corpus, cache


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench squad")
    ap.add_argument("--part", choices=["dev", "test", "all"], default="test")
    ap.add_argument("--every", type=int, default=1, help="take every Nth question")
    ap.add_argument("--tune", action="store_true", help="grid over the retrieval weights")
    ap.add_argument("--fit", action="store_true", help="grid over the sentence weights")
    args = ap.parse_args(argv)
    if (args.fit or args.tune) and args.part != "dev":
        ap.error("tune and fit on --part dev only")

    from qa.engine import answering
    from qa.engine.question import Question
    from qa.engine.retrieval import Retriever
    from qa.engine.short_answer import best_span_score

    assistant, corpus, cache = setup("1.1", args.part)
    questions = corpus.questions[::args.every]
    print(f"SQuAD v1.1 dev, {args.part} half: {len(questions)} questions over "
          f"{len(corpus.articles)} paragraphs ({len(corpus.passages)} passages)")
    qvecs = cache.embed([q.text for q in questions], "questions")
    store, lexical = assistant.store, assistant.lexical

    if args.tune:
        _tune(assistant, questions, qvecs)
        return 0

    configs = {"bm25": Retriever(store, lexical, dense_weight=0.0),
               "dense": Retriever(store, lexical, dense_weight=1.0),
               "hybrid": assistant.retriever}
    ranks = {n: Ranking(n) for n in configs}
    correct, found, first_only, lat = [], [], [], []
    feats = []
    t_all = time.perf_counter()
    for i, (q, v) in enumerate(zip(questions, qvecs)):
        for name, r in configs.items():
            if name != "hybrid":
                ranks[name].add(article_order(r.retrieve(q.text, v, 10)), q.gold)
        t0 = time.perf_counter()
        parsed = Question.parse(q.text)
        cands = assistant.retriever.retrieve(q.text, v, 10, span_score=best_span_score(parsed))
        ans = assistant.answer(q.text, parsed, v, cands[:answering.PASSAGES + 3])
        lat.append(time.perf_counter() - t0)
        ranks["hybrid"].add(article_order(cands), q.gold)
        correct.append(answered(ans, q))
        found.append(ans.found)
        first = [c for c in ans.citations if c.role == "answer"][:1]
        first_only.append(bool(first) and any(a.lower() in first[0].quote.lower()
                                              for a in q.answers))
        if args.fit:
            feats.append(_features(assistant, parsed, v, cands[:answering.PASSAGES], q))
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1} questions, {time.perf_counter() - t_all:.0f} s", flush=True)
    for r in ranks.values():
        print(r.row())
    print(f"answer accuracy {np.mean(correct):.3f} (gold answer in the answer's sentences; "
          f"first sentence alone {np.mean(first_only):.3f}); answered {np.mean(found):.3f}")
    print(f"retrieve+answer latency (query vector given) p50 {percentile(lat, 50) * 1000:.1f} ms "
          f"p95 {percentile(lat, 95) * 1000:.1f} ms")
    if args.fit:
        _fit(feats)
    return 0


def _features(assistant, parsed, qvec, cands, q):
    """Each candidate sentence's features (as the assistant computes them) and whether it
    holds a gold answer."""
    from qa.engine import answering

    sents = answering.score(parsed, qvec, cands, assistant.lexical.idf,
                            assistant.sentence_vectors.of).ranked
    x = np.stack([s.features.array() for s in sents]) if sents else np.zeros((0, 6))
    y = np.array([any(a.lower() in s.text.lower() for a in q.answers)
                  and s.article_id in q.gold for s in sents], dtype=bool)
    return x, y


def _fit(feats) -> None:
    """Grid search of the sentence weights for top-1 accuracy (the answer string in the best
    sentence), and the two-sentence rule."""
    import itertools

    from qa.engine.answering import WEIGHTS

    data = [(x, y) for x, y in feats if len(y)]

    def acc(w, ratio=2.0):
        one = two = 0
        for x, y in data:
            s = x @ w
            o = np.argsort(-s, kind="stable")
            one += bool(y[o[0]])
            two += bool(y[o[0]] or (len(o) > 1 and s[o[1]] >= ratio * s[o[0]] and y[o[1]]))
        return one / len(data), two / len(data)

    grid = itertools.product([0.5, 1, 1.5], [0.5, 1, 1.5, 2], [0, 0.25, 0.5, 1],
                             [0, 0.15, 0.3, 0.5], [0, -0.3])
    best = max(((acc(np.array([d, lx, WEIGHTS.context, p, t, sh]))[0], (d, lx, p, t, sh))
                for d, lx, p, t, sh in grid))
    current = np.array(WEIGHTS)
    print(f"current {WEIGHTS._asdict()}: top-1 {acc(current)[0]:.3f}")
    print(f"best grid point (dense, lexical, passage, type, short) {best[1]}: top-1 {best[0]:.3f}")
    for ratio in (0.85, 0.9, 0.93, 0.95, 1.0):
        print(f"  second sentence within {ratio}: accuracy {acc(current, ratio)[1]:.3f}")


def _tune(assistant, questions, qvecs) -> None:
    """Fusion weight alone, then the sentence re-ranking weights (on stored features)."""
    import itertools

    from qa.engine.retrieval import Retriever
    from qa.engine.terms import terms

    store, lexical = assistant.store, assistant.lexical
    for w in (0.4, 0.5, 0.6, 0.7):
        r = Retriever(store, lexical, dense_weight=w)
        rank = Ranking(f"fusion w={w}")
        for q, v in zip(questions, qvecs):
            rank.add(article_order(r.retrieve(q.text, v, 10)), q.gold)
        print(rank.row(), flush=True)
    r = Retriever(store, lexical)
    rows = []
    for q, v in zip(questions, qvecs):
        cands = r.retrieve(q.text, v, 15)
        idf = {t: lexical.idf(t) for t in set(terms(q.text))}
        total = sum(idf.values()) or 1.0
        feats = []
        for c in cands:
            p = c.passage
            texts = [p.text[s.start - p.start:s.end - p.start] for s in p.sentences]
            cos = assistant.sentence_vectors.get(texts) @ v
            cov = max(sum(w for t, w in idf.items() if t in set(terms(x))) / total
                      for x in texts)
            feats.append((c.dense, c.lexical, float(cos.max()), cov, p.article_id))
        rows.append((feats, q.gold))

    def mrr(ws):
        rank = Ranking("")
        for feats, gold in rows:
            order = sorted(feats, key=lambda f: -sum(a * b for a, b in zip(ws, f[:4])))
            rank.add(list(dict.fromkeys(f[4] for f in order)), gold)
        return float(np.mean(rank.rr))

    grid = itertools.product([0.3, 0.5, 0.7], [0.2, 0.3, 0.4], [0.4, 0.6, 0.8],
                             [0.3, 0.45, 0.6])
    best = sorted(((mrr(ws), ws) for ws in grid), reverse=True)[:5]
    for score, ws in best:
        print(f"rerank (dense, bm25, best sentence, coverage) {ws}: MRR@10 {score:.4f}")
