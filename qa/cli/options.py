"""Options shared by the commands: ``--index``/``--model`` (every command that opens an index:
:func:`add_index`) and the source/date filters of ``qa ask`` and ``qa search``."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from qa.assistant import Assistant

    # what ``add_parser(subparsers)`` of each command module receives
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

INDEX_HELP = "the index folder (default: $QA_INDEX, else the per-user data folder)"
MODEL_HELP = ("embedding model name or folder (default: $QA_MODEL, else the index's own; a new "
              "index gets the bundled all-MiniLM-L6-v2)")


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


def add_index(parser: argparse.ArgumentParser, *, model: bool = True) -> None:
    """``--index DIR`` and (unless ``model=False``) ``--model M``: the one definition every
    command that opens an index uses (``qa ask/search/eval/serve/info/index``, ``qa chat``)."""
    parser.add_argument("--index", metavar="DIR", help=INDEX_HELP)
    if model:
        parser.add_argument("--model", metavar="M", help=MODEL_HELP)


def add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", metavar="S", help="only articles from this outlet or site")
    parser.add_argument("--from", dest="published_from", type=iso_date, metavar="DATE",
                        help="only articles published on or after DATE (YYYY-MM-DD)")
    parser.add_argument("--to", dest="published_to", type=iso_date, metavar="DATE",
                        help="only articles published on or before DATE (YYYY-MM-DD)")


class Filters(TypedDict):
    source: str | None
    published_from: dt.date | None
    published_to: dt.date | None


def filters(args: argparse.Namespace) -> Filters:
    return {"source": args.source, "published_from": args.published_from,
            "published_to": args.published_to}


def check_dates(args: argparse.Namespace) -> None:
    from qa.errors import UsageError

    if args.published_from and args.published_to and args.published_from > args.published_to:
        raise UsageError(f"--from {args.published_from} is after --to {args.published_to}")


def open_assistant(args: argparse.Namespace) -> Assistant:
    from qa.assistant import Assistant

    return Assistant.open(args.index, model=args.model)
