"""The ``qa`` command line: one module per sub-command, with the options and output they share.

``main`` is the console script's entry point (``qa = "qa.cli:main"``).
"""

from qa.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
