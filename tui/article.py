"""The article viewer: the whole article, with the quoted sentence highlighted and scrolled
into view. Escape returns to the chat."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from qa import Article, paragraph_spans
from tui.refs import SourceRef
from tui.text import HIGHLIGHT_STYLE, line, plain


def locate(article: Article, ref: SourceRef) -> tuple[int, int] | None:
    """Where ``ref``'s text stands in the article: its offsets, or where the text is found."""
    if article.text[ref.start:ref.end] == ref.text:
        return ref.start, ref.end
    at = article.text.find(ref.text) if ref.text else -1
    return (at, at + len(ref.text)) if at >= 0 else None


class Paragraph(Static):
    """A paragraph of the article; ``start``/``end`` index into ``Article.text``."""

    def __init__(self, text: str, start: int, highlight: tuple[int, int] | None) -> None:
        content = plain(text)
        self.start, self.end = start, start + len(text)
        self.highlight: tuple[int, int] | None = None
        if highlight and highlight[0] < self.end and highlight[1] > start:
            a, b = max(highlight[0], start), min(highlight[1], self.end)
            self.highlight = (a, b)
            content = content.stylize(HIGHLIGHT_STYLE, a - start, b - start)
        self.styled = content   # as shown, with the highlight's style
        super().__init__(content, classes="-highlighted" if self.highlight else "")


class ArticleScreen(Screen):
    """Shows ``article``; the text of ``ref`` (a citation or passage) is highlighted."""

    BINDINGS = [
        Binding("escape", "close", "Back to the chat"),
        Binding("q", "close", "Back", show=False),
        Binding("1", "app.open_source(1)", "Other sources", key_display="1-9"),
    ]

    def __init__(self, article: Article, ref: SourceRef) -> None:
        super().__init__()
        self.article = article
        self.ref = ref
        self.span = locate(article, ref)

    def compose(self) -> ComposeResult:
        a, ref = self.article, self.ref
        meta = " · ".join(p for p in (a.source or a.site, a.published and a.published.isoformat(),
                                      a.url or a.path) if p)
        what = "quoted sentence" if ref.role != "passage" else "passage"
        note = (f"[{ref.n}] {what} highlighted" if self.span
                else f"[{ref.n}] the {what} was not found in this version of the article")
        with Vertical(id="article-head"):
            yield Static(line((a.title, "bold")), id="article-title")
            yield Static(line((meta or "outlet and date unknown", "$text-muted")),
                         id="article-meta")
            yield Static(line((note, "italic $text-accent" if self.span else "$text-warning")),
                         id="article-note")
        with VerticalScroll(id="article-body"):
            for start, end in paragraph_spans(a.text):
                yield Paragraph(a.text[start:end], start, self.span)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#article-body").focus()
        self.call_after_refresh(self.scroll_to_quote)

    def highlighted(self) -> list[Paragraph]:
        return [p for p in self.query(Paragraph) if p.highlight]

    def highlighted_text(self) -> str:
        """The highlighted text as rendered, read back from the paragraphs' styles (with the
        article's own paragraph breaks between paragraphs)."""
        out, last = [], None
        for p in self.highlighted():
            text = p.styled.plain
            for span in p.styled.spans:
                if span.style == HIGHLIGHT_STYLE:
                    if last is not None:
                        out.append(self.article.text[last:p.start + span.start])
                    out.append(text[span.start:span.end])
                    last = p.start + span.end
        return "".join(out)

    def scroll_to_quote(self) -> None:
        marked = self.highlighted()
        if not marked:
            return
        body = self.query_one("#article-body", VerticalScroll)
        first = marked[0]
        assert first.highlight is not None
        if first.outer_size.height <= body.scrollable_content_region.height:
            body.scroll_to_center(first, animate=False, immediate=True)
            return
        # A paragraph taller than the view: aim at the line the quote starts on.
        width = max(first.content_region.width, 1)
        before = first.styled.plain[: first.highlight[0] - first.start]
        row = len(plain(before).wrap(width)) - 1 if before else 0
        top = first.virtual_region.y + max(row - 2, 0)
        body.scroll_to(y=top, animate=False, immediate=True)

    def action_close(self) -> None:
        self.dismiss()
