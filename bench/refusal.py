"""Refusals: does the assistant say "not covered" when, and only when, it should?

    python -m bench refusal [--every N] [--fit] [--squad2]

Out of corpus: SQuAD v1.1 dev articles are dealt in fours; articles 0 and 2 (mod 4) are indexed,
questions of articles 1 and 3 are out of corpus. Dev = articles 0 and 1 (tuning, --fit), test =
articles 2 and 3 (reported). A refusal is right when the question is out of corpus; an in-corpus
question answered wrongly counts as answerable all the same (so recall is about refusing what
is not there, precision about not refusing what is).
--squad2 also runs SQuAD 2.0 dev (all 1,204 paragraphs indexed) with its unanswerable
questions: they are written against a paragraph that is in the index, so they are much harder.
"""

from __future__ import annotations

import argparse

import numpy as np

from bench._common import VectorCache, fit_logistic, load_encoder
from bench._corpora import Corpus, Question, squad_corpus
from bench._harness import answered, build_index, seed_sentences


def quarter_corpus(encoder, cache) -> tuple[Corpus, dict[str, list[Question]]]:
    full = squad_corpus(encoder, "1.1", "all")
    keep = {a.id for a in full.articles if int(a.id[1:].split("-")[0]) % 4 in (0, 2)}
    parts: dict[str, list[Question]] = {"dev": [], "test": []}
    for q in full.questions:
        art = int(next(iter(q.gold))[1:].split("-")[0])
        part = "dev" if art % 4 in (0, 1) else "test"
        parts[part].append(q if q.gold <= keep else Question(q.text, [], set()))
    corpus = Corpus([a for a in full.articles if a.id in keep],
                    [p for p in full.passages if p.article_id in keep], [])
    return corpus, parts


def run(assistant, questions: list[Question], cache) -> list[tuple[Question, object, tuple]]:
    """Each question answered as the assistant answers it (the same scoring function), with the
    confidence features and whether the picked sentences hold a gold answer."""
    from qa.engine import answering
    from qa.engine.question import Question as Q
    from qa.engine.short_answer import best_span_score

    qvecs = cache.embed([q.text for q in questions], "questions")
    out = []
    for q, v in zip(questions, qvecs):
        parsed = Q.parse(q.text)
        cands = assistant.retriever.retrieve(q.text, v, answering.PASSAGES + 3,
                                             span_score=best_span_score(parsed))
        scoring = assistant.score(parsed, v, cands)
        ans = assistant.reply(q.text, parsed, scoring, cands)
        right = bool(q.answers) and any(a.lower() in s.text.lower() for s in
                                         answering.pick(scoring.ranked) for a in q.answers)
        out.append((q, ans, (scoring.signals.array(), right)))
    return out


def report(label: str, results, threshold: float | None = None) -> None:
    should = np.array([not q.answers for q, _, _ in results])
    conf = np.array([a.confidence for _, a, _ in results])
    refused = conf < (threshold if threshold is not None else _threshold())
    tp = int((refused & should).sum())
    prec = tp / max(1, refused.sum())
    rec = tp / max(1, should.sum())
    acc = np.mean([answered(a, q) for q, a, _ in results if q.answers]) if (~should).any() else 0
    print(f"{label}: {len(results)} questions ({int(should.sum())} to refuse): refusal "
          f"precision {prec:.3f} recall {rec:.3f}; answer accuracy on answerable {acc:.3f}")


def _threshold() -> float:
    from qa.engine.answering import THRESHOLD

    return THRESHOLD


def sweep(results) -> None:
    should = np.array([not q.answers for q, _, _ in results])
    conf = np.array([a.confidence for _, a, _ in results])
    print("  threshold  precision  recall")
    for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
        refused = conf < t
        tp = int((refused & should).sum())
        print(f"  {t:9.2f}  {tp / max(1, refused.sum()):9.3f}  {tp / max(1, should.sum()):6.3f}")


def fit(results) -> None:
    """Logistic regression: P(the answer is right) from the confidence features (the label is
    whether the picked sentences hold the answer, whatever the current threshold says)."""
    x = np.stack([f for _, _, (f, _) in results])
    y = np.array([right for _, _, (_, right) in results])
    raw_w, raw_b = fit_logistic(x, y, steps=3000, rate=0.5, l2=1e-3)
    print("CONF_WEIGHTS =", np.round(raw_w, 3).tolist(), " CONF_BIAS =", round(raw_b, 3))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench refusal")
    ap.add_argument("--every", type=int, default=1, help="take every Nth question")
    ap.add_argument("--fit", action="store_true", help="fit the confidence on the dev part")
    ap.add_argument("--squad2", action="store_true", help="also SQuAD 2.0 unanswerables")
    args = ap.parse_args(argv)
    from qa.assistant import Assistant

    encoder = load_encoder()
    cache = VectorCache(encoder)
    corpus, parts = quarter_corpus(encoder, cache)
    store = build_index("squad-half", corpus, encoder, cache)
    assistant = Assistant(store, encoder=encoder)
    seed_sentences(assistant, corpus, cache)
    for part in (["dev"] if args.fit else []) + ["test"]:
        results = run(assistant, parts[part][::args.every], cache)
        report(f"SQuAD out-of-corpus, {part}", results)
        if part == "dev":
            sweep(results)
            fit(results)
    if args.squad2:
        full = squad_corpus(encoder, "2.0", "all")
        store2 = build_index("squad2.0", full, encoder, cache)
        a2 = Assistant(store2, encoder=encoder)
        seed_sentences(a2, full, cache)
        results = run(a2, full.questions[::args.every], cache)
        report("SQuAD 2.0 dev unanswerable (in-corpus, adversarial)", results)
        sweep(results)
    return 0
