"""``qa eval``: run a file of questions through the assistant and measure it.

Each line of the file is ``{"question": ..., "answers": [...]}``; an empty ``answers`` list means
the articles do not answer it and the assistant should refuse.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from qa.engine.span_metrics import exact_match, f1
from qa.errors import QuestionError
from qa.interfaces import AssistantAPI


class EvalQuestion(BaseModel):
    question: str
    answers: list[str] = Field(default_factory=list)


class EvalItem(BaseModel):
    question: str
    answers: list[str]
    found: bool
    correct: bool | None = Field(None, description="Answerable questions: a gold answer string "
                                 "occurs in the answer's own sentences.")
    rank: int | None = Field(None, description="1-based rank of the first passage holding a "
                             "gold answer string, among the top 10.")
    seconds: float
    answer: str
    short_answer: str | None = None
    short_em: float | None = Field(None, description="Answerable questions: the short answer "
                                   "equals a gold answer (SQuAD normalisation).")
    short_f1: float | None = None


class EvalReport(BaseModel):
    questions: int
    answerable: int
    unanswerable: int
    hit_at_1: float | None = None
    hit_at_5: float | None = None
    mrr_at_10: float | None = None
    answer_accuracy: float | None = None
    refusal_precision: float | None = None
    refusal_recall: float | None = None
    short_answer_em: float | None = Field(None, description="Exact match of the short answers "
                                          "against the gold answers (answerable questions; no "
                                          "short answer scores 0).")
    short_answer_f1: float | None = None
    short_answer_given: float | None = Field(None, description="Share of answerable questions "
                                             "given a short answer.")
    latency_p50_ms: float
    latency_p95_ms: float
    items: list[EvalItem] = Field(default_factory=list)


def read_questions(path: str | Path) -> list[EvalQuestion]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QuestionError(f"cannot read {path} ({exc.strerror}): give a JSONL file of "
                            '{"question": ..., "answers": [...]} lines') from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(EvalQuestion.model_validate_json(line))
        except ValidationError as exc:
            msg = exc.errors()[0].get("msg", "invalid")
            raise QuestionError(f"{path}:{n}: not a question line ({msg}): expected "
                                '{"question": "...", "answers": ["..."]}') from None
    if not out:
        raise QuestionError(f"{path} holds no questions")
    return out


def _contains(text: str, answers: list[str]) -> bool:
    flat = " ".join(text.lower().split())
    return any(" ".join(a.lower().split()) in flat for a in answers)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def evaluate(assistant: AssistantAPI, questions: list[EvalQuestion],
             progress: Callable[[int], None] | None = None) -> EvalReport:
    items: list[EvalItem] = []
    for q in questions:
        t0 = time.perf_counter()
        answer = assistant.ask(q.question)
        seconds = time.perf_counter() - t0
        hits = assistant.search(q.question, k=10) if q.answers else []
        rank = next((i + 1 for i, h in enumerate(hits) if _contains(h.text, q.answers)), None)
        quotes = " ".join(c.quote for c in answer.citations if c.role == "answer")
        correct = (answer.found and _contains(quotes, q.answers)) if q.answers else None
        short = answer.short_answer.text if answer.found and answer.short_answer else None
        items.append(EvalItem(question=q.question, answers=q.answers, found=answer.found,
                              correct=correct, rank=rank, seconds=round(seconds, 4),
                              answer=answer.answer, short_answer=short,
                              short_em=exact_match(short, q.answers) if q.answers else None,
                              short_f1=f1(short, q.answers) if q.answers else None))
        if progress:
            progress(1)
    answerable = [i for i in items if i.answers]
    refused = [i for i in items if not i.found]
    unanswerable = [i for i in items if not i.answers]
    lat = [i.seconds * 1000 for i in items]

    def mean(xs: list[float]) -> float | None:
        return round(sum(xs) / len(xs), 4) if xs else None

    return EvalReport(
        questions=len(items), answerable=len(answerable), unanswerable=len(unanswerable),
        hit_at_1=mean([float(i.rank == 1) for i in answerable]),
        hit_at_5=mean([float(i.rank is not None and i.rank <= 5) for i in answerable]),
        mrr_at_10=mean([1.0 / i.rank if i.rank else 0.0 for i in answerable]),
        answer_accuracy=mean([float(bool(i.correct)) for i in answerable]),
        refusal_precision=mean([float(not i.answers) for i in refused]),
        refusal_recall=mean([float(not i.found) for i in unanswerable]),
        short_answer_em=mean([i.short_em or 0.0 for i in answerable]),
        short_answer_f1=mean([i.short_f1 or 0.0 for i in answerable]),
        short_answer_given=mean([float(i.short_answer is not None) for i in answerable]),
        latency_p50_ms=round(_pct(lat, 50), 1), latency_p95_ms=round(_pct(lat, 95), 1),
        items=items)


def summary(report: EvalReport) -> str:
    def f(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    return "\n".join([
        f"questions      {report.questions} ({report.answerable} answerable, "
        f"{report.unanswerable} to refuse)",
        f"passage        hit@1 {f(report.hit_at_1)}  hit@5 {f(report.hit_at_5)}  "
        f"MRR@10 {f(report.mrr_at_10)}",
        f"answer         accuracy {f(report.answer_accuracy)}",
        f"short answer   exact match {f(report.short_answer_em)}  F1 {f(report.short_answer_f1)}"
        f"  given {f(report.short_answer_given)}",
        f"refusal        precision {f(report.refusal_precision)}  recall "
        f"{f(report.refusal_recall)}",
        f"latency        p50 {report.latency_p50_ms:.0f} ms  p95 {report.latency_p95_ms:.0f} ms",
    ])


def dumps(report: EvalReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2)
