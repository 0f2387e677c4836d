"""``qa index PATH...``: add articles to the index, incrementally."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from qa.errors import UsageError


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "index", help="add articles (files or folders) to the index",
        description="Index article files (.txt, .md, .html, .json, .jsonl) or folders of them. "
        "Unchanged articles are not embedded again; changed ones are replaced.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="article files or folders")
    parser.add_argument("--index", metavar="DIR",
                        help="index folder (default: $QA_INDEX, else the per-user data folder)")
    parser.add_argument("--model", help="embedding model name or folder (default: $QA_MODEL, "
                        "else the bundled all-MiniLM-L6-v2)")
    parser.add_argument("--backend", help="encoder backend (default: $QA_BACKEND, else the "
                        "fastest accurate one)")
    parser.add_argument("--prune", action="store_true",
                        help="remove indexed articles under PATH whose files are gone")
    parser.add_argument("--fields", metavar="K=V,...", type=_fields,
                        help="JSON field names, e.g. text=body,title=headline")
    parser.add_argument("--wait", action="store_true",
                        help="wait for another process writing to the index instead of failing")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    out.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.set_defaults(run=run)
    return parser


def _fields(text: str) -> dict[str, str]:
    known = {"title", "text", "url", "source", "published", "id"}
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not value.strip() or key.strip() not in known:
            keys = ", ".join(sorted(known))
            raise argparse.ArgumentTypeError(
                f"bad --fields entry {part!r}: use KEY=FIELD with KEY one of {keys}")
        out[key.strip()] = value.strip()
    return out


class ProgressBar:
    """One self-rewriting line on a terminal; on a pipe, a line every ``every`` seconds."""

    def __init__(self, stream: TextIO = sys.stderr, every: float = 10.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = 0.2 if self.tty else every
        self.last = 0.0
        self.shown = False

    def __call__(self, p) -> None:
        now = time.monotonic()
        if now - self.last < self.every or not p.passages:
            return
        self.last = now
        total = f"/{p.total:,}" if p.total else ""
        eta = f"  ETA {_clock(p.eta)}" if p.eta is not None else ""
        if p.phase == "sentences":
            line = f"preparing answers: {p.passages:,} sentences  {p.rate:.1f} sentences/s"
        else:
            line = (f"indexing: {p.passages:,}{total} passages  {p.rate:.1f} passages/s{eta}  "
                    f"({p.articles:,} articles)")
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown and self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def run(args: argparse.Namespace) -> int:
    from embeddings import load_encoder
    from qa.indexing import IndexingInterrupted, index_paths
    from qa.indexing.location import default_index_dir

    if args.index is not None and not args.index.strip():
        raise UsageError("--index needs a folder")
    index_dir = args.index or default_index_dir()
    encoder = load_encoder(args.model, args.backend)
    bar = None if args.quiet or args.json else ProgressBar()
    try:
        summary = index_paths(args.paths, index_dir, encoder=encoder, prune=args.prune,
                              progress=bar, fields=args.fields, wait=args.wait)
        code = 0
    except IndexingInterrupted as exc:
        summary, code = exc.summary, 130
    finally:
        if bar:
            bar.close()
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
