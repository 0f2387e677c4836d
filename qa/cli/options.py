"""Options shared by the commands: ``--index``/``--store``/``--model`` (every command that opens
an index: :func:`add_index`) and the source/date filters of ``qa ask`` and ``qa search``."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from typing import TYPE_CHECKING, TypedDict

from embeddings.qdrant.url import is_store_url

if TYPE_CHECKING:
    from qa.assistant import Assistant

    # what ``add_parser(subparsers)`` of each command module receives
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

INDEX_HELP = "the index folder (default: $QA_INDEX, else the per-user data folder)"
STORE_HELP = ("the index in Qdrant instead of a folder: qdrant:PATH (local mode, one process at "
              "a time) or http(s)://HOST:6333[/COLLECTION] (API key: $QA_QDRANT_API_KEY); "
              "default: $QA_STORE")
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
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--index", metavar="DIR", help=INDEX_HELP)
    # one destination: every command hands ``args.index`` on, and a store URL there opens the
    # store (qa.indexing.location); $QA_STORE is the default when neither is given
    where.add_argument("--store", dest="index", metavar="URL", type=store_url, help=STORE_HELP)
    env = os.environ.get("QA_STORE")
    if env and is_store_url(env):  # a malformed one is reported when the store is opened
        parser.set_defaults(index=env)
    if model:
        parser.add_argument("--model", metavar="M", help=MODEL_HELP)


def store_url(text: str) -> str:
    """A ``--store`` value: checked, and kept as given (a folder path is refused)."""
    from embeddings.errors import IndexStoreError
    from embeddings.qdrant.url import is_store_url, parse

    if not is_store_url(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a store URL: use qdrant:PATH or http(s)://HOST:6333 (a folder "
            "goes with --index)")
    try:
        parse(text)
    except IndexStoreError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


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
