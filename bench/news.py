"""Real news questions (RealTimeQA 2023): passage hit@k and answer-sentence hit for BM25 alone,
dense alone and the hybrid, and refusals of the out-of-corpus questions, in one run.

    python -m bench news [--part tune|test|all] [--every N] [--chars N] [--tokens N] [--sweep]
                         [--alone]

All 3,012 articles are indexed (as the product chunks them; the index is cached in bench/out/
and rebuilt only when the passages change). Questions are split by a hash of their id: the tune
half (tuning) and the test half (held out, the default report; never tuned on).

- passage hit@k: a gold answer string (case-insensitive) occurs in one of the top k passages.
- answer hit: it occurs in the answer's own cited sentences (the answerable questions).
- refusals: the out-of-corpus questions (``answers: []``) the assistant should refuse.
--chars N indexes only the lead of each article: its paragraphs that end within the first N
characters (at least its first sentence). All articles stay in as distractors. Whole articles
(the default: what a reader indexes) take about 15 minutes to index with openvino-int8 on 2 cores
(39,036 passages: 8 to embed them, 7 for their sentence vectors), leads of 2,000 characters
about 3 (97% of the answerable questions still have their answer string in some lead, but a
lead lacks names the whole article gives). ``--tokens N`` cuts passages at N word pieces, the
context header counted, instead of as ``qa index`` does (256 for MiniLM).
Answers use the late-chunked sentence vectors stored with each passage, as ``qa index`` makes
them (one more forward pass over the corpus when the index is built); with ``--alone`` they use
sentences embedded alone instead, on demand and kept in the bench cache (keyed by text): far
quicker to set up, close but not what the product answers with.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import time

import numpy as np

from bench._common import VectorCache, fit_logistic, load_encoder, percentile
from bench._corpora import Corpus, Question, chunk_all
from bench._data import dataset
from bench._harness import build_index, norm
from corpus import Article
from embeddings import in_lists
from qa.engine.sentence_vectors import SentenceVectors

DATA = ("realtimeqa-2023",)


def part_of(qid: str) -> str:
    """Deterministic split by question id: about half "tune", half "test"."""
    return "tune" if hashlib.sha1(qid.encode()).digest()[0] % 2 == 0 else "test"


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def lead(text: str, chars: int) -> str:
    """The paragraphs of ``text`` that end within ``chars`` characters (else its first
    sentences that do, else its first ``chars`` characters)."""
    from corpus import paragraph_spans, split_sentences

    if len(text) <= chars:
        return text
    ends = [e for _, e in paragraph_spans(text) if e <= chars]
    if not ends:
        ends = [e for _, e in split_sentences(text[:chars + 1]) if e <= chars]
    return text[:ends[-1] if ends else chars]


def news_articles(chars: int | None = None) -> list[Article]:
    out = []
    with dataset(*DATA, "articles.jsonl").open() as fh:
        for i, line in enumerate(fh):
            a = json.loads(line)
            text = lead(a["text"], chars) if chars else a["text"]
            out.append(Article(id=f"n{i}", title=a.get("title") or "", text=text,
                               source=a.get("source") or None, url=a.get("url") or None,
                               published=_date(a.get("published") or ""),
                               content_hash=hashlib.sha256(text.encode()).hexdigest()))
    return out


def news_questions(part: str) -> list[Question]:
    out = []
    with dataset(*DATA, "questions.jsonl").open() as fh:
        for line in fh:
            q = json.loads(line)
            if part == "all" or part_of(q["id"]) == part:
                out.append(Question(q["question"].strip(), list(q["answers"]),
                                    date=_date((q.get("date") or "").replace("/", "-"))))
    return out


def news_corpus(encoder, part: str = "test", chars: int | None = None,
                tokens: int | None = None) -> Corpus:
    articles = news_articles(chars)
    return Corpus(articles, chunk_all(articles, encoder, tokens), news_questions(part))


class CachedSentences(SentenceVectors):
    """Sentences embedded alone, served from the bench cache (keyed by text) and embedded on
    first use: the corpus has ~200,000 sentences and questions need a few thousand."""

    def __init__(self, cache: VectorCache) -> None:
        super().__init__(cache.encoder)
        self.cache = cache

    def get(self, texts) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        need = [k for k in dict.fromkeys(keys) if k not in self._mem]
        db = self.cache.db
        for part, marks in in_lists(need):
            rows = db.execute(f"SELECT k, vec FROM v WHERE k IN ({marks})", part)
            self._mem.update((k, np.frombuffer(b, dtype=np.float32)) for k, b in rows)
        todo = {k: t for k, t in zip(keys, texts) if k not in self._mem}
        if todo:
            vecs = self.encoder.encode(list(todo.values()), batch_size=64)
            db.executemany("INSERT OR REPLACE INTO v VALUES (?, ?)",
                           [(k, v.astype(np.float32).tobytes()) for k, v in zip(todo, vecs)])
            db.commit()
            self._mem.update(zip(todo, vecs))
        if not keys:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self._mem[k] for k in keys])


def setup(part: str = "test", chars: int | None = None, alone: bool = False,
          rerank: bool = True, tokens: int | None = None):
    from qa.assistant import Assistant

    encoder = load_encoder()
    cache = VectorCache(encoder)
    corpus = news_corpus(encoder, part, chars, tokens)
    store = build_index(f"news{chars or ''}", corpus, encoder, cache, sentences=not alone)
    assistant = Assistant(store, encoder=encoder, rerank=rerank)
    if alone:
        assistant._sentences = CachedSentences(cache)
    return assistant, corpus, cache


def passage_rank(cands, answers: list[str]) -> int | None:
    """0-based rank of the first passage holding a gold answer string, among the top 10."""
    gold = [norm(a) for a in answers]
    return next((i for i, c in enumerate(cands[:10]) if any(g in norm(c.passage.text)
                                                            for g in gold)), None)


class Hits:
    def __init__(self, name: str) -> None:
        self.name = name
        self.ranks: list[int | None] = []

    def add(self, rank: int | None) -> None:
        self.ranks.append(rank)

    def at(self, k: int) -> float:
        return float(np.mean([r is not None and r < k for r in self.ranks]))

    def row(self) -> str:
        mrr = np.mean([0.0 if r is None else 1 / (r + 1) for r in self.ranks])
        return (f"{self.name:<7} passage hit@1 {self.at(1):.3f}  hit@5 {self.at(5):.3f}  "
                f"hit@10 {self.at(10):.3f}  MRR@10 {mrr:.3f}")


def ask(assistant, plan, qvec, k: int = 10):
    """What ``Assistant.ask`` does, with the query vector given (of ``plan.query``): the
    candidates (top ``k``) and the answer (``Assistant.answer``: ``answering.score``, then the
    reply as the user sees it). ``plan``: ``Assistant.plan`` of the question."""
    from qa.assistant import RELATED
    from qa.engine import answering

    cands = assistant.candidates(plan, qvec, max(k, answering.PASSAGES + RELATED))
    ans = assistant.answer(plan.question, plan.parsed, qvec,
                           cands[:answering.PASSAGES + RELATED],
                           filtered=plan.allowed is not None, newest=plan.newest)
    ans.time_reading = plan.time_reading
    return cands, ans, plan.parsed


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench news")
    ap.add_argument("--part", choices=["tune", "test", "all"], default="test")
    ap.add_argument("--every", type=int, default=1, help="take every Nth question")
    ap.add_argument("--chars", type=int, default=None,
                    help="index only each article's lead, up to N characters")
    ap.add_argument("--sweep", action="store_true", help="refusal precision/recall by threshold")
    ap.add_argument("--fit", action="store_true",
                    help="fit the confidence (answering.CONF_WEIGHTS, CONF_BIAS) on these "
                    "questions: logistic, P(the articles hold the answer); use --part tune")
    ap.add_argument("--dump", metavar="FILE",
                    help="write each question's Answer JSON to FILE (one line each), to read")
    ap.add_argument("--no-time", action="store_true",
                    help="ignore the questions' time words (as before issue 13), to compare")
    ap.add_argument("--no-rerank", action="store_true",
                    help="answer without the cross-encoder re-ranker, to compare")
    ap.add_argument("--tokens", type=int, default=None,
                    help="cut passages at N word pieces, context header counted (default: as "
                    "`qa index` does, 256 for MiniLM), to compare passage sizes")
    ap.add_argument("--alone", action="store_true",
                    help="answer with sentences embedded alone (cached), not late-chunked ones")
    args = ap.parse_args(argv)

    from qa.engine import answering
    from qa.engine.retrieval import Retriever

    assistant, corpus, cache = setup(args.part, args.chars, args.alone, not args.no_rerank,
                                     args.tokens)
    questions = corpus.questions[::args.every]
    answerable = [q for q in questions if q.answers]
    lengths = [p.end - p.start for p in corpus.passages]
    lead_note = f", leads of {args.chars} chars" if args.chars else ""
    lead_note += ", sentences embedded alone" if args.alone else ""
    lead_note += ", no re-ranker" if args.no_rerank else ""
    print(f"RealTimeQA 2023{lead_note}, {args.part} half: {len(answerable)} answerable + "
          f"{len(questions) - len(answerable)} out-of-corpus questions over "
          f"{len(corpus.articles)} articles ({len(corpus.passages)} passages, mean "
          f"{np.mean(lengths):.0f} chars)")
    if args.no_time:
        import qa.assistant
        from qa.engine.time_words import TimeReading

        qa.assistant.read_time = lambda text, today: TimeReading(question=text)
    plans = [assistant.plan(q.text, today=q.date) for q in questions]
    queries = [p.query for p in plans]
    qvecs = cache.embed(queries, "questions")
    store, lexical = assistant.store, assistant.lexical
    singles = {"bm25": Retriever(store, lexical, dense_weight=0.0),
               "dense": Retriever(store, lexical, dense_weight=1.0)}
    hits = {n: Hits(n) for n in (*singles, "hybrid")}
    threshold = answering.THRESHOLD
    answering.THRESHOLD = -1.0  # answer everything; refusals are applied below by confidence
    results, lat, signals, plain = [], [], [], []
    t_all = time.perf_counter()
    for i, (q, plan, query, v) in enumerate(zip(questions, plans, queries, qvecs)):
        if q.answers:
            for name, r in singles.items():
                hits[name].add(passage_rank(r.retrieve(query, v, 10), q.answers))
        t0 = time.perf_counter()
        cands, ans, _ = ask(assistant, plan, v)
        lat.append(time.perf_counter() - t0)
        if q.answers:
            hits["hybrid"].add(passage_rank(cands, q.answers))
            plain.append(_hit_without_reranker(assistant, plan, v, q))
        results.append((q, ans))
        signals.append(_signals(assistant, plan, v, cands) if args.fit else None)
        if (i + 1) % 100 == 0:
            print(f"  {i + 1} questions, {time.perf_counter() - t_all:.0f} s", flush=True)
    for h in hits.values():
        print(h.row())
    answering.THRESHOLD = threshold
    right = [_answered_any(a, q) for q, a in results if q.answers]
    print(f"answer  sentence hit {np.mean(right):.3f} (answer string in the cited answer "
          f"sentences, answerable questions, never refusing)"
          + (f"; without the re-ranker {np.mean(plain):.3f}" if None not in plain else ""))
    _short_answers(results)
    if args.fit:
        _fit(results, signals)
    if args.dump:
        _dump(args.dump, results)
    _refusals(results, threshold, args.sweep)
    print(f"retrieve+answer (query vector given) p50 {percentile(lat, 50) * 1000:.0f} ms "
          f"p95 {percentile(lat, 95) * 1000:.0f} ms")
    store.close()
    return 0


def _hit_without_reranker(assistant, plan, qvec, q: Question) -> bool | None:
    """Whether the answer to ``plan`` holds the gold answer with the re-ranker switched off for
    this one question, side by side with it (None: it is off anyway)."""
    if not assistant.rerank:
        return None
    reranker, assistant._reranker, assistant.rerank = assistant._reranker, None, False
    try:
        return _answered_any(ask(assistant, plan, qvec)[1], q)
    finally:
        assistant._reranker, assistant.rerank = reranker, True


def _refusals(results, threshold: float, sweep: bool) -> None:
    should = np.array([not q.answers for q, _ in results])
    conf = np.array([a.confidence for _, a in results])
    hit = np.array([bool(q.answers) and _answered_any(a, q) for q, a in results])

    def at(t: float) -> tuple[float, float, float]:
        refused = conf < t
        tp = int((refused & should).sum())
        return (tp / max(1, refused.sum()), tp / max(1, should.sum()),
                float(np.mean((hit & ~refused)[~should])) if (~should).any() else 0.0)

    p, r, h = at(threshold)
    print(f"refusal precision {p:.3f} recall {r:.3f} at threshold {threshold} "
          f"({int(should.sum())} out-of-corpus); answer hit with these refusals {h:.3f}")
    if sweep:
        print("  threshold  precision  recall  answer hit")
        for t in (0.05, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7):
            p, r, h = at(t)
            print(f"  {t:9.2f}  {p:9.3f}  {r:6.3f}  {h:10.3f}")


def _signals(assistant, plan, qvec, cands):
    """The confidence features of a question's answer (None: nothing retrieved)."""
    from qa.assistant import RELATED
    from qa.engine import answering

    if not cands:
        return None
    scoring = assistant.score(plan.parsed, qvec, cands[:answering.PASSAGES + RELATED])
    return scoring.signals.array()


