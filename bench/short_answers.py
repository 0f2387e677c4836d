"""Short answers (issue 13): exact match and F1 of ``short_answer`` against the gold answers, by
kind of question, on the sentence that holds the gold answer (short answers measured apart from
retrieval), and the share of questions given a span.

    python -m bench short-answers [--part tune|test|all] [--squad dev|test|all|none]
                                  [--show N] [--e2e-squad N]

- RealTimeQA 2023 (answerable questions, ``bench.news.part_of`` halves; tune on tune, report
  test): the gold-bearing sentence is, among the sentences of any article that contain a gold
  answer string, the one sharing most of the question's terms (the questions name no article).
- SQuAD v1.1 dev (article halves as in ``bench squad``): the sentence of the paragraph that
  holds the first gold answer's offset.
- ``--e2e-squad N``: every Nth SQuAD question of the half, end to end: the real answer on the
  cached SQuAD index (``bench squad`` builds it), the short answer taken from the first cited
  sentence.
Only questions of a short-answer kind (number, date, person, place, name) count; "EM|span" is
the exact match among the questions given a span.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict

from bench._common import OUT, split, squad
from bench._data import dataset
from bench.news import part_of
from corpus import split_sentences
from qa.engine.question import Question
from qa.engine.short_answer import KINDS, answer_kind, exact_match, f1, short_answer
from qa.engine.terms import terms

Row = tuple[str, str, str, list[str]]  # kind, question, sentence, golds


def news_rows(part: str) -> list[Row]:
    """Answerable RealTimeQA questions of ``part`` with their gold-bearing sentence (found once
    for all questions and kept in bench/out: scanning 3,012 articles takes a minute)."""
    cache = OUT / "short-answers-news.json"
    if not cache.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(_news_sentences()))
    rows = []
    for qid, text, sentence, answers in json.loads(cache.read_text()):
        if part == "all" or part_of(qid) == part:
            rows.append((answer_kind(Question.parse(text)), text, sentence, answers))
    return rows


def _news_sentences() -> list[tuple[str, str, str, list[str]]]:
    with dataset("realtimeqa-2023", "articles.jsonl").open() as fh:
        texts = [json.loads(line)["text"] for line in fh]
    lowered = [t.lower() for t in texts]
    rows = []
    with dataset("realtimeqa-2023", "questions.jsonl").open() as fh:
        for line in fh:
            q = json.loads(line)
            if not q["answers"]:
                continue
            text = q["question"].strip()
            sentence = _gold_sentence(text, q["answers"], texts, lowered)
            if sentence:
                rows.append((q["id"], text, sentence, q["answers"]))
    return rows


def _gold_sentence(question: str, answers: list[str], texts: list[str], lowered: list[str]
                   ) -> str | None:
    want = set(terms(question))
    best, best_key = None, (-1, 0)
    for ans in answers:
        pat = re.compile(rf"(?<!\w){re.escape(ans.lower())}(?!\w)")
        for text, low in zip(texts, lowered):
            for m in pat.finditer(low):
                s = low.rfind("\n\n", 0, m.start()) + 1
                e = low.find("\n\n", m.end())
                para = text[s:e if e >= 0 else len(text)]
                for a, b in split_sentences(para):
                    sent = para[a:b]
                    if pat.search(sent.lower()):
                        key = (len(want & set(terms(sent))), -len(sent))
                        if key > best_key:
                            best, best_key = sent, key
    return best


def squad_rows(part: str) -> list[Row]:
    rows = []
    for art in split(squad("1.1"), part):
        for para in art["paragraphs"]:
            ctx = para["context"]
            sents = split_sentences(ctx)
            for qa in para["qas"]:
                golds = sorted({a["text"] for a in qa["answers"]})
                at = qa["answers"][0]["answer_start"]
                sent = next((ctx[a:b] for a, b in sents if a <= at < b), None)
                text = qa["question"].strip()
                if sent:
                    rows.append((answer_kind(Question.parse(text)), text, sent, golds))
    return rows


def evaluate(name: str, rows: list[Row], show: int) -> None:
    by: dict[str, list[tuple[float, float, bool]]] = defaultdict(list)
    wrong = []
    for kind, text, sentence, golds in rows:
        if kind not in KINDS:
            continue
        span = short_answer(Question.parse(text), sentence)
        pred = sentence[span[0]:span[1]] if span else None
        em, f = exact_match(pred, golds), f1(pred, golds)
        by[kind].append((em, f, span is not None))
        by["all"].append((em, f, span is not None))
        if em < 1 and len(wrong) < show:
            wrong.append(f"  [{kind}] {text}\n    gold {golds} got {pred!r}\n    {sentence}")
    other = sum(1 for r in rows if r[0] not in KINDS)
    print(f"{name}: {len(by['all'])} short-answer questions ({other} of other kinds left out)")
    print(f"  {'kind':<7} {'n':>5} {'span':>6} {'EM':>6} {'F1':>6} {'EM|span':>8} {'F1|span':>8}")
    for kind in (*KINDS, "all"):
        r = by.get(kind)
        if not r:
            continue
        n, given = len(r), [x for x in r if x[2]]
        em, f = sum(x[0] for x in r) / n, sum(x[1] for x in r) / n
        gem = sum(x[0] for x in given) / max(len(given), 1)
        gf = sum(x[1] for x in given) / max(len(given), 1)
        print(f"  {kind:<7} {n:>5} {len(given) / n:>6.3f} {em:>6.3f} {f:>6.3f} {gem:>8.3f} "
              f"{gf:>8.3f}")
    for w in wrong:
        print(w)


def e2e_squad(part: str, every: int) -> None:
    """Short answers from the first cited sentence of the real answer (cached SQuAD index)."""
    from bench.squad import setup

    assistant, corpus, cache = setup("1.1", part if part != "none" else "test")
    qs = corpus.questions[::every]
    qvecs = cache.embed([q.text for q in qs], "questions")
    rows = []
    from bench.news import ask

    for q, v in zip(qs, qvecs):
        _, ans, parsed = ask(assistant, q.text, v)
        first = [c for c in ans.citations if c.role == "answer"][:1]
        rows.append((answer_kind(parsed), q.text, first[0].quote if first else "", q.answers))
    evaluate(f"SQuAD v1.1 {part} half, end to end (every {every}th question)", rows, 0)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench short-answers")
    ap.add_argument("--part", choices=["tune", "test", "all"], default="test")
    ap.add_argument("--squad", choices=["dev", "test", "all", "none"], default="test")
    ap.add_argument("--show", type=int, default=0, help="print N misses of each set")
    ap.add_argument("--e2e-squad", type=int, default=0, metavar="N",
                    help="also end to end on every Nth SQuAD question (cached index)")
    args = ap.parse_args(argv)
    evaluate(f"RealTimeQA 2023 {args.part} half, gold-bearing sentence", news_rows(args.part),
             args.show)
    if args.squad != "none":
        evaluate(f"SQuAD v1.1 {args.squad} half, gold sentence", squad_rows(args.squad),
                 args.show)
    if args.e2e_squad:
        e2e_squad(args.squad, args.e2e_squad)
    return 0
