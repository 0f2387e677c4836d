"""Indexing progress on stderr: a rich progress bar on a terminal (rate and ETA, cleared at the
end), a plain line every few seconds when stderr is a pipe or a file (a log)."""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, TaskID, TextColumn
from rich.progress import Progress as RichProgress

from qa.indexing import Progress

LOG_EVERY = 10.0  # seconds between lines when stderr is not a terminal


class IndexProgress:
    """The ``progress`` callback of :func:`qa.indexing.index_paths`; use as a context manager
    (or call :meth:`close`) so the bar is cleared and logging goes back to ``stream``."""

    def __init__(self, stream: TextIO | None = None, every: float = LOG_EVERY,
                 backend: str = "") -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.backend = backend  # which encoder runs, and why: shown with the passages
        self.tty = self.stream.isatty()
        self.every = every
        self._last: float | None = None  # when the last line was printed
        self._bar: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._handlers: list[logging.StreamHandler[TextIO]] = []

    def __call__(self, p: Progress) -> None:
        if not p.passages:
            return
        if self.tty:
            self._update_bar(p)
        elif self._last is None or time.monotonic() - self._last >= self.every:
            self._last = time.monotonic()
            print(_line(p, self.backend), file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            for handler in self._handlers:
                handler.setStream(self.stream)
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> IndexProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- the bar -------------------------------------------------------------------------------
    def _update_bar(self, p: Progress) -> None:
        bar = self._bar or self._start_bar()
        if p.phase not in self._tasks:
            for task in self._tasks.values():
                bar.update(task, visible=False)
            what = "preparing answers" if p.phase == "sentences" else "indexing"
            if self.backend and p.phase == "passages":
                what += f" [{self.backend}]"
            self._tasks[p.phase] = bar.add_task(what, total=None, unit=p.phase, count="",
                                                rate="", eta="", articles="")
        eta = f"ETA {_clock(p.eta)}" if p.eta is not None else ""
        articles = f"{p.articles:,} articles" if p.phase == "passages" else ""
        count = f"{p.passages:,}" + (f"/{p.total:,}" if p.total else "")
        bar.update(self._tasks[p.phase], completed=p.passages, total=p.total, count=count,
                   rate=f"{p.rate:.1f}/s", eta=eta, articles=articles, refresh=True)

    def _start_bar(self) -> RichProgress:
        console = Console(file=self.stream)
        self._bar = RichProgress(
            TextColumn("{task.description}"), BarColumn(bar_width=20),
            TextColumn("{task.fields[count]} {task.fields[unit]}"),
            TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[eta]}"),
            TextColumn("{task.fields[articles]}"), console=console, transient=True)
        self._bar.start()
        # Warnings logged meanwhile go above the bar rather than through it: rich's proxy for
        # stderr prints them there, so the handlers writing to this stream write to it.
        if sys.stderr is not self.stream:
            for handler in logging.getLogger().handlers:
                if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                    handler.setStream(sys.stderr)
                    self._handlers.append(handler)
        return self._bar


def _line(p: Progress, backend: str = "") -> str:
    if p.phase == "sentences":
        return f"preparing answers: {p.passages:,} sentences  {p.rate:.1f} sentences/s"
    total = f"/{p.total:,}" if p.total else ""
    eta = f"  ETA {_clock(p.eta)}" if p.eta is not None else ""
    line = (f"indexing: {p.passages:,}{total} passages  {p.rate:.1f} passages/s{eta}  "
            f"({p.articles:,} articles)")
    return f"{line}  [{backend}]" if backend else line


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"
