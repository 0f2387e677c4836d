"""The public API: ``Assistant.open()`` then ``search``, ``ask``, ``chat``, ``article``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

from corpus.models import Article
from qa.engine import answering, evidence, provenance
from qa.engine.answering import Scoring
from qa.engine.followups import context_for
from qa.engine.lexical import LexicalIndex
from qa.engine.question import MAX_CHARS, Question, search_text
from qa.engine.retrieval import Candidate, Retriever
from qa.engine.sentence_vectors import SentenceVectors
from qa.engine.short_answer import best_span_score
from qa.engine.terms import terms
from qa.engine.time_words import TimeReading, read_time
from qa.errors import ArticleNotFound, QuestionError
from qa.models import Answer, Hit, IndexInfo

if TYPE_CHECKING:
    from embeddings.protocols import PassageStore, TextEncoder
    from embeddings.reranker import Reranker

MAX_K = 100
# the adapter that makes the bundled MiniLM the answer re-ranker (bench/train_reranker.py)
RERANKER_ADAPTER = Path(__file__).parent / "engine" / "reranker.npz"
V = TypeVar("V")
log = logging.getLogger(__name__)
_SURROGATE = re.compile("[\ud800-\udfff]")
WARM_FILL = 2_000  # warm_up() embeds missing sentence vectors of indexes up to this size
RELATED = 3
NOT_COVERED = "The articles do not cover this question."
NO_MATCH = "No indexed article matches the filters given (source or dates)."


def check_question(text: object, what: str = "question") -> str:
    """The question stripped, or :class:`QuestionError` with a one-line message if it is not
    text, is empty or too long.

    Text that is not valid Unicode is made readable rather than refused: a lone surrogate (an
    undecodable byte of a command line, decoded with ``surrogateescape``, or half of a broken
    pair in JSON) becomes U+FFFD, the replacement character, so the words around it are still
    answered. A correctly paired surrogate becomes the character it encodes. ``None`` counts
    as empty; anything else that is not a ``str`` (bytes included) is refused.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise QuestionError(f"the {what} must be text, not {type(text).__name__}")
    text = readable(text).strip()
    if not text:
        raise QuestionError(f"the {what} is empty: give some words to look for")
    if len(text) > MAX_CHARS:
        raise QuestionError(f"the {what} is {len(text)} characters long; keep it under "
                            f"{MAX_CHARS}")
    return text


