"""``qa ask QUESTION``: an answer quoted from the articles, with numbered sources."""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING

from qa.cli.options import add_filters, add_index, check_dates, filters, open_assistant
from qa.engine.text import snippet

if TYPE_CHECKING:
    from qa.cli.options import Subparsers
    from qa.models import Answer


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("ask", help="answer a question from the articles",
                                   description="Answer QUESTION from the indexed articles, "
                                   "quoting and citing the sentences it rests on.")
    parser.add_argument("question", metavar="QUESTION")
    parser.add_argument("--json", action="store_true", help="print the Answer as JSON")
    add_index(parser)
    add_filters(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from qa.assistant import check_question

    question = check_question(args.question)  # before the index opens: a bad one fails fast
    check_dates(args)
    with open_assistant(args) as assistant:
        answer = assistant.ask(question, **filters(args))
    print(answer.model_dump_json(indent=2) if args.json else render(answer))
    return 0


def render(answer: Answer) -> str:
    """The answer as text: the sentences with [n] markers, then the numbered sources."""
    wrap = textwrap.TextWrapper(width=100)
    lines = wrap.wrap(answer.answer)
    if answer.found:
        lines += ["", "Sources:"]
        for c in answer.citations:
            meta = ", ".join(x for x in (c.source, c.published and c.published.isoformat()) if x)
            role = "" if c.role == "answer" else f" ({c.role})"
            lines.append(f"[{c.n}]{role} {c.title}" + (f" - {meta}" if meta else ""))
            lines += textwrap.wrap(f'"{snippet(c.quote)}"', width=96, initial_indent="    ",
                                   subsequent_indent="    ")
            lines.append(f"    {c.url or c.path or c.article_id} (chars {c.start}-{c.end})")
        lines.append(f"confidence {answer.confidence:.2f}")
    elif answer.related:
        lines += ["", f"Closest passages (confidence {answer.confidence:.2f}):"]
        for h in answer.related:
            meta = ", ".join(x for x in (h.source, h.published and h.published.isoformat()) if x)
            lines.append(f"- {h.title}" + (f" - {meta}" if meta else ""))
            lines += textwrap.wrap(snippet(h.text, 200), width=96, initial_indent="    ",
                                   subsequent_indent="    ")
    return "\n".join(lines)
