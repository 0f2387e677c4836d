"""Build a real index (IndexStore) for a benchmark corpus from cached vectors, and run the
assistant's retrieval and answering on it."""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass, field

import numpy as np

from bench._common import OUT, VectorCache
from bench._corpora import Corpus, Question


def build_index(name: str, corpus: Corpus, encoder, cache: VectorCache,
                sentences: bool = True):
    """An IndexStore in bench/out/NAME-BACKEND-KEY-index holding ``corpus`` (one folder for each
    set of passages and embedded texts, so switching between them rebuilds nothing);
    ``sentences``: with its passages' sentence vectors (late chunking: what answering uses)."""
    from embeddings.encoder import LATE_CENTERING
    from embeddings.store import IndexStore

    articles = {a.id: a for a in corpus.articles}
    prefixes = [embedded_prefix(articles[p.article_id]) for p in corpus.passages]
    texts = [x + p.text for x, p in zip(prefixes, corpus.passages)]
    late_key = f"late{LATE_CENTERING}{sentences}"
    h = hashlib.sha1(f"{encoder.weights_sha256}{encoder.backend}{late_key}".encode())
    for p, x in zip(corpus.passages, prefixes):
        h.update(f"{p.id}\0{p.start}\0{p.end}\0".encode())
        if x:  # the key of an index without context headers stays as it was
            h.update(hashlib.sha1(x.encode()).digest())
    key = h.hexdigest()
    folder = OUT / f"{name}-{encoder.backend}-{key[:10]}-index"
    stamp = folder / "bench-key.txt"
    if stamp.exists() and stamp.read_text() == key:
        return IndexStore.open(folder)
    shutil.rmtree(folder, ignore_errors=True)
    vectors = cache.embed(texts, "passages")
    t0 = time.perf_counter()
    late = None
    if sentences:
        print(f"  sentence vectors of {len(corpus.passages)} passages (late chunking)...",
              flush=True)
        _, late = encoder.encode_passages(
            texts, [[(s.start - p.start + len(x), s.end - p.start + len(x)) for s in p.sentences]
                    for p, x in zip(corpus.passages, prefixes)])
    by_article: dict[str, list[int]] = {}
    for i, p in enumerate(corpus.passages):
        by_article.setdefault(p.article_id, []).append(i)
    store = IndexStore.create(folder, model=encoder.name, dim=encoder.dim,
                              weights_sha256=encoder.weights_sha256)
    with store.writer.batch() as batch:
        for a in corpus.articles:
            rows = by_article.get(a.id, [])
            batch.upsert(a, [corpus.passages[i] for i in rows], vectors[rows],
                         [late[i] for i in rows] if late else None)
    store.close()
    stamp.write_text(key)
    print(f"  built {folder.name}: {len(corpus.articles)} articles, {len(corpus.passages)} "
          f"passages in {time.perf_counter() - t0:.1f} s", flush=True)
    return IndexStore.open(folder)


def embedded_prefix(article) -> str:
    """What indexing embeds before each passage of ``article``: its context header."""
    from corpus import context_prefix

    return context_prefix(article.title, article.source, article.published)


def seed_sentences(assistant, corpus: Corpus, cache: VectorCache) -> None:
    """Fill the assistant's sentence-vector store from the bench cache (same model): used for
    passages without stored sentence vectors. With ``BENCH_SENTENCES=alone`` answers use these
    sentences embedded alone instead of the index's late-chunked ones (to compare the two)."""
    import os

    if os.environ.get("BENCH_SENTENCES") == "alone":
        assistant.sentence_vectors.store = None
    texts = sorted({p.text[s.start - p.start:s.end - p.start] for p in corpus.passages
                    for s in p.sentences})
    sv = assistant.sentence_vectors
    missing = [t for t in texts if sv.key(t) not in sv._mem]
    vecs = cache.embed(missing, "sentences")
    for t, v in zip(missing, vecs):
        sv._mem[sv.key(t)] = v


@dataclass
class Ranking:
    name: str
    rr: list[float] = field(default_factory=list)
    hit1: list[float] = field(default_factory=list)
    hit5: list[float] = field(default_factory=list)

    def add(self, ranked_ids: list[str], gold: set[str]) -> None:
        pos = next((i for i, a in enumerate(ranked_ids[:10]) if a in gold), None)
        self.rr.append(0.0 if pos is None else 1.0 / (pos + 1))
        self.hit1.append(float(pos == 0))
        self.hit5.append(float(pos is not None and pos < 5))

    def row(self) -> str:
        return (f"{self.name:<10} MRR@10 {np.mean(self.rr):.3f}  hit@1 {np.mean(self.hit1):.3f}  "
                f"hit@5 {np.mean(self.hit5):.3f}")


def article_order(cands) -> list[str]:
    return list(dict.fromkeys(c.passage.article_id for c in cands))


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def answered(answer, q: Question) -> bool:
    """A gold answer string occurs in the answer's own sentences (not the extra citations)."""
    quotes = norm(" ".join(c.quote for c in answer.citations if c.role == "answer"))
    return answer.found and any(norm(a) in quotes for a in q.answers)
