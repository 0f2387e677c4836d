"""Extractive answers: score the sentences of the top passages, answer with the best one or two,
cite each with its exact offsets, and refuse when confidence is low.

A sentence's score is a linear mix of features (its own cosine to the question, the idf-weighted
share of the question's terms it contains, its passage's retrieval score, whether it holds the
kind of thing asked for...). The confidence is a logistic function of the best sentence's
features. The weights come from SQuAD v1.1 dev, even-numbered articles only (grid search:
``python -m bench squad --part dev --fit``), and the RealTimeQA news tune half; the confidence
and its threshold from the news tune half (its out-of-corpus questions are what a reader asks;
``python -m bench news --part tune --sweep``), checked on SQuAD's out-of-corpus questions
(``python -m bench refusal``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from embeddings.models import StoredPassage
from qa.engine.question import Question, name_terms
from qa.engine.retrieval import Candidate
from qa.engine.terms import terms

PASSAGES = 5          # passages whose sentences are scored
SHORT_WORDS = 6       # sentences with fewer words are usually headlines or captions

Vector = np.ndarray
Idf = Callable[[str], float]
# an article id -> the terms of its headline and text
ArticleTerms = Callable[[str], Collection[str]]
# sentences -> their unit vectors, one row each (SentenceVectors.of)
Embed = Callable[[Sequence["Sentence"]], np.ndarray]
# (question, sentences) -> one logit a sentence: it answers the question (Reranker.scores)
Rerank = Callable[[str, Sequence[str]], np.ndarray]


class Features(NamedTuple):
    """What a sentence's score is made of (each in [0, 1] but ``short``)."""

    dense: float    # cosine of the sentence to the question
    lexical: float  # idf-weighted share of the question's terms it contains
    context: float  # share of the earlier turns' terms (follow-ups), or it names the referent
    passage: float  # its passage's retrieval score / the best passage's
    type: float     # it holds the kind of thing asked for (a number, a date, a name...)
    short: float    # 1 for a headline-like sentence of under SHORT_WORDS words

    def array(self) -> np.ndarray:
        return np.array(self, dtype=np.float32)


FEATURES = Features._fields
# Sentence score weights. Fitted by grid search for the answer string in the picked sentences
# on two tuning sets: the RealTimeQA news tune half and SQuAD dev (even articles); "context" is
# set by hand (follow-ups only: naming the person "he" refers to outweighs one extra matching
# word). Against the SQuAD-only fit (passage 1.0, type 0.2): news tune 0.397 -> 0.422, SQuAD
# dev (every 6th) 0.776 -> 0.779 (measured by NEWS on the old layout).
WEIGHTS = Features(dense=0.5, lexical=0.5, context=0.3, passage=1.5, type=0.4, short=-0.3)
# A second sentence joins the answer when it scores this close to the best: on SQuAD dev, 37%
# of answers get two sentences and accuracy goes from 0.72 (one) to 0.79.
SECOND_RATIO = 0.93
# The cross-encoder re-ranker (``embeddings.reranker``) reads the question and each of the best
# RERANK_SENTENCES sentences together; its probability that the sentence answers, times
# RERANKER_WEIGHT, is added to their score. Both were chosen on the news tune half with a first
# adapter: 6, 8 and 12 sentences and weights 0.25 to 4 all gave more there, 8 and 1.0 a middle
# choice (the tune half's lists are training data, so it overrates larger weights). The
# confidence is taken before, from the features alone.
RERANK_SENTENCES = 8
RERANKER_WEIGHT = 1.0


class ConfidenceFeatures(NamedTuple):
    """What the confidence is a logistic function of."""

    score: float      # the best sentence's score
    dense: float      # its cosine to the question
    lexical: float    # its share of the question's terms
    top_dense: float  # the best passage cosine among the candidates
    margin: float     # its lead over the best sentence of another article

    def array(self) -> np.ndarray:
        return np.array(self, dtype=np.float32)