def readable(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (pairs joined into their
    character): what the encoder and JSON can take."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise QuestionError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
    return k


class Assistant:
    """Answers questions from one index. Opening is fast; the model loads on first use (or on
    :meth:`warm_up`). Safe to call from one thread at a time per method; UIs run it in a worker.
    """

    def __init__(self, store: PassageStore, *, encoder: TextEncoder | None = None,
                 model: str | None = None, rerank: bool = True) -> None:
        self.store = store
        # the answer-sentence re-ranker (a cross-encoder on the bundled MiniLM): loaded on
        # first use; False, or a failure to load it (said once in the log), answers without
        self.rerank = rerank
        self._reranker: Reranker | None = None
        self._model = model
        self._encoder = encoder
        self._lock = threading.RLock()
        self.lexical = LexicalIndex.for_store(store)
        self._lexical_gen = int(store.manifest.generation)
        self.retriever = Retriever(store, self.lexical,
                                   sentence_vectors=lambda: self.sentence_vectors)
        self._sentences: SentenceVectors | None = None
        # the articles read last, and their terms (the names check); the chat and the HTTP
        # server read them from several threads
        self._articles: _Recent[Article] = _Recent(64)
        self._terms: _Recent[frozenset[str]] = _Recent(64)
        self._latest: tuple[int, dt.date | None] | None = None

    @classmethod
    def open(cls, index: str | Path | None = None, *, model: str | None = None,
             store: str | None = None, rerank: bool = True) -> Assistant:
        """The assistant for ``index`` (default: ``$QA_INDEX`` or the user's data folder,
        built from the bundled samples on first use), or for the store at ``store`` (a URL:
        ``qdrant:PATH`` or ``http(s)://HOST:6333``; default ``$QA_STORE``). ``rerank=False``:
        answer without the cross-encoder re-ranker (faster, less often right)."""
        from qa.indexing.location import open_index

        if store is None:
            return cls(open_index(index, model=model), model=model, rerank=rerank)
        return cls(open_index(index, model=model, store=store), model=model, rerank=rerank)

    # -- the model -------------------------------------------------------------------------
    @property
    def encoder(self) -> TextEncoder:
        with self._lock:
            if self._encoder is None:
                from embeddings.encoder import load_encoder

                encoder = load_encoder(self._model or self.store.manifest.model)
                self.store.check_model(encoder.name, encoder.dim, encoder.weights_sha256)
                self._encoder = encoder
            return self._encoder

    @property
    def sentence_vectors(self) -> SentenceVectors:
        with self._lock:
            if self._sentences is None:
                self._sentences = SentenceVectors(self.encoder, store=self.store)
            return self._sentences

    def warm_up(self) -> None:
        """Load the model now (UIs call this in a worker so the first question is quick), and
        on a small index embed any sentences not embedded yet."""
        encoder = self.encoder
        encoder.warm_up()
        encoder.encode_query("warm up")
        _ = self.reranker
        if self.store.manifest.passages <= WARM_FILL:
            missing = self.store.passages_without_sentence_vectors()
            if missing:  # an index from format 1: embed their sentences alone, in memory
                self.sentence_vectors.fill(self.store.passages(missing))

    def _fresh(self) -> None:
        """Pick up writes made to the index since it was opened."""
        gen = int(self.store.manifest.generation)
        if gen != self._lexical_gen:
            with self._lock:
                self.lexical = LexicalIndex.for_store(self.store)
                self.retriever.lexical = self.lexical
                self._lexical_gen = gen
                self._articles.clear()
                self._terms.clear()

    # -- reading ---------------------------------------------------------------------------
    def info(self) -> IndexInfo:
        return IndexInfo.model_validate(self.store.info())

    def article(self, article_id: str) -> Article:
        found = self._article(article_id)
        if found is None:
            raise ArticleNotFound(f"no article with id {article_id!r} in the index: take ids "
                                  "from a hit or a citation")
        return found

    def _article(self, article_id: str) -> Article | None:
        return self._articles.get(article_id, self.store.article)

    def _article_terms(self, article_id: str) -> frozenset[str]:
        """The terms of an article's headline and text (none if it is gone)."""
        def read(article_id: str) -> frozenset[str] | None:
            found = self._article(article_id)
            return frozenset(terms(f"{found.title or ''}\n{found.text}")) if found else None

        return self._terms.get(article_id, read) or frozenset()

    def _allowed(self, source: str | None, published_from: dt.date | None,
                 published_to: dt.date | None, *, undated: bool = False) -> np.ndarray | None:
        if source is None and published_from is None and published_to is None:
            return None
        for d in (published_from, published_to):
            if d is not None and not isinstance(d, dt.date):
                raise QuestionError(f"dates must be datetime.date values, not {d!r}")
        return self.store.vids_matching(source=source, published_from=published_from,
                                        published_to=published_to, undated=undated)

    def search(self, query: str, k: int = 5, *, source: str | None = None,
               published_from: dt.date | None = None, published_to: dt.date | None = None
               ) -> list[Hit]:
        """The ``k`` best passages for ``query``, near-duplicates collapsed."""
        query = check_question(query, "query")
        check_k(k)
        self._fresh()
        allowed = self._allowed(source, published_from, published_to)
        qvec = self.encoder.encode_query(query)
        return [hit(c) for c in self.retriever.retrieve(query, qvec, k, allowed=allowed)]

    def ask(self, question: str, *, history: Sequence[Answer] | None = None,
            source: str | None = None, published_from: dt.date | None = None,
            published_to: dt.date | None = None, today: dt.date | None = None) -> Answer:
        """Answer ``question`` from the articles, citing the sentences it rests on.
        ``history``: earlier answers of the conversation, oldest first. Time words in the
        question are read ("latest": the newest reports first; "in February 2020", "last week":
        a publication-date filter), relative ones against ``today`` (default: the newest
        article date in the index); ``Answer.time_reading`` says how."""
        plan = self.plan(question, history=history, source=source,
                         published_from=published_from, published_to=published_to, today=today)
        qvec = self.encoder.encode_query(plan.query)
        return self.answer_plan(plan, qvec)

    def plan(self, question: str, *, history: Sequence[Answer] | None = None,
             source: str | None = None, published_from: dt.date | None = None,
             published_to: dt.date | None = None, today: dt.date | None = None) -> Plan:
        """What :meth:`ask` will search for, and where: the first half of it."""
        text = check_question(question)
        self._fresh()
        reading = read_time(text, today or self.latest())
        lo, hi, note, applied = self._time_scope(reading, source, published_from, published_to)
        allowed = self._allowed(source, lo, hi, undated=applied)  # undated ones: said so
        rewritten, context, referent = context_for(reading.question, history)
        q = Question.parse(reading.question, context, referent)
        if rewritten != reading.question:
            q.rewritten = rewritten
        return Plan(text, q, f"{search_text(rewritten)} {context}".strip(), allowed,
                    reading.prefer_newest, note, reading.recent_to)

    def answer_plan(self, plan: Plan, qvec: np.ndarray) -> Answer:
        """The second half of :meth:`ask`: retrieve with the query vector, answer, cite."""
        cands = self.candidates(plan, qvec, answering.PASSAGES + RELATED)
        answer = self.answer(plan.question, plan.parsed, qvec, cands,
                             filtered=plan.allowed is not None, newest=plan.newest)
        answer.time_reading = plan.time_reading
        return answer

    def candidates(self, plan: Plan, qvec: np.ndarray, k: int) -> list[Candidate]:
        """The ``k`` best passages for ``plan`` (``qvec``: the vector of ``plan.query``), its
        sentences that hold the kind of thing asked for favoured."""
        q = plan.parsed
        return self.retriever.retrieve(plan.query, qvec, k, allowed=plan.allowed,
                                       terms_for_rerank=q.terms + q.referent_terms,
                                       recent_to=plan.recent_to,
                                       span_score=best_span_score(q))

    def latest(self) -> dt.date | None:
        """The newest publication date in the index (what "last week" is read against)."""
        gen = int(self.store.manifest.generation)
        if self._latest is None or self._latest[0] != gen:
            latest = self.store.info().get("latest")
            self._latest = (gen, dt.date.fromisoformat(latest) if isinstance(latest, str)
                            else latest)
        return self._latest[1]

    def _time_scope(self, reading: TimeReading, source: str | None, lo: dt.date | None,
                    hi: dt.date | None) -> tuple[dt.date | None, dt.date | None, str | None, bool]:
        """The date bounds to search (the caller's, narrowed by the question's), what the
        answer says of the reading, and whether the question's filter applies. A question's
        filter that no dated article passes is dropped, and the answer says so."""
        note = reading.description
        if reading.unreadable:
            note = "; ".join(x for x in (note, reading.unreadable) if x)
        if not reading.filters:
            return lo, hi, note, False
        qlo = max((d for d in (lo, reading.published_from) if d), default=None)
        qhi = min((d for d in (hi, reading.published_to) if d), default=None)
        if (qlo and qhi and qlo > qhi) or not len(self.store.vids_matching(
                source=source, published_from=qlo, published_to=qhi)):
            return lo, hi, (f"time words ignored: no dated article matches "
                            f"({reading.description})"), False
        return qlo, qhi, note, True

    def answer(self, text: str, q: Question, qvec: np.ndarray, cands: list[Candidate],
               *, filtered: bool = False, newest: bool = False) -> Answer:
        """The answer to ``q`` from retrieved candidates (the second half of :meth:`ask`);
        ``newest``: the newest of the near-best reports leads."""
        if not cands:
            return Answer(question=text, found=False, confidence=0.0,
                          answer=NO_MATCH if filtered else NOT_COVERED)
        scoring = self.score(q, qvec, cands)
        if newest:
            scoring = dataclasses.replace(scoring, ranked=answering.prefer_newest(scoring.ranked))
        return self.reply(text, q, scoring, cands)

    def score(self, q: Question, qvec: np.ndarray, cands: list[Candidate]) -> Scoring:
        """The scored sentences of ``cands``, the confidence and the decision to answer
        (:func:`qa.engine.answering.score` with this index's idf and sentence vectors, and the
        re-ranker)."""
        return answering.score(q, qvec, cands, self.lexical.idf, self.sentence_vectors.of,
                               self._rerank_scores if self.reranker is not None else None,
                               self._article_terms)

    @property
    def reranker(self) -> Reranker | None:
        """The answer-sentence re-ranker, or None (switched off, or it could not load)."""
        with self._lock:
            if self._reranker is None and self.rerank:
                from embeddings.reranker import Reranker, RerankerError

                try:
                    self._reranker = Reranker(RERANKER_ADAPTER)
                    self._reranker.warm_up()
                except RerankerError as exc:
                    log.warning("answering without the re-ranker: %s", str(exc).splitlines()[0])
                    self._reranker, self.rerank = None, False
            return self._reranker

    def _rerank_scores(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """The re-ranker's logits; if it fails at run time, it is switched off (said once in
        the log) and every sentence gets the same, so the order stays the features'."""
        reranker = self._reranker
        if reranker is not None:
            try:
                return reranker.scores(question, sentences)
            except (RuntimeError, ValueError, OSError) as exc:
                log.warning("the re-ranker failed (%s): answering without it",
                            str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                with self._lock:
                    self._reranker, self.rerank = None, False
        return np.zeros(len(sentences), dtype=np.float32)

    def reply(self, text: str, q: Question, scoring: Scoring, cands: list[Candidate]) -> Answer:
        """The answer as the user sees it: the chosen sentences cited, or a refusal."""
        conf = round(scoring.confidence, 4)
        related = [hit(c) for c in cands[:RELATED]]
        if not scoring.found:
            return Answer(question=text, found=False, answer=_refusal(scoring), confidence=conf,
                          related=related)
        chosen = answering.pick(scoring.ranked)
        # answers come from the top passages; other articles that corroborate or contradict them
        # are looked for in all the passages retrieved
        pool = scoring.retrieved or scoring.ranked
        groups = self.store.copy_groups(sorted({s.article_id for s in pool}))
        body, citations = evidence.build(q, chosen, pool, self._article,
                                         lambda article_id: groups.get(article_id, article_id))
        cited = sorted({groups.get(c.article_id, c.article_id) for c in citations})
        provenance.attach_copies(citations, groups, self.store.group_members(cited),
                                 self._article)
        provenance.attribute(citations, self._article)
        return Answer(question=text, found=True, answer=body, confidence=conf,
                      citations=citations, related=related,
                      short_answer=provenance.shortest(q, citations),
                      as_of=provenance.as_of(citations),
                      independent_outlets=provenance.independent_outlets(citations, groups))

    def chat(self, *, source: str | None = None, published_from: dt.date | None = None,
             published_to: dt.date | None = None) -> Conversation:
        """A conversation that keeps its history (filters apply to every turn)."""
        return Conversation(self, source=source, published_from=published_from,
                            published_to=published_to)

    def close(self) -> None:
        if self._sentences is not None:
            self._sentences.close()
        self.store.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Plan:
    """A question read for searching (:meth:`Assistant.plan`)."""

    question: str                # as asked (checked)
    parsed: Question             # what it asks for, time phrases taken out
    query: str                   # the text to search with (and to embed)
    allowed: np.ndarray | None   # the vids the filters leave (None: all)
    newest: bool                 # the newest near-best report leads
    time_reading: str | None     # what the answer says of the question's time words
    recent_to: dt.date | None = None  # about the days before this date: their reports first


def hit(c: Candidate) -> Hit:
    p = c.passage
    return Hit(passage_id=p.id, article_id=p.article_id, text=p.text, score=round(c.score, 4),
               title=p.title, source=p.source, published=p.published, url=p.url, path=p.path,
               start=p.start, end=p.end)


class _Recent(Generic[V]):
    """The last ``size`` values read, by key (one that could not be read is not kept); safe
    to share between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, read: Callable[[str], V | None]) -> V | None:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = read(key)
        if value is not None:
            with self._lock:
                self._values[key] = value
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def _refusal(scoring: Scoring) -> str:
    """What a refusal says: not covered, and what the question names that the closest report
    never does, if anything."""
    if not scoring.unnamed:
        return NOT_COVERED
    names = ", ".join(f'"{n}"' for n in scoring.unnamed)
    return f"{NOT_COVERED} The closest report never mentions {names}."


class Conversation:
    """``ask`` answers in the light of the earlier turns; ``history`` lists them."""

    def __init__(self, assistant: Assistant, *, source: str | None = None,
                 published_from: dt.date | None = None, published_to: dt.date | None = None
                 ) -> None:
        self.assistant = assistant
        self.source = source
        self.published_from = published_from
        self.published_to = published_to
        self.history: list[Answer] = []

    def ask(self, question: str) -> Answer:
        answer = self.assistant.ask(question, history=self.history, source=self.source,
                                    published_from=self.published_from,
                                    published_to=self.published_to)
        self.history.append(answer)
        return answer

    def reset(self) -> None:
        self.history.clear()
