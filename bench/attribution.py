"""Attribution (issue 13) on real news: the sentences that answer RealTimeQA questions (the
gold-bearing sentences of ``bench short-answers``), each read in its article, printed with the
speaker and hedge that ``qa.engine.attribution`` finds, for judging by reading.

    python -m bench attribution [--part tune|test|all] [--sample 50]

Prints the first ``--sample`` sentences given a speaker (question order), then how many of
the sentences looked at got none, and how many were hedged.
"""

from __future__ import annotations

import argparse
import json

from bench._data import dataset
from bench.short_answers import news_rows
from qa.engine.attribution import attribution


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench attribution")
    ap.add_argument("--part", choices=["tune", "test", "all"], default="test")
    ap.add_argument("--sample", type=int, default=50)
    args = ap.parse_args(argv)
    with dataset("realtimeqa-2023", "articles.jsonl").open() as fh:
        texts = [json.loads(line)["text"] for line in fh]
    seen = given = none = hedged = 0
    for _, _, sentence, _ in news_rows(args.part):
        text = next((t for t in texts if sentence in t), None)
        if text is None:
            continue
        start = text.index(sentence)
        who, hedge = attribution(text, start, start + len(sentence))
        seen += 1
        hedged += hedge
        if who is None:
            none += 1
            continue
        given += 1
        print(f"{given:>3}. [{who}]{' (hedged)' if hedge else ''}\n     {sentence}")
        if given >= args.sample:
            break
    print(f"{seen} sentences looked at: {given} given a speaker, {none} none "
          f"({none / max(seen, 1):.0%}), {hedged} hedged")
    return 0
