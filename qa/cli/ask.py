"""``qa ask QUESTION``: an answer quoted from the articles, with numbered sources."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import TYPE_CHECKING

from qa.cli.options import add_filters, add_index, check_dates, filters, iso_date, open_assistant
from qa.engine.text import snippet

BOLD, PLAIN = "\033[1m", "\033[0m"

if TYPE_CHECKING:
    from qa.cli.options import Subparsers
    from qa.models import Answer


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("ask", help="answer a question from the articles",
                                   description="Answer QUESTION from the indexed articles, "
                                   "quoting and citing the sentences it rests on.")
    parser.add_argument("question", metavar="QUESTION")
    parser.add_argument("--json", action="store_true", help="print the Answer as JSON")
    parser.add_argument("--today", type=iso_date, metavar="DATE",
                        help="read relative time words ('last week') against DATE (YYYY-MM-DD; "
                        "default: the newest article's date)")
    add_index(parser)
    add_filters(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from qa.assistant import check_question

    question = check_question(args.question)  # before the index opens: a bad one fails fast
    check_dates(args)
    with open_assistant(args) as assistant:
        answer = assistant.ask(question, **filters(args), today=args.today)
    print(answer.model_dump_json(indent=2) if args.json
          else render(answer, bold=sys.stdout.isatty() and not os.environ.get("NO_COLOR")))
    return 0


def render(answer: Answer, *, bold: bool = False) -> str:
    """The answer as text: the short answer (in bold on a terminal), the sentences with [n]
    markers, then the numbered sources with who says so, and copies of the same story."""
    wrap = textwrap.TextWrapper(width=100)
    lines: list[str] = []
    if answer.short_answer is not None:
        text = answer.short_answer.text
        lines.append(f"{BOLD}{text}{PLAIN} [{answer.short_answer.citation}]" if bold
                     else f"{text} [{answer.short_answer.citation}]")
    lines += wrap.wrap(answer.answer)
    if answer.notes():
        lines.append(f"({'; '.join(answer.notes())})")
    if answer.found:
        lines += ["", "Sources:"]
        for c in answer.citations:
            when = c.published.isoformat() if c.published else "undated"
            meta = ", ".join(x for x in (c.source, when) if x)
            role = "" if c.role == "answer" else f" ({c.role})"
            lines.append(f"[{c.n}]{role} {c.title} - {meta}")
            lines += textwrap.wrap(f'"{snippet(c.quote)}"', width=96, initial_indent="    ",
                                   subsequent_indent="    ")
            voice = [f"attributed to {c.attribution}" if c.attribution else "",
                     "hedged" if c.hedged else ""]
            if any(voice):
                lines.append("    " + "; ".join(v for v in voice if v))
            if c.copies:
                lines.append(f"    +{len(c.copies)} {'copy' if len(c.copies) == 1 else 'copies'}"
                             ": " + ", ".join(x.label() for x in c.copies))
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
