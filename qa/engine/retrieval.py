"""Hybrid retrieval: dense (faiss) and BM25 candidates, both scored exactly, fused, collapsed,
then the best few re-ranked by their sentences.

1. Fusion is a convex mix of the cosine and the BM25 score scaled by the query's best BM25
   score: ``w * cos + (1 - w) * bm25 / max_bm25``. Every candidate found by either side gets
   both scores (its cosine from its stored vector, its BM25 from the lexical side), so the
   mix never guesses a missing score.
2. Overlapping passages of one article and near-identical texts collapse into the best one.
3. The top ``RERANK`` passages are re-scored with what their best sentence says: the highest
   cosine of a sentence to the query, and the highest idf-weighted share of the query's terms
   in one sentence. A question usually targets one sentence; a passage's one vector blurs it.
   A question that asks for a kind of thing (a figure, a date, a person, a place, a name:
   ``short_answer.best_span_score``) adds ``ANSWER_WEIGHT`` times the highest, over sentences,
   of a sentence's term coverage times the score of its best span of that kind: a passage
   whose sentence names the question's subject and holds such a span near its words is the
   likelier answer.
4. A question about the days before a date ("this week", "on Tuesday", "recently": ``recent_to``)
   adds a recency bonus to the passages published then, from steps 2 and 3 on:
   ``RECENCY_WEIGHT * exp(-days / RECENCY_DAYS)`` for an article ``days`` old on that date (one
   dated a day after it counts as of that day; later or undated ones get none).

The weights of steps 1-3 were tuned on SQuAD v1.1 dev, even-numbered articles only
(``python -m bench squad --part dev --tune``); the recency bonus on the tuning half of the real
news questions (``python -m bench news --part tune``), and the answer-kind bonus on both.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from embeddings.models import StoredPassage
from qa.engine.lexical import Lexical
from qa.engine.sentence_vectors import SentenceVectors
from qa.engine.terms import terms

if TYPE_CHECKING:
    from embeddings.protocols import PassageStore

DENSE_WEIGHT = 0.6      # w above
DEPTH = 50              # candidates taken from each side before fusion
DUPLICATE_COSINE = 0.97  # passages this similar count as the same text
RERANK = 15             # passages re-scored by their sentences
# re-ranking weights: passage cosine, passage BM25 (scaled), best sentence cosine, best
# sentence term coverage; the score is their weighted mean
RERANK_WEIGHTS = (0.5, 0.2, 0.6, 0.45)
# the bonus of a sentence that covers all of the query's terms and holds a span of the asked kind
# scoring 1: the largest weight that keeps SQuAD's tuning half MRR@10 (0.890 -> 0.891; 0.1 gives
# 0.889); on the news tuning half it gains one question of 199 at hit@5, two at 0.2
ANSWER_WEIGHT = 0.075
# only sentences covering at least this share of the best sentence's coverage are read for spans
# (half of them on news; the ranks on both tuning halves are the same as reading all)
ANSWER_COVERAGE = 0.3
RECENCY_WEIGHT = 0.2    # the bonus of a passage published on the day the question is about
RECENCY_DAYS = 7.0      # it falls by e every this many days before

# a SentenceVectors, or a function returning one (loaded on first use)
SentenceSource = SentenceVectors | Callable[[], SentenceVectors]
# what a passage adds to its score (the recency bonus)
Bonus = Callable[[StoredPassage], float]
# a sentence's best span of the kind of thing asked for, scored (0.0: none)
SpanScore = Callable[[str], float]


@dataclass
class Fused:
    """A passage's scores before its text is read: what fusion and collapsing work on."""

    vid: int
    score: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0          # BM25 / the query's best BM25, in [0, 1]
    bm25: float = 0.0             # raw BM25
    duplicates: list[int] = field(default_factory=list)  # vids collapsed into this one


@dataclass
class Candidate:
    """A retrieved passage with its scores."""

    passage: StoredPassage
    vid: int
    score: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0
    bm25: float = 0.0
    sentence: float = 0.0         # best sentence cosine (after re-ranking)
    coverage: float = 0.0         # best sentence's idf-weighted share of the query terms
    answer: float = 0.0           # the bonus in ``score`` of a sentence holding what is asked
    recency: float = 0.0          # the recency bonus in ``score`` (step 4)
    duplicates: list[int] = field(default_factory=list)

    @property
    def passage_score(self) -> float:
        """``score`` without the bonus one sentence of the passage earned by holding what is
        asked: what the passage says of each of its sentences."""
        return self.score - self.answer

    @classmethod
    def read(cls, fused: Fused, passage: StoredPassage) -> Candidate:
        return cls(passage, fused.vid, score=fused.score, dense=fused.dense,
                   lexical=fused.lexical, bm25=fused.bm25, duplicates=fused.duplicates)


