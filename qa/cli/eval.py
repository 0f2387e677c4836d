"""``qa eval QUESTIONS.jsonl``: measure retrieval, answers, refusals and latency."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from qa.cli.options import add_index, open_assistant

if TYPE_CHECKING:
    from qa.cli.options import Subparsers


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "eval", help="measure answers against a file of questions",
        description='Run every {"question": ..., "answers": [...]} line of FILE (an empty '
        "answers list: the question should be refused) and report passage hit@1/@5 and "
        "MRR@10, answer accuracy, refusal precision and recall, and latency.")
    parser.add_argument("file", metavar="FILE.jsonl")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_index(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from qa.cli.evaluation import dumps, evaluate, read_questions, summary

    questions = read_questions(args.file)  # a bad file is a QuestionError: exit 2
    with open_assistant(args) as assistant:
        assistant.warm_up()
        report = evaluate(assistant, questions)
    if args.json:
        print(dumps(report))
    else:
        print(summary(report))
        wrong = [i for i in report.items if (i.answers and not i.correct)
                 or (not i.answers and i.found)]
        for i in wrong[:20]:
            what = "answered, should refuse" if not i.answers else (
                "refused" if not i.found else "wrong answer")
            print(f"  {what}: {i.question}", file=sys.stderr)
    return 0