def _dump(path: str, results) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for q, a in results:
            fh.write(json.dumps({"gold": q.answers, "date": str(q.date),
                                 "answer": a.model_dump(mode="json")}) + "\n")


def _fit(results, signals, l2: float = 10.0) -> None:
    """Logistic regression of "the articles hold the answer" on the confidence features (L2 on
    the standardised weights), printed as the raw weights answering.py takes."""
    rows = [(s, bool(q.answers)) for (q, _), s in zip(results, signals) if s is not None]
    x = np.stack([s for s, _ in rows])
    y = np.array([a for _, a in rows])
    w, b = fit_logistic(x, y, steps=5000, rate=0.1, l2=l2 / len(y))
    print("CONF_WEIGHTS =", np.round(w, 3).tolist(), " CONF_BIAS =", round(b, 3))


def _short_answers(results) -> None:
    from qa.engine.span_metrics import exact_match, f1

    answerable = [(q, a) for q, a in results if q.answers]
    given = [a.short_answer.text if a.short_answer else None for _, a in answerable]
    em = np.mean([exact_match(g, q.answers) for g, (q, _) in zip(given, answerable)])
    f = np.mean([f1(g, q.answers) for g, (q, _) in zip(given, answerable)])
    share = np.mean([g is not None for g in given])
    print(f"short answer exact match {em:.3f}  F1 {f:.3f}  given {share:.3f} (answerable "
          "questions, never refusing; none given scores 0)")


def _answered_any(ans, q: Question) -> bool:
    """The answer's own sentences hold a gold answer (answers are never refused in the run;
    the threshold is applied afterwards)."""
    quotes = norm(" ".join(c.quote for c in ans.citations if c.role == "answer"))
    return any(norm(a) in quotes for a in q.answers)