class Retriever:
    """Finds passages for a query in ``store``."""

    def __init__(self, store: PassageStore, lexical: Lexical, *,
                 dense_weight: float = DENSE_WEIGHT, depth: int = DEPTH,
                 sentence_vectors: SentenceSource | None = None, rerank: int = RERANK) -> None:
        self.store = store
        self.lexical = lexical
        self.dense_weight = dense_weight
        self.depth = depth
        # None: no re-ranking by sentences
        self._sentence_vectors = sentence_vectors
        self.rerank = rerank

    @property
    def sentence_vectors(self) -> SentenceVectors | None:
        sv = self._sentence_vectors
        return sv if sv is None or isinstance(sv, SentenceVectors) else sv()

    @sentence_vectors.setter
    def sentence_vectors(self, value: SentenceSource | None) -> None:
        self._sentence_vectors = value

    def retrieve(self, query: str, qvec: np.ndarray | None, k: int, *,
                 allowed: np.ndarray | None = None, collapse: bool = True,
                 terms_for_rerank: list[str] | None = None,
                 recent_to: dt.date | None = None,
                 span_score: SpanScore | None = None) -> list[Candidate]:
        """The ``k`` best passages for ``query``; ``qvec`` is its embedding (None: BM25 only).
        ``allowed`` restricts to those vids (filters). ``terms_for_rerank``: the query terms
        whose coverage by a sentence counts (default: all of the query's). ``recent_to``: the
        question is about the days before this date; their reports get a bonus.
        ``span_score``: scores a sentence's span of the kind of thing asked for (step 3)."""
        if allowed is not None and len(allowed) == 0:
            return []
        fused = self._fuse(query, qvec, max(self.depth, 2 * k), allowed)
        reranks = qvec is not None and self._reranks()
        keep = max(k, self.rerank) if reranks else k
        bonus = None if recent_to is None else lambda p: recency(p.published, recent_to)
        pool = max(3 * keep, keep + 10)  # what collapsing or a bonus may promote into the top
        if collapse:
            cands = self.collapse(fused[:pool], keep, bonus)
        else:
            depth = keep if bonus is None else pool
            cands = self._add_bonus(self._read(fused[:depth]), bonus)[:keep]
        if reranks and qvec is not None:
            self._rerank(cands, qvec, terms(query) if terms_for_rerank is None
                         else terms_for_rerank, span_score)
        return cands[:k]

    # -- 1. candidates from both sides, every one scored by both, fused --------------------
    def _fuse(self, query: str, qvec: np.ndarray | None, depth: int,
              allowed: np.ndarray | None) -> list[Fused]:
        """Candidates best first, each with its cosine, its scaled BM25 and their mix."""
        found: dict[int, Fused] = {}
        if qvec is not None and self.dense_weight > 0:
            self._dense_side(found, qvec, depth, allowed)
        if self.dense_weight < 1 and self.lexical.n_docs:
            lex_vids, _ = self.lexical.search(query, depth, allowed=allowed)
            for v in lex_vids:
                found.setdefault(int(v), Fused(int(v)))
            self._score_bm25(list(found.values()), terms(query))
        cands = list(found.values())
        if qvec is not None:
            self._score_dense(cands, qvec)
        w = self.dense_weight if qvec is not None else 0.0
        for c in cands:
            c.score = w * c.dense + (1 - w) * c.lexical
        cands.sort(key=lambda c: -c.score)
        return cands

    def _dense_side(self, found: dict[int, Fused], qvec: np.ndarray, depth: int,
                    allowed: np.ndarray | None) -> None:
        scores, vids = self.store.search(qvec.reshape(1, -1).astype(np.float32), depth,
                                         allowed=allowed)
        for s, v in zip(scores[0], vids[0]):
            if v >= 0:
                found[int(v)] = Fused(int(v), dense=float(s))

    def _score_bm25(self, cands: list[Fused], query_terms: list[str]) -> None:
        """Each candidate's BM25, and scaled by the best."""
        raw = self.lexical.scores_for([c.vid for c in cands], query_terms)
        top = float(raw.max()) if raw.size else 0.0
        for c, r in zip(cands, raw):
            c.bm25 = float(r)
            c.lexical = float(r) / top if top > 0 else 0.0

    def _score_dense(self, cands: list[Fused], qvec: np.ndarray) -> None:
        """The cosine of the candidates BM25 alone found, from their stored vectors."""
        missing = [c for c in cands if c.dense == 0.0]
        if missing:
            vecs = self.store.vectors([c.vid for c in missing])
            for c, s in zip(missing, vecs @ qvec):
                c.dense = float(s)

    def _read(self, fused: Sequence[Fused]) -> list[Candidate]:
        """With their passages (a writer may have removed some meanwhile: those are dropped)."""
        passages = {p.vid: p for p in self.store.passages([c.vid for c in fused])}
        return [Candidate.read(c, passages[c.vid]) for c in fused if c.vid in passages]

    @staticmethod
    def _add_bonus(cands: list[Candidate], bonus: Bonus | None) -> list[Candidate]:
        """``cands`` with ``bonus`` of their passage added to their score, best first."""
        if bonus is None:
            return cands
        for c in cands:
            c.recency = bonus(c.passage)
            c.score += c.recency
        return sorted(cands, key=lambda c: -c.score)

    # -- 2. near-duplicates collapse ---------------------------------------------------------
    def collapse(self, fused: list[Fused], k: int, bonus: Bonus | None = None
                 ) -> list[Candidate]:
        """The best ``k``, dropping passages that overlap a better one of the same article, or
        repeat its text. ``bonus``: added to each passage's score first."""
        if not fused:
            return []
        cands = self._add_bonus(self._read(fused), bonus)
        vecs = self.store.vectors([c.vid for c in cands])
        kept: list[tuple[Candidate, int]] = []
        for i, c in enumerate(cands):
            twin = next((other for other, j in kept
                         if _same_text(c.passage, other.passage, float(vecs[i] @ vecs[j]))), None)
            if twin is not None:
                twin.duplicates.append(c.vid)
                continue
            kept.append((c, i))
            if len(kept) == k:
                break
        return [c for c, _ in kept]

    # -- 3. the best few re-ranked by their sentences ----------------------------------------
    def _reranks(self) -> bool:
        return self._sentence_vectors is not None and self.rerank > 0 \
            and 0 < self.dense_weight < 1

    def _rerank(self, cands: list[Candidate], qvec: np.ndarray, query_terms: list[str],
                span_score: SpanScore | None = None) -> None:
        top = cands[: self.rerank]
        texts, owner, refs = [], [], []
        for i, c in enumerate(top):
            p = c.passage
            for s in p.sentences:
                texts.append(p.text[s.start - p.start:s.end - p.start])
                owner.append(i)
                refs.append(_SentenceRef(p, s.start, s.end, texts[-1]))
        sv = self.sentence_vectors
        if not texts or sv is None:
            return
        cos = sv.of(refs) @ qvec
        idf = {t: self.lexical.idf(t) for t in set(query_terms)}
        total = sum(idf.values()) or 1.0
        coverages = []
        for text, i, s in zip(texts, owner, cos):
            c = top[i]
            c.sentence = max(c.sentence, float(s))
            present = set(terms(text))
            coverages.append(sum(w for t, w in idf.items() if t in present) / total)
            c.coverage = max(c.coverage, coverages[-1])
        if span_score is not None and coverages:
            least = ANSWER_COVERAGE * max(coverages)  # less could earn little: not read (speed)
            for text, i, coverage in zip(texts, owner, coverages):
                if coverage > 0 and coverage >= least:
                    c = top[i]
                    c.answer = max(c.answer, ANSWER_WEIGHT * coverage * span_score(text))
        wd, wl, ws, wc = RERANK_WEIGHTS
        for c in top:
            c.score = (wd * c.dense + wl * c.lexical + ws * c.sentence + wc * c.coverage) / (
                wd + wl + ws + wc) + c.answer + c.recency
        top.sort(key=lambda c: -c.score)
        cands[: len(top)] = top


def recency(published: dt.date | None, recent_to: dt.date) -> float:
    """The recency bonus of an article published on ``published`` for a question about the days
    before ``recent_to`` (step 4 of the module docstring)."""
    if published is None:
        return 0.0
    days = (recent_to - published).days
    if days < -1:
        return 0.0
    return RECENCY_WEIGHT * math.exp(-max(days, 0) / RECENCY_DAYS)


@dataclass(frozen=True)
class _SentenceRef:
    """A sentence of a candidate passage (see :class:`SentenceRef`)."""

    passage: StoredPassage
    start: int
    end: int
    text: str


def _same_text(p: StoredPassage, q: StoredPassage, cosine: float) -> bool:
    """``p`` overlaps ``q`` in the same article, repeats its text or nearly so."""
    same_span = (p.article_id == q.article_id and p.start < q.end and q.start < p.end
                 and _overlap(p, q) >= 0.5)
    return same_span or p.text == q.text or cosine >= DUPLICATE_COSINE


def _overlap(p: StoredPassage, q: StoredPassage) -> float:
    """Share of the shorter passage covered by the other."""
    inter = min(p.end, q.end) - max(p.start, q.start)
    return inter / max(1, min(p.end - p.start, q.end - q.start))
