"""The ``qa`` command. Built-in sub-commands are the modules of ``qa.cli``; layers above ``qa``
(the chat app) add theirs as plugins registered under the ``qa.commands`` entry-point group."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from corpus.errors import QAError
from qa.errors import QuestionError, UsageError

# The exit status of a command whose reader has gone (`qa ask ... | head -c 10`): what a Unix
# tool killed by SIGPIPE reports (128 + 13), so `set -o pipefail` scripts still see that the
# output was cut short. Nothing is printed: the reader stopped reading on purpose.
EXIT_BROKEN_PIPE = 141

# Built-in sub-commands, in the order --help lists them. Modules are imported only to build the
# parser; each keeps its heavy imports inside ``run``.
BUILTIN = ["ask", "search", "index", "info", "eval", "serve", "migrate"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as argparse does, without the usage dump
        self.exit(2, f"qa: error: {message} (see 'qa --help')\n")


def _commands():
    for name in BUILTIN:
        try:
            yield importlib.import_module(f"qa.cli.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet in this checkout
            if exc.name != f"qa.cli.{name}":
                raise
    for ep in entry_points(group="qa.commands"):
        yield ep.load()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qa", description="Ask questions of a folder of news articles.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _commands():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # here, so a reader that has gone is noticed while we can still tell
        return code
    except BrokenPipeError:
        return _reader_gone()
    except (UsageError, QuestionError) as exc:  # the user's input: exit 2, as argparse does
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    except QAError as exc:
        if args.debug:
            raise
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line unless --debug
        if args.debug:
            raise
        print(f"qa: error: {type(exc).__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return 1


def _reader_gone() -> int:
    """Send stdout to devnull (the Python docs' recipe): the interpreter's last flush at exit
    would otherwise fail again and print "Exception ignored ... BrokenPipeError"."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture): nothing to do
        pass
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
