"""``qa migrate --from DIR --to URL``: copy a folder index into Qdrant, without re-embedding."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from qa.cli.options import store_url

if TYPE_CHECKING:
    from qa.indexing.migrate import MigrateSummary


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "migrate", help="copy a folder index into Qdrant (no re-embedding)",
        description="Copy the articles, passages, vectors, sentence vectors, file records and "
        "copy groups of a folder index into a Qdrant collection (made if absent, with the "
        "layout flags below). Articles already there in the same version are skipped: run it "
        "again to finish a copy cut short.")
    parser.add_argument("--from", dest="source", metavar="DIR", required=True,
                        help="the index folder to copy")
    parser.add_argument("--to", dest="target", metavar="URL", required=True, type=store_url,
                        help="qdrant:PATH or http(s)://HOST:6333[/COLLECTION]")
    parser.add_argument("--shards", type=int, metavar="N",
                        help="shards of a new collection (a 3-node cluster: 6)")
    parser.add_argument("--replicas", type=int, metavar="N",
                        help="copies of each shard in a new collection (a 3-node cluster: 2)")
    parser.add_argument("--on-disk", action="store_true", default=None,
                        help="keep the original dense vectors on disk (quantized ones in RAM)")
    parser.add_argument("--quantization", choices=["int8", "none"],
                        help="scalar quantization of the dense vectors (server default: int8)")
    parser.add_argument("--wait", action="store_true",
                        help="wait for another writer of the collection instead of failing")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from embeddings import IndexStore
    from embeddings.qdrant import Layout, create_store, parse
    from qa.indexing.migrate import copy_index
    from qa.indexing.stores import analyzer

    url = parse(args.target)
    given = url.layout
    url = url.with_layout(Layout(
        shards=args.shards or given.shards, replicas=args.replicas or given.replicas,
        on_disk=args.on_disk if args.on_disk is not None else given.on_disk,
        quantization=args.quantization or given.quantization))
    with IndexStore.open(args.source) as source:
        m = source.manifest
        with create_store(url, model=m.model, dim=m.dim, weights_sha256=m.weights_sha256,
                          analyzer=analyzer(), wait=args.wait) as target:
            shown: list[MigrateSummary] = []

            def progress(s: MigrateSummary) -> None:
                shown.append(s)
                _progress(s)

            summary = copy_index(source, target, progress=None if args.json else progress)
            if shown:
                print(file=sys.stderr)  # end the progress line
    if args.json:
        print(summary.model_dump_json())
    else:
        print(f"migrated: {summary.articles} articles ({summary.passages} passages) copied, "
              f"{summary.skipped} already there, {summary.files} file records, in "
              f"{summary.seconds:.1f} s, from {args.source} to {args.target}")
    return 0


def _progress(summary: Any) -> None:
    print(f"\rcopied {summary.articles} articles ({summary.passages} passages)", end="",
          file=sys.stderr, flush=True)
