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


def supporting(question: Question, answer: list[Sentence], ranked: list[Sentence],
               group_of: Callable[[str], str] | None = None
               ) -> list[tuple[Sentence, str, Sentence]]:
    """``(sentence, role, answer_sentence)`` for sentences of other articles that corroborate
    or contradict the answer, one per article (articles in the order of their best relevant
    sentence), leaving out copies of the answer's articles (``group_of``: copy group
    of an article id). An article that says the same anywhere corroborates it (its best sentence
    stating the answer's figure is cited, else its best saying the same); one that only gives
    other figures conflicts, and the sentence cited is the one closest to the answer's (the
    same topic: not "3.6 million people" for the people displaced, but "950,000 civilians have
    fled")."""
    if not answer or answer[0].vector is None:
        return []
    best = answer[0].score
    asked = set(numbers(question.text))
    group = group_of or (lambda article_id: article_id)
    used = {group(s.article_id) for s in answer}
    found: dict[str, list[tuple[Sentence, str, Sentence, float]]] = {}
    for s in ranked:
        if s.vector is None or s.score < RELEVANT * best or group(s.article_id) in used:
            continue
        for a in answer:
            role = _relation(question, a, s, asked)
            if role and a.vector is not None:
                found.setdefault(group(s.article_id), []).append(
                    (s, role, a, float(a.vector @ s.vector)))
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
          article: Callable[[str], Article | None],
          group_of: Callable[[str], str] | None = None) -> tuple[str, list[Citation]]:
    """The answer text with ``[n]`` markers, and its verified citations, numbered in the order
    the text cites them. When other articles give a different figure, the reports are put in
    date order, newest first, undated last: "The latest report (2020-02-28, Anadolu Agency)
    says: ... [1] Earlier (2020-02-27, Reuters): ... [2]". ``group_of(article_id)``: its copy
    group; a copy of an article already cited neither corroborates nor conflicts (it is the
    same report, listed under :attr:`Citation.copies`)."""
    extra = [e for e in supporting(question, answer, ranked, group_of)]
    conflicts = [s for s, role, _ in extra if role == "conflicting"]
    backing: dict[int, list[Sentence]] = {i: [] for i in range(len(answer))}
    for s, role, a in extra:
        if role == "corroborating":
            backing[answer.index(a)].append(s)
    citations: list[Citation] = []

    def cite(s: Sentence, role: str) -> int:
        citations.append(_cite(len(citations) + 1, s, role))
        return len(citations)

    def stated(i: int) -> str:
        marks = [cite(answer[i], "answer")] + [cite(b, "corroborating") for b in backing[i]]
        return f"{snippet(answer[i].text)} {''.join(f'[{n}]' for n in marks)}"

    if not conflicts:
        body = " ".join(stated(i) for i in range(len(answer)))
    else:
        body = _dated(answer, conflicts, stated, lambda s: f"{snippet(s.text)} "
                      f"[{cite(s, 'conflicting')}]")
    verify(citations, article)
    return body, citations


def _dated(answer: list[Sentence], conflicts: list[Sentence], stated: Callable[[int], str],
           conflicting: Callable[[Sentence], str]) -> str:
    """Reports that give different figures, newest first: each report is one article's
    sentences (the answer's, with their corroboration, or a conflicting one)."""
    reports: dict[str, list[tuple[int | None, Sentence]]] = {}
    for i, s in enumerate(answer):
        reports.setdefault(s.article_id, []).append((i, s))
    for s in conflicts:
        reports.setdefault(s.article_id, []).append((None, s))
    order = sorted(reports.values(), key=lambda r: _age(r[0][1]))
    parts = []
    for k, report in enumerate(order):
        p = report[0][1].passage
        when = p.published.isoformat() if p.published else "undated"
        who = f"{when}, {p.source}" if p.source else when
        lead = "The latest report" if k == 0 and p.published else (
            "An undated report" if not p.published else "Earlier")
        verb = " says:" if k == 0 and p.published else ":"
        said = " ".join(stated(i) if i is not None else conflicting(s) for i, s in report)
        parts.append(f"{lead} ({who}){verb} {said}")
    return " ".join(parts)


def _age(s: Sentence) -> tuple[int, int]:
    """Sort key: newest first, undated last."""
    d = s.passage.published
    return (1, 0) if d is None else (0, -d.toordinal())


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
