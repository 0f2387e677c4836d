"""Citations for an answer: the answer sentences, other articles that state the same fact
(corroborating) or give a different figure (conflicting), and the check that every quote stands
at its offsets in its article."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
# Reports that give different figures are put newest first, and the newest is the answer, among
# those whose sentence scores this share of the best answer sentence: between RELEVANT (worth
# citing) and answering.SECOND_RATIO (an answer sentence itself). A less relevant report that
# happens to be newer ("33 soldiers killed" for "How many targets were hit?") is listed after.
LEAD_RATIO = 0.8


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
    best = answer[0].base
    asked = set(numbers(question.text))
    group = group_of or (lambda article_id: article_id)
    used = {group(s.article_id) for s in answer}
    found: dict[str, list[tuple[Sentence, str, Sentence, float]]] = {}
    for s in ranked:
        if s.vector is None or s.base < RELEVANT * best or group(s.article_id) in used:
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


@dataclass
class _Report:
    """One article's say in the answer: its sentences, each with the sentences of other
    articles that corroborate it."""

    sentences: list[tuple[Sentence, list[Sentence]]]
    role: str = "answer"

    @property
    def first(self) -> Sentence:
        return self.sentences[0][0]


def build(question: Question, answer: list[Sentence], ranked: list[Sentence],
          article: Callable[[str], Article | None],
          group_of: Callable[[str], str] | None = None) -> tuple[str, list[Citation]]:
    """The answer text with ``[n]`` markers, and its verified citations, numbered in the order
    the text cites them. When articles give different figures (a conflicting article, or two
    answer sentences of different articles that disagree), the reports are put in date order,
    newest first, undated last, and the newest is the answer: "The latest report (2020-02-28,
    Anadolu Agency) says: ... [1] Earlier (2020-02-27, Reuters): ... [2]". ``group_of``: an
    article's copy group; a copy of a cited article neither corroborates nor conflicts (it is
    the same report, listed under :attr:`Citation.copies`)."""
    extra = supporting(question, answer, ranked, group_of)
    backing: dict[int, list[Sentence]] = {id(a): [] for a in answer}
    reports: dict[str, _Report] = {}
    for a in answer:
        reports.setdefault(a.article_id, _Report([])).sentences.append((a, backing[id(a)]))
    for s, role, a in extra:
        if role == "corroborating":
            backing[id(a)].append(s)
        else:
            reports.setdefault(s.article_id, _Report([], "conflicting")).sentences.append((s, []))
    citations: list[Citation] = []

    def said(sentences: list[tuple[Sentence, list[Sentence]]], role: str) -> str:
        out = []
        for s, backers in sentences:
            marks = [_add(citations, s, role)] + [_add(citations, b, "corroborating")
                                                 for b in backers]
            out.append(f"{snippet(s.text)} {''.join(f'[{n}]' for n in marks)}")
        return " ".join(out)

    order = list(reports.values())
    if not _disagree(question, order):
        body = said([x for r in order for x in r.sentences], "answer")
    else:
        top = max(a.base for a in answer)
        leads = sorted((r for r in order if r.first.base >= LEAD_RATIO * top),
                       key=lambda r: _age(r.first))
        others = sorted((r for r in order if r.first.base < LEAD_RATIO * top),
                        key=lambda r: _age(r.first))
        parts = []
        for k, r in enumerate(leads + others):
            role = "answer" if k == 0 or _agrees(question, r, leads[0]) else "conflicting"
            if k == len(leads):
                parts.append("Other reports give a different figure:")
            parts.append(f"{_lead(r.first, None if k == 0 else leads[0].first)} "
                         f"{said(r.sentences, role)}")
        body = " ".join(parts)
    verify(citations, article)
    return body, citations


def _disagree(question: Question, reports: list[_Report]) -> bool:
    """Do the reports give different figures (so that their dates matter)?"""
    if any(r.role == "conflicting" for r in reports):
        return True
    return question.kind == "number" and any(not _agrees(question, r, reports[0])
                                             for r in reports[1:])


def _agrees(question: Question, r: _Report, other: _Report) -> bool:
    """The two reports share a figure (other than those of the question), or give none."""
    asked = set(numbers(question.text))
    mine = {n for s, _ in r.sentences for n in numbers(s.text)} - asked
    theirs = {n for s, _ in other.sentences for n in numbers(s.text)} - asked
    return not mine or not theirs or bool(mine & theirs)


def _lead(s: Sentence, first: Sentence | None) -> str:
    """How a report is introduced: "The latest report (2020-02-28, Anadolu Agency) says:" for
    the first (``first`` is None), then "Earlier (...):", "A newer report (...):" (a less
    relevant one after the first) or "An undated report (Reuters):"."""
    p = s.passage
    outlet = p.source or "outlet unknown"
    if p.published is None:
        return f"An undated report ({outlet}) says:" if first is None else \
            f"An undated report ({outlet}):"
    when = f"({p.published.isoformat()}, {outlet})"
    if first is None:
        return f"The latest report {when} says:"
    newer = first.passage.published is None or p.published > first.passage.published
    return f"A newer report {when}:" if newer else f"Earlier {when}:"


def _add(citations: list[Citation], s: Sentence, role: str) -> int:
    citations.append(_cite(len(citations) + 1, s, role))
    return len(citations)


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
