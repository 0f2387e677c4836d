"""The chat app: questions in, answers out, each answer opening onto its sources. The
assistant works in worker threads (tui/worker.py): the screen paints at once, never freezes."""

from __future__ import annotations

from pathlib import Path

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer

from qa import Article, AssistantAPI, AssistantOpener
from tui.article import ArticleScreen
from tui.header import CorpusHeader
from tui.help import HelpScreen, help_text
from tui.notice import Notice
from tui.prompt import PromptInput
from tui.refs import SourceRef
from tui.source_card import SourceCard
from tui.sources import SourcesPanel
from tui.theming import DEFAULT_THEME as DEFAULT_THEME  # where the tests read it
from tui.theming import KeptTheme
from tui.transcript import export, turn_markdown
from tui.turn import TurnMessage
from tui.worker import AssistantWorker

WIDE = 100   # columns from which the sources panel shows beside the conversation
ASK = "Ask a question about the articles, or /help"
FOLLOW_UP = "Ask a follow-up, or type a source number and Enter to open it"
WELCOME = ("Ask a question about the articles and press Enter. Follow-up questions build on "
           "the conversation. /help lists commands and keys.")
SOURCE_NUMBERS = {str(n) for n in range(1, 10)}
MAIN_ONLY = {"new_conversation", "copy_answer", "export", "toggle_sources", "focus_answer",
             "focus_prompt"}


