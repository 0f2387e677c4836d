"""Options shared by ``qa ask``, ``qa search`` and ``qa eval``."""

from __future__ import annotations

import argparse
import datetime as dt


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


def add_index(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", metavar="DIR",
                        help="the index folder (default: $QA_INDEX or the user data folder)")
    parser.add_argument("--model", metavar="M",
                        help="embedding model name or folder (default: the index's own)")


def add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", metavar="S", help="only articles from this outlet or site")
    parser.add_argument("--from", dest="published_from", type=iso_date, metavar="DATE",
                        help="only articles published on or after DATE (YYYY-MM-DD)")
    parser.add_argument("--to", dest="published_to", type=iso_date, metavar="DATE",
                        help="only articles published on or before DATE (YYYY-MM-DD)")


def filters(args: argparse.Namespace) -> dict:
    return {"source": args.source, "published_from": args.published_from,
            "published_to": args.published_to}


def check_dates(args: argparse.Namespace) -> None:
    from qa.errors import UsageError

    if args.published_from and args.published_to and args.published_from > args.published_to:
        raise UsageError(f"--from {args.published_from} is after --to {args.published_to}")


def open_assistant(args: argparse.Namespace):
    from qa.assistant import Assistant

    return Assistant.open(args.index, model=args.model)