# Confidence: sigmoid(CONF_BIAS + CONF_WEIGHTS . ConfidenceFeatures), P(the articles hold the
# answer). Fitted (logistic, L2 10) on the RealTimeQA news tune half: real readers' questions out
# of corpus look much closer to the articles than SQuAD's, so the SQuAD-only fit (score 0.429,
# dense 4.646, lexical 4.541, top_dense 4.527, margin 2.951, bias -8.829) refused too few of them.
# (`python -m bench news --part tune --chars 2000 --fit` prints these.)
# Held-out news half: refusal precision 0.735 -> 0.821, recall 0.632 -> 0.561, answer hit kept
# (0.453); SQuAD out-of-corpus test quarter 0.972/0.868 -> 0.978/0.844 (bench refusal --every 2).
CONF_WEIGHTS = ConfidenceFeatures(score=2.357, dense=1.526, lexical=2.963, top_dense=3.731,
                                  margin=1.067)
CONF_BIAS = -7.981
# When the best sentence does not name all of what a "how many" question counts and the top
# sentences count it only for another group ("33 Turkish soldiers" for "How many Russian
# soldiers"), the articles most likely do not give the figure asked: confidence is scaled by this.
CONTRADICTED = 0.1
# When the article of the best sentence never names something the question names ("Who won the
# Singapore Grand Prix?" answered from a report on the Mexican one), the articles most likely do
# not hold the answer: confidence is scaled by this. On the RealTimeQA tune halves (whole
# articles, and their leads) it was the strongest factor that kept precision: 0.7 took refusal
# recall from 0.37 to 0.55 and from 0.50 to 0.71 at the same precision, losing at most 1 point of
# answer hit (0.8: 0.53 and 0.63; 0.5: precision fell to 0.60 and 0.55). Of the out-of-corpus
# questions, 61% (whole articles) and 73% (leads) name something the best article does not; of
# the answerable ones, 6% and 10%.
UNNAMED = 0.7
# a name's word counts as named when the article has a word with the same first letters: the
# stems of "American" and "America", "Canadian" and "Canada" differ
NAME_PREFIX = 5
# found = confidence >= THRESHOLD: chosen on the RealTimeQA tune half as the highest recall at
# precision >= 0.8 (0.821/0.605 there, no right answer lost; `bench news --part tune --sweep`).
THRESHOLD = 0.525
_NO_FEATURES = Features(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass
class Sentence:
    """A candidate answer sentence: ``article.text[start:end] == text``."""

    passage: StoredPassage
    rank: int              # its passage's rank in the retrieval
    start: int
    end: int
    text: str
    features: Features = _NO_FEATURES
    score: float = 0.0
    vector: Vector | None = None
    focus: float = 1.0     # 1 when it names all of what a "how many" question counts
    contradicted: bool = False  # it counts the asked thing of another kind ("Turkish soldiers")
    answers: float | None = None  # the re-ranker's probability that it answers (None: not read)
    base: float = 0.0      # ``score`` from the features alone, before the re-ranker's bonus:
    #                        what decides corroboration and which report leads (evidence.py)

    @property
    def article_id(self) -> str:
        return self.passage.article_id


@dataclass(frozen=True)
class Scoring:
    """The outcome of :func:`score`: the sentences best first, the confidence and the decision."""

    ranked: list[Sentence]  # the sentences of the top PASSAGES passages (answers come from them)
    signals: ConfidenceFeatures
    confidence: float
    # the sentences of all the passages retrieved, best first: where other articles that
    # corroborate or contradict the answer are looked for
    retrieved: list[Sentence] = field(default_factory=list)
    # names the question gives that the best sentence's article does not (see UNNAMED)
    unnamed: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """Answer (True) or refuse: the confidence reaches :data:`THRESHOLD`."""
        return bool(self.ranked) and self.confidence >= THRESHOLD


def score(question: Question, qvec: Vector | None, cands: list[Candidate], idf: Idf,
          embed: Embed | None, rerank: Rerank | None = None,
          article_terms: ArticleTerms | None = None) -> Scoring:
    """Score the sentences of the top passages and decide whether to answer: featurize, rank,
    confidence, threshold, then re-rank the best few with the cross-encoder (``rerank``; None:
    not). The sentences of the other passages retrieved are scored too (for corroboration:
    :attr:`Scoring.retrieved`), but answers and the confidence come from the top
    :data:`PASSAGES`. ``embed``: sentence vectors (None: no dense feature). ``article_terms``:
    for the names check (:data:`UNNAMED`; None: not made). The assistant and the benchmarks
    both call this, so what is measured is what answers."""
    sentences = candidate_sentences(cands, m=len(cands))
    vectors = embed(sentences) if sentences and embed is not None else None
    featurize(question, qvec, sentences, cands, idf, vectors)
    retrieved = rank(sentences)
    ranked = [s for s in retrieved if s.rank < PASSAGES]
    signals, conf = confidence_features(ranked, cands), confidence(ranked, cands)
    missing = unnamed(question, article_terms(ranked[0].article_id)) \
        if ranked and article_terms is not None and question.names else []
    if missing:
        conf *= UNNAMED
    if rerank is not None:
        ranked = reranked(question.standalone, ranked, rerank)
    return Scoring(ranked, signals, conf, retrieved, missing)


def unnamed(question: Question, article: Collection[str]) -> list[str]:
    """The names ``question`` gives of which some word is not in ``article`` (its terms), even
    by its first :data:`NAME_PREFIX` letters."""
    prefixes = {t[:NAME_PREFIX] for t in article}
    return [name for name in question.names
            if not all(t[:NAME_PREFIX] in prefixes for t in name_terms(name))]


def reranked(question: str, ranked: list[Sentence], rerank: Rerank,
             top: int = RERANK_SENTENCES, weight: float = RERANKER_WEIGHT) -> list[Sentence]:
    """``ranked`` with its best ``top`` sentences re-scored: ``weight`` times the re-ranker's
    probability that the sentence answers ``question`` is added to each score."""
    head = ranked[:top]
    if not head:
        return ranked
    logits = np.asarray(rerank(question, [s.text for s in head]), dtype=np.float64)
    for s, z in zip(head, logits):
        # a sentence that asks (a quiz printing its own question) states no answer
        asks = s.text.rstrip(" \"'”’)»").endswith("?")
        s.answers = 0.0 if asks else float(1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0))))
        s.score += weight * s.answers
    return sorted(head, key=lambda s: -s.score) + ranked[top:]


