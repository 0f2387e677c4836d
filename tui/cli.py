"""``qa chat``: the terminal chat (registered through the ``qa.commands`` entry points)."""

from __future__ import annotations

import argparse
import logging
import os

from qa.cli.options import add_index


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "chat", help="chat with the articles in the terminal",
        description="A terminal chat over the index: ask questions, follow up, and open each "
        "answer's sources with the quoted sentence highlighted. With no index yet, it builds one "
        "from the bundled sample articles.")
    add_index(parser)
    parser.add_argument("--theme", metavar="NAME",
                        help="colour theme for this run (default: the last one chosen with "
                        "ctrl+p, else tokyo-night)")
    parser.add_argument("--export-dir", metavar="DIR",
                        help="where ctrl+s writes the conversation (default: the current folder)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from qa.errors import UsageError
    from tui.app import create_app
    from tui.settings import default_path

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app = create_app(index=args.index, model=args.model, export_dir=args.export_dir,
                     theme=args.theme, settings_path=default_path())
    if args.theme and args.theme not in app.available_themes:
        names = ", ".join(sorted(app.available_themes))
        raise UsageError(f"no theme {args.theme!r}: choose one of {names}")
    # Log records would write over the screen: keep them quiet while the app runs.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    for h in handlers:
        root.removeHandler(h)
    root.addHandler(logging.NullHandler())
    try:
        app.run()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        app.close_assistant()
    return app.return_code or 0