class ChatApp(AssistantWorker, KeptTheme, App[None]):
    """``assistant``: a ``qa.Assistant``, or a zero-argument callable that opens one (called in
    a worker thread)."""

    CSS_PATH = "chat.tcss"
    TITLE = "newsqa"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    BINDINGS = [
        Binding("ctrl+n", "new_conversation", "New", priority=True,
                tooltip="Start a new conversation"),
        Binding("ctrl+y", "copy_answer", "Copy", priority=True,
                tooltip="Copy the selected answer with its sources"),
        Binding("ctrl+s", "export", "Export", priority=True,
                tooltip="Export the conversation to a Markdown file"),
        Binding("ctrl+b", "toggle_sources", "Sources", priority=True,
                tooltip="Show or hide the sources panel"),
        Binding("f1", "help", "Help", tooltip="Commands and keys"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("escape", "focus_prompt", "Back to the question box", show=False),
        *[Binding(str(n), f"open_source({n})", f"Open source {n}", show=False)
          for n in range(1, 10)],
    ]

    def __init__(self, assistant: AssistantAPI | AssistantOpener, *,
                 export_dir: str | Path | None = None, theme: str | None = None,
                 settings_path: str | Path | None = None) -> None:
        super().__init__()
        self._init_worker(assistant)
        self._init_theme(theme, settings_path)
        self.export_dir = Path(export_dir) if export_dir else Path.cwd()
        self.selected: TurnMessage | None = None
        self.last_export: Path | None = None
        self.sources_wanted: bool | None = None   # None: shown when the terminal is wide

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield CorpusHeader(id="header")
        with Horizontal(id="body"):
            yield VerticalScroll(id="conversation", can_focus=False)
            yield SourcesPanel(id="sources")
        yield PromptInput(placeholder=ASK, id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self._apply_theme()
        self._place_sources()
        self.chat_view.anchor()
        self._show(Notice(WELCOME))
        self.query_one(PromptInput).focus()
        self._load()

    def on_key(self, event: events.Key) -> None:
        """Typing a letter anywhere on the main screen goes to the question box (digits stay
        free to open sources when an answer has the focus)."""
        prompt = self.query_one(PromptInput)
        char = event.character
        if (self.screen is self.screen_stack[0] and event.is_printable and char
                and not char.isdigit() and self.focused is not prompt):
            prompt.focus()
            prompt.insert_text_at_cursor(char)
            event.stop()
            event.prevent_default()

    @property
    def chat_view(self) -> VerticalScroll:
        return self.query_one("#conversation", VerticalScroll)

    @property
    def header(self) -> CorpusHeader:
        return self.query_one(CorpusHeader)

    @property
    def sources(self) -> SourcesPanel:
        return self.query_one(SourcesPanel)

    def _show(self, widget: Widget, *, after: Widget | None = None) -> None:
        if after is not None and after.is_attached:
            self.chat_view.mount(widget, after=after)
            after.remove()
        else:
            self.chat_view.mount(widget)

    def _status(self) -> None:
        if self.load_error:
            self.header.set_state("error", self.load_error)
        elif self.assistant is None:
            self.header.set_state("opening" if self.info is None else "loading")
        else:
            self.header.set_state("busy" if self.running else "ready")

    # -- questions and commands --------------------------------------------------------------
    @on(PromptInput.Submitted)
    def _submitted(self, event: PromptInput.Submitted) -> None:
        prompt = self.query_one(PromptInput)
        text = event.value.strip()
        prompt.value = ""
        if not text:
            return
        if text in SOURCE_NUMBERS:  # "2" and Enter: source [2] of the selected answer
            self.action_open_source(int(text))
            return
        prompt.remember(text)
        self.handle(text)

    def handle(self, text: str) -> None:
        """Act on what the user typed: a question or a /command."""
        if not text.startswith("/"):
            self._enqueue("ask", text)
            return
        command, _, arg = text[1:].partition(" ")
        command, arg = command.lower(), arg.strip()
        if command == "help":
            self._show(Notice(help_text(), title="Help"))
        elif command == "search" and arg:
            self._enqueue("search", arg)
        elif command == "search":
            self._show(Notice("Give some words to search for: /search QUERY", "error"))
        elif command in ("new", "clear"):
            self.action_new_conversation()
        else:
            self._show(Notice(f"There is no command /{command}: /help lists them.", "error"))

    # -- sources -----------------------------------------------------------------------------
    @on(TurnMessage.Selected)
    def _turn_selected(self, event: TurnMessage.Selected) -> None:
        self.select(event.turn)

    def select(self, widget: TurnMessage) -> None:
        """Make ``widget`` the selected reply: the sources panel shows its sources."""
        if self.selected is widget:
            return
        if self.selected is not None:
            self.selected.remove_class("-selected")
        self.selected = widget
        widget.add_class("-selected")
        self.sources.show(widget.panel_title, widget.refs, widget.empty_note)
        self.query_one(PromptInput).placeholder = FOLLOW_UP if widget.refs else ASK

    @on(SourceCard.Chosen)
    def _source_chosen(self, event: SourceCard.Chosen) -> None:
        self.open_source(event.ref)

    def action_open_source(self, n: int) -> None:
        if self.selected is None:
            self.notify("Ask a question first: number keys open its sources.",
                        severity="warning")
        elif (ref := self.selected.ref(n)) is None:
            self.notify(f"The selected answer has no source [{n}].", severity="warning")
        else:
            self.open_source(ref)

    def open_source(self, ref: SourceRef) -> None:
        """Open the article of ``ref`` with its text highlighted."""
        if self.assistant is None:
            self.notify("The articles are not open yet: try again in a moment.",
                        severity="warning")
            return
        self._read_article(ref)

    def _show_article(self, article: Article, ref: SourceRef) -> None:
        screen = ArticleScreen(article, ref)
        if isinstance(self.screen, ArticleScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    # -- actions -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_ONLY:
            return self.screen is self.screen_stack[0]
        if action == "open_source":
            return isinstance(self.screen, ArticleScreen) or self.screen is self.screen_stack[0]
        return True

    def action_new_conversation(self) -> None:
        self.generation += 1
        for job in self.jobs:
            job.pending.remove()
        self.jobs.clear()
        self.turns.clear()
        self.selected = None
        self.query_one(PromptInput).placeholder = ASK
        self.chat_view.remove_children()
        self.sources.clear()
        if self.assistant is not None:
            self.conversation = self.assistant.chat()
        self._show(Notice("New conversation. " + WELCOME))
        self._status()
        self.query_one(PromptInput).focus()

    def action_copy_answer(self) -> None:
        selected = self.selected
        turn = selected.turn if selected is not None else None
        if selected is None or turn is None:
            self.notify("Nothing to copy yet: ask a question first.", severity="warning")
            return
        self.copy_to_clipboard(turn_markdown(turn))
        n = len(selected.refs)
        self.notify(f"Copied the {'results' if turn.is_search else 'answer'} and "
                    f"{n} source{'s' * (n != 1)} to the clipboard (Markdown).")

    def action_export(self) -> None:
        if not self.turns:
            self.notify("Nothing to export yet: ask a question first.", severity="warning")
            return
        try:
            path = export(self.turns, self.export_dir, self.info)
        except OSError as exc:
            self.notify(f"Could not export the conversation: {exc}", severity="error",
                        markup=False)
            return
        self.last_export = path
        self.notify(f"Exported the conversation to {path}", title="Exported", markup=False,
                    timeout=10)

    def on_resize(self) -> None:
        self._place_sources()

    def _place_sources(self) -> None:
        wanted = self.sources_wanted
        shown = self.size.width >= WIDE if wanted is None else wanted
        self.query_one("#body").set_class(shown, "-sources-shown")

    @property
    def sources_shown(self) -> bool:
        return self.query_one("#body").has_class("-sources-shown")

    def action_toggle_sources(self) -> None:
        self.sources_wanted = not self.sources_shown
        self._place_sources()

    def action_focus_answer(self) -> None:
        """Tab from the question box: to the selected answer, where 1-9 open its sources."""
        if self.selected is not None:
            self.selected.focus()
        else:
            self.screen.focus_next()

    def action_focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def create_app(assistant: AssistantAPI | AssistantOpener | None = None, *,
               index: str | Path | None = None, model: str | None = None,
               export_dir: str | Path | None = None,
               theme: str | None = None, settings_path: str | Path | None = None) -> ChatApp:
    """The chat app, for the CLI and tests alike. Without ``assistant``, it opens
    ``qa.Assistant.open(index, model=model)`` in a worker (building the sample index on first
    use)."""
    if assistant is None:
        def open_assistant() -> AssistantAPI:
            from qa import Assistant

            return Assistant.open(index, model=model)

        assistant = open_assistant
    return ChatApp(assistant, export_dir=export_dir, theme=theme, settings_path=settings_path)
