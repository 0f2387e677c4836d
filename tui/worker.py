"""The chat's side of the assistant: it is opened, and questions are answered, in worker
threads, one job at a time and in the order asked, so the screen never freezes. Questions asked
before the model is ready wait in the queue."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from textual import work
from textual.app import App
from textual.widget import Widget

from qa import (
    Answer,
    Article,
    AssistantAPI,
    AssistantOpener,
    ConversationAPI,
    Hit,
    IndexInfo,
    QAError,
)
from tui.answer import AnswerMessage
from tui.notice import Notice
from tui.question import QuestionMessage
from tui.refs import SourceRef
from tui.results import SearchResults
from tui.transcript import Turn

if TYPE_CHECKING:
    from tui.header import CorpusHeader
    from tui.turn import TurnMessage

    _AppBase = App[None]
else:
    _AppBase = object

SEARCH_K = 5   # passages /search shows
WAITING = "Waiting for the model to load: this will be answered as soon as it is ready…"
QUEUED = "Queued…"
WORKING = {"ask": "Reading the articles…", "search": "Ranking passages…"}


def describe(exc: BaseException) -> str:
    """One line for the user: our own errors say what to do; anything else names its type."""
    return str(exc) if isinstance(exc, QAError) else f"{type(exc).__name__}: {exc}"


@dataclass
class Job:
    """A question or search waiting for, or being handled by, the worker."""

    kind: str                # "ask" or "search"
    text: str
    pending: Notice          # the placeholder its reply replaces
    generation: int          # the conversation it belongs to
    conversation: ConversationAPI | None = None


class AssistantWorker(_AppBase):
    """Mixed into the app: ``assistant`` is a ``qa.Assistant`` (any ``qa.AssistantAPI``) or a
    zero-argument callable opening one. The app provides ``header``, ``_show``, ``_status``,
    ``select`` and ``_show_article``."""

    if TYPE_CHECKING:
        @property
        def header(self) -> CorpusHeader: ...
        def _show(self, widget: Widget, *, after: Widget | None = None) -> None: ...
        def _status(self) -> None: ...
        def select(self, widget: TurnMessage) -> None: ...
        def _show_article(self, article: Article, ref: SourceRef) -> None: ...

    def _init_worker(self, assistant: AssistantAPI | AssistantOpener) -> None:
        self._opens = not isinstance(assistant, AssistantAPI)
        self._source = assistant
        self.assistant: AssistantAPI | None = None
        self.info: IndexInfo | None = None
        self.load_error: str | None = None
        self.conversation: ConversationAPI | None = None
        self.turns: list[Turn] = []
        self.jobs: deque[Job] = deque()
        self.running: Job | None = None
        self.generation = 0

    @property
    def busy(self) -> bool:
        """True while loading, answering, or with questions waiting."""
        loading = self.assistant is None and self.load_error is None
        return loading or self.running is not None or bool(self.jobs)

    def _from_thread(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            self.call_from_thread(callback, *args)
        except RuntimeError:  # the app has closed meanwhile
            pass

    # -- opening the assistant ------------------------------------------------------------
    @work(thread=True, group="load", exit_on_error=False)
    def _load(self) -> None:
        assistant: AssistantAPI | None = None
        try:
            assistant = self._open()
            self._from_thread(self._opened, assistant.info())
            assistant.warm_up()
        except Exception as exc:  # shown to the user; the app stays up
            if self._opens and assistant is not None:
                assistant.close()
            self._from_thread(self._load_failed, exc)
            return
        self._from_thread(self._assistant_ready, assistant)

    def _open(self) -> AssistantAPI:
        """The assistant: opened here (in the worker thread) if the app was given an opener."""
        if self._opens:
            return cast(AssistantOpener, self._source)()
        return cast(AssistantAPI, self._source)

    def _opened(self, info: IndexInfo) -> None:
        self.info = info
        self.header.show_info(info)
        self._status()

    def _assistant_ready(self, assistant: AssistantAPI) -> None:
        self.assistant = assistant
        self.conversation = assistant.chat()
        self._status()
        self._drain()

    def _load_failed(self, exc: BaseException) -> None:
        self.load_error = describe(exc)
        self._status()
        for job in self.jobs:
            job.pending.remove()
        self.jobs.clear()
        self._show(Notice(f"Could not open the articles: {self.load_error}", "error",
                          title="Error"))
        self.notify(self.load_error, title="Could not open the articles", severity="error",
                    markup=False)

    def close_assistant(self) -> None:
        """Close the assistant if this app opened it."""
        if self._opens and self.assistant is not None:
            self.assistant.close()

    def _enqueue(self, kind: str, text: str) -> None:
        self._show(QuestionMessage(text if kind == "ask" else f"/search {text}"))
        if self.load_error:
            self._show(Notice(f"Cannot answer: {self.load_error}", "error"))
            return
        pending = Notice(WAITING if self.assistant is None else QUEUED, "pending")
        self._show(pending)
        self.jobs.append(Job(kind, text, pending, self.generation))
        self._drain()

    def _drain(self) -> None:
        """Start the next job if the assistant is ready and idle."""
        if self.assistant is not None and self.running is None and self.jobs:
            job = self.jobs.popleft()
            job.conversation = self.conversation
            job.pending.set_text(WORKING[job.kind])
            self.running = job
            self._run(job)
        self._status()

    @work(thread=True, group="jobs", exit_on_error=False)
    def _run(self, job: Job) -> None:
        result: Answer | list[Hit] | None = None
        error: BaseException | None = None
        try:
            if job.kind == "ask":
                assert job.conversation is not None
                result = job.conversation.ask(job.text)
            else:
                assert self.assistant is not None
                result = self.assistant.search(job.text, k=SEARCH_K)
        except Exception as exc:  # shown to the user; the app stays up
            error = exc
        self._from_thread(self._finish, job, result, error)

    def _finish(self, job: Job, result: Answer | list[Hit] | None,
                error: BaseException | None) -> None:
        self.running = None
        if job.generation == self.generation:  # else: a new conversation began meanwhile
            if error is not None:
                message = describe(error)
                self._show(Notice(message, "error", title="Error"), after=job.pending)
                self.notify(message, title="Could not answer", severity="error", markup=False)
            else:
                widget = self._reply(job, result)
                turn = widget.turn
                assert turn is not None
                self.turns.append(turn)
                self._show(widget, after=job.pending)
                self.select(widget)
        self._drain()

    @staticmethod
    def _reply(job: Job, result: Answer | list[Hit] | None) -> TurnMessage:
        """The widget showing ``result``, with its turn for copy and export."""
        widget: TurnMessage
        if isinstance(result, Answer):
            widget, turn = AnswerMessage(result), Turn(job.text, answer=result)
        else:
            hits = list(result or [])
            widget, turn = SearchResults(job.text, hits), Turn(job.text, hits=hits)
        widget.turn = turn
        return widget

    @work(thread=True, group="article", exit_on_error=False)
    def _read_article(self, ref: SourceRef) -> None:
        try:
            assert self.assistant is not None
            article = self.assistant.article(ref.article_id)
        except Exception as exc:  # shown to the user; the app stays up
            self._from_thread(self._article_failed, exc)
            return
        self._from_thread(self._show_article, article, ref)

    def _article_failed(self, exc: BaseException) -> None:
        self.notify(describe(exc), title="Could not open the article", severity="error",
                    markup=False)
