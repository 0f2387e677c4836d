"""Citations for an answer: the answer sentences, other articles that state the same fact
(corroborating) or give a different figure (conflicting), and the check that every quote stands
at its offsets in its article."""

from __future__ import annotations

from collections.abc import Callable

from corpus.models import Article
from qa.engine.answering import Sentence
from qa.engine.question import Question
from qa.engine.terms import numbers
from qa.engine.text import snippet
from qa.errors import CitationError
from qa.models import Citation

RELEVANT = 0.6        # another article's sentence must score this share of the best to count
SAME_FACT = 0.8       # cosine at which two sentences state the same thing
SAME_TOPIC = 0.55     # cosine at which two sentences with figures speak of the same thing
MOST_PER_ROLE = 2


def supporting(question: Question, answer: list[Sentence], ranked: list[Sentence]
               ) -> list[tuple[Sentence, str, Sentence]]:
    """``(sentence, role, answer_sentence)`` for sentences of other articles that corroborate
    or contradict the answer, one per article (articles in the order of their best relevant
    sentence). An article that says the same anywhere corroborates it (its best sentence
    stating the answer's figure is cited, else its best saying the same); one that only gives
    other figures conflicts, and the sentence cited is the one closest to the answer's (the
    same topic: not "3.6 million people" for the people displaced, but "950,000 civilians have
    fled")."""
    if not answer or answer[0].vector is None:
        return []
    best = answer[0].score
    asked = set(numbers(question.text))
    used = {s.article_id for s in answer}
    found: dict[str, list[tuple[Sentence, str, Sentence, float]]] = {}
    for s in ranked:
        if s.article_id in used or s.vector is None or s.score < RELEVANT * best:
            continue
        for a in answer:
            role = _relation(question, a, s, asked)
            if role and a.vector is not None:
                found.setdefault(s.article_id, []).append((s, role, a, float(a.vector @ s.vector)))
                break
    out: list[tuple[Sentence, str, Sentence]] = []
    counts = {"corroborating": 0, "conflicting": 0}
    for options in found.values():
        # stating the answer's figure corroborates more surely than saying much the same
        agree = sorted((o for o in options if o[1] == "corroborating"),
                       key=lambda o: not _same_figure(o[0], o[2], asked))
        s, role, a, _ = agree[0] if agree else max(options, key=lambda o: o[3])
        if counts[role] < MOST_PER_ROLE:
            out.append((s, role, a))
            counts[role] += 1
    return out


def _same_figure(s: Sentence, a: Sentence, asked: set[float]) -> bool:
    return bool((set(numbers(a.text)) & set(numbers(s.text))) - asked)


def _relation(question: Question, a: Sentence, s: Sentence, asked: set[float]) -> str | None:
    if a.vector is None or s.vector is None:
        return None
    sim = float(a.vector @ s.vector)
    if question.kind == "number":
        na = set(numbers(a.text)) - asked
        ns = set(numbers(s.text)) - asked
        if na and ns and sim >= SAME_TOPIC:
            return "corroborating" if na & ns else "conflicting"
    return "corroborating" if sim >= SAME_FACT else None


def build(question: Question, answer: list[Sentence], ranked: list[Sentence],
          article: Callable[[str], Article | None]) -> tuple[str, list[Citation]]:
    """The answer text with ``[n]`` markers, and its verified citations."""
    citations: list[Citation] = []
    markers: dict[int, list[int]] = {i: [] for i in range(len(answer))}
    for i, s in enumerate(answer):
        citations.append(_cite(len(citations) + 1, s, "answer"))
        markers[i].append(len(citations))
    extra = supporting(question, answer, ranked)
    conflicts = []
    for s, role, a in extra:
        citations.append(_cite(len(citations) + 1, s, role))
        if role == "corroborating":
            markers[answer.index(a)].append(len(citations))
        else:
            conflicts.append((s, len(citations)))
    parts = [f"{snippet(s.text)} {''.join(f'[{n}]' for n in markers[i])}"
             for i, s in enumerate(answer)]
    if conflicts:
        parts.append("Other reports give a different figure:")
        parts += [f"{snippet(s.text)} [{n}]" for s, n in conflicts]
    verify(citations, article)
    return " ".join(parts), citations


def _cite(n: int, s: Sentence, role: str) -> Citation:
    p = s.passage
    return Citation(n=n, article_id=p.article_id, title=p.title, source=p.source,
                    published=p.published, url=p.url, path=p.path, passage_id=p.id,
                    quote=s.text, start=s.start, end=s.end, score=round(float(s.score), 4),
                    role=role)


def verify(citations: list[Citation], article: Callable[[str], Article | None]) -> None:
    """Raise :class:`CitationError` unless every quote stands at its offsets in its article."""
    for c in citations:
        a = article(c.article_id)
        if a is None or a.text[c.start:c.end] != c.quote:
            raise CitationError(
                f"citation [{c.n}] does not match article {c.article_id} at {c.start}:{c.end}: "
                "this is a bug; please report it (rebuilding the index may work around it)")
