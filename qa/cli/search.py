"""``qa search QUERY``: the passages that match best, with their scores."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from qa.cli.options import add_filters, add_index, check_dates, filters, open_assistant
from qa.engine.text import snippet

if TYPE_CHECKING:
    from qa.cli.options import Subparsers


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("search", help="show the passages that match a query best",
                                   description="Show the passages that match QUERY best.")
    parser.add_argument("query", metavar="QUERY")
    parser.add_argument("-k", type=int, default=5, metavar="N",
                        help="how many passages (1-100, default 5)")
    parser.add_argument("--json", action="store_true",
                        help='print {"query": ..., "hits": [...]} as JSON')
    add_index(parser)
    add_filters(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from qa.assistant import check_k, check_question

    query = check_question(args.query, "query")  # before the index opens: fail fast
    check_k(args.k)
    check_dates(args)
    with open_assistant(args) as assistant:
        hits = assistant.search(query, args.k, **filters(args))
    if args.json:
        print(json.dumps({"query": query, "hits": [h.model_dump(mode="json") for h in hits]},
                         ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("No passages match.")
    for n, h in enumerate(hits, 1):
        meta = ", ".join(x for x in (h.source, h.published and h.published.isoformat()) if x)
        print(f"{n}. [{h.score:.3f}] {h.title}" + (f" ({meta})" if meta else ""))
        print(f"   {snippet(h.text, 300)}")
        print(f"   {h.url or h.path or h.article_id}  passage {h.passage_id}")
    return 0