def candidate_sentences(cands: list[Candidate], m: int = PASSAGES) -> list[Sentence]:
    """The sentences of the top ``m`` passages, each once (neighbouring passages overlap)."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Sentence] = []
    for rank, c in enumerate(cands[:m]):
        p = c.passage
        for s in p.sentences:
            key = (p.article_id, s.start, s.end)
            if key in seen:
                continue
            seen.add(key)
            out.append(Sentence(p, rank, s.start, s.end, p.text[s.start - p.start:s.end - p.start]))
    return out


def featurize(question: Question, qvec: Vector | None, sentences: list[Sentence],
              cands: list[Candidate], idf: Idf, vectors: Vector | None) -> None:
    """Fill ``features`` of each sentence. ``idf(term)``; ``vectors`` aligned with sentences."""
    q_idf = {t: idf(t) for t in set(question.terms)}
    q_total = sum(q_idf.values()) or 1.0
    c_idf = {t: idf(t) for t in set(question.context_terms)}
    c_total = sum(c_idf.values()) or 1.0
    # (each sentence's own ``type`` feature reads what the passage's answer bonus read)
    passage = [c.passage_score for c in cands]
    best = max(passage, default=0.0) or 1.0
    for i, s in enumerate(sentences):
        s_terms = set(terms(s.text))
        dense = 0.0
        if vectors is not None:
            s.vector = vectors[i]
            dense = float(vectors[i] @ qvec) if qvec is not None else 0.0
        context = sum(w for t, w in c_idf.items() if t in s_terms) / c_total if c_idf else 0.0
        if question.referent_terms:  # naming the person "he" stands for is what counts most
            context = max(0.5 * context, float(any(t in s_terms for t in question.referent_terms)))
        s.features = Features(
            dense=dense,
            lexical=sum(w for t, w in q_idf.items() if t in s_terms) / q_total,
            context=context,
            passage=passage[s.rank] / best,
            type=question.type_match(s.text),
            short=float(len(s.text.split()) < SHORT_WORDS))
        s.focus = float(all(t in s_terms for t in question.focus))
        s.contradicted = bool(question.focus) and question.contradicted_by(s.text)


def rank(sentences: list[Sentence], weights: Features = WEIGHTS) -> list[Sentence]:
    """The sentences best first, each ``score`` set to ``features . weights``."""
    w = np.array(weights, dtype=np.float32)
    for s in sentences:
        s.score = s.base = float(s.features.array() @ w)
    return sorted(sentences, key=lambda s: -s.score)


def confidence_features(ranked: list[Sentence], cands: list[Candidate]) -> ConfidenceFeatures:
    if not ranked:
        return ConfidenceFeatures(0.0, 0.0, 0.0, 0.0, 0.0)
    best = ranked[0]
    other = next((s.score for s in ranked[1:] if s.article_id != best.article_id), 0.0)
    return ConfidenceFeatures(score=best.score, dense=best.features.dense,
                              lexical=best.features.lexical,
                              top_dense=max(c.dense for c in cands), margin=best.score - other)


def confidence(ranked: list[Sentence], cands: list[Candidate]) -> float:
    """P(the best sentences answer the question), from :class:`ConfidenceFeatures`."""
    if not ranked:
        return 0.0
    x = confidence_features(ranked, cands).array()
    z = float(CONF_BIAS + x @ np.array(CONF_WEIGHTS, dtype=np.float32))
    p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
    return p * CONTRADICTED if contradicted(ranked) else p


def contradicted(ranked: list[Sentence], m: int = 5) -> bool:
    """The best sentence misses what is counted, and one of the top ``m`` counts another kind."""
    best = ranked[0]
    return (best.focus < 1 or best.contradicted) and any(s.contradicted for s in ranked[:m])


def pick(ranked: list[Sentence], ratio: float = SECOND_RATIO, most: int = 2) -> list[Sentence]:
    """The best sentence, and the next ones scoring within ``ratio`` of it (up to ``most``),
    best first: the first cited sentence is the one the answer rests on most (and the one the
    short answer is taken from), even when a weaker one comes before it in the article."""
    if not ranked:
        return []
    chosen = [ranked[0]]
    top = ranked[0].score
    for s in ranked[1:]:
        if len(chosen) >= most or s.score < ratio * top:
            break
        if any(_same(s, c) for c in chosen):
            continue
        chosen.append(s)
    return chosen


# "What is the latest death toll?": among the sentences scoring within this share of the best,
# the one from the newest article leads (a later report of the same figure usually updates it).
NEWEST_RATIO = 0.85


def prefer_newest(ranked: list[Sentence], ratio: float = NEWEST_RATIO) -> list[Sentence]:
    """``ranked`` with the best sentence of the newest dated article among the near-best ones
    first (the rest keep their order); undated articles never count as newer."""
    if not ranked:
        return ranked
    near = [s for s in ranked if s.score >= ratio * ranked[0].score and s.passage.published]
    if not near:
        return ranked
    newest = max(near, key=lambda s: (s.passage.published, s.score))
    return [newest] + [s for s in ranked if s is not newest]


def _same(a: Sentence, b: Sentence) -> bool:
    if a.text.strip() == b.text.strip():
        return True
    if a.vector is not None and b.vector is not None:
        return float(a.vector @ b.vector) >= 0.95
    return False
