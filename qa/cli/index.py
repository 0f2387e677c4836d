"""``qa index PATH...``: add articles to the index, incrementally."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus import DEFAULT_MAX_ARTICLE_BYTES
from qa.cli.options import add_index
from qa.errors import UsageError

if TYPE_CHECKING:
    from qa.cli.progress import IndexProgress
    from qa.indexing import IndexSummary

FIELD_KEYS = frozenset({"title", "text", "url", "source", "published", "id"})


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "index", help="add articles (files or folders) to the index",
        description="Index article files (.txt, .md, .html, .json, .jsonl) or folders of them. "
        "Unchanged articles are not embedded again; changed ones are replaced.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="article files or folders")
    add_index(parser)
    parser.add_argument("--backend", help="encoder backend (default: $QA_BACKEND, else the "
                        "fastest accurate one)")
    parser.add_argument("--prune", action="store_true",
                        help="remove indexed articles under PATH whose files are gone")
    parser.add_argument("--fields", metavar="K=V,...", type=_fields,
                        help="JSON field names, e.g. text=body,title=headline")
    parser.add_argument("--max-article-bytes", metavar="N", type=_max_bytes,
                        default=DEFAULT_MAX_ARTICLE_BYTES,
                        help="skip (with a warning) an article of more than N bytes of text "
                        f"(default: {DEFAULT_MAX_ARTICLE_BYTES:,})")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild a damaged index from the article files it lists (no "
                        "PATH); the damaged store.sqlite is kept beside it")
    parser.add_argument("--wait", action="store_true",
                        help="wait for another process writing to the index instead of failing")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    out.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.set_defaults(run=run)
    return parser


def _fields(text: str) -> dict[str, str]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not value.strip() or key.strip() not in FIELD_KEYS:
            keys = ", ".join(sorted(FIELD_KEYS))
            raise argparse.ArgumentTypeError(
                f"bad --fields entry {part!r}: use KEY=FIELD with KEY one of {keys}")
        out[key.strip()] = value.strip()
    return out


def _max_bytes(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"--max-article-bytes wants a whole number of bytes above 0, not {text!r}; "
            f"e.g. {DEFAULT_MAX_ARTICLE_BYTES}")
    return value


def _check(args: argparse.Namespace) -> None:
    from embeddings.qdrant.url import is_store_url

    if args.index is not None and not args.index.strip():
        raise UsageError("--index needs a folder")
    if args.rebuild and (args.paths or args.prune):
        raise UsageError("--rebuild re-reads the files the index lists: give no PATH nor "
                         "--prune with it")
    if not args.rebuild and not args.paths:
        raise UsageError("name the article files or folders to index (or give --rebuild)")
    if args.rebuild and args.index and is_store_url(args.index):
        raise UsageError("--rebuild is for index folders; a Qdrant store repairs itself on "
                         "the next write")


def _index(args: argparse.Namespace, index_dir: str | Path,
           progress: IndexProgress | None) -> IndexSummary:
    from embeddings import load_encoder
    from qa.indexing import index_paths
    from qa.indexing.rebuild import rebuild

    encoder = load_encoder(args.model, args.backend)
    if progress is not None:  # the line says which encoder runs, and why
        progress.backend = f"{encoder.backend}: {encoder.backend_reason}"
    if args.rebuild:
        return rebuild(index_dir, encoder=encoder, progress=progress, fields=args.fields,
                       max_article_bytes=args.max_article_bytes, release_encoder=True)
    return index_paths(args.paths, index_dir, encoder=encoder, prune=args.prune,
                       progress=progress, fields=args.fields, wait=args.wait,
                       max_article_bytes=args.max_article_bytes, release_encoder=True)


def run(args: argparse.Namespace) -> int:
    from qa.cli.progress import IndexProgress
    from qa.indexing import IndexingInterrupted
    from qa.indexing.location import default_index_dir

    _check(args)
    index_dir = args.index or default_index_dir()
    progress = None if args.quiet or args.json else IndexProgress()
    summary: IndexSummary
    try:
        summary = _index(args, index_dir, progress)
        code = 0
    except IndexingInterrupted as exc:
        summary, code = exc.summary, 130
    finally:
        if progress:
            progress.close()
    if args.json:
        print(summary.model_dump_json())
    elif not args.quiet:
        rate = summary.passages / summary.seconds if summary.seconds else 0.0
        print(f"{'interrupted' if code else 'indexed'}: {summary.added} added, "
              f"{summary.updated} updated, {summary.removed} removed, {summary.unchanged} "
              f"unchanged; {summary.passages} passages embedded in {summary.seconds:.1f} s "
              f"({rate:.1f}/s) into {index_dir}")
    if code:
        print("qa: interrupted: finished articles are saved; run the same command again to "
              "index the rest", file=sys.stderr)
    return code
