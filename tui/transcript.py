"""The conversation as Markdown, with its sources: what copy and export produce."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from qa import Answer, Hit, IndexInfo, snippet
from tui.refs import SourceRef, refs_for_hits

ROLE_NOTES = {"corroborating": " (corroborating)", "conflicting": " (disagrees)"}


@dataclass
class Turn:
    """One exchange: a question and its answer, or a ``/search`` and its passages."""

    text: str
    answer: Answer | None = None
    hits: list[Hit] = field(default_factory=list)

    @property
    def is_search(self) -> bool:
        return self.answer is None


def _quote(text: str) -> str:
    return "> " + snippet(text).replace("\n", " ")


def _source(ref: SourceRef, *, passage_limit: int | None = None) -> list[str]:
    meta = ref.meta
    where = ref.location or ref.article_id
    head = f"[{ref.n}]{ROLE_NOTES.get(ref.role, '')} **{snippet(ref.title)}**"
    lines = [head + (f" — {meta}" if meta else "")]
    lines += ["", _quote(snippet(ref.text, passage_limit)), ""]
    lines.append(f"<{where}> (characters {ref.start}–{ref.end})" if ref.location
                 else f"article `{where}` (characters {ref.start}–{ref.end})")
    return lines


def turn_markdown(turn: Turn) -> str:
    """One exchange as Markdown: question, answer with its markers, numbered sources."""
    out: list[str] = []
    if turn.is_search:
        out += [f"## Search: {snippet(turn.text)}", ""]
        refs = refs_for_hits(turn.hits)
        if not refs:
            out.append("No passages matched.")
        for ref in refs:
            out += [*_source(ref, passage_limit=400), f"score {ref.score:.3f}", ""]
        return "\n".join(out).rstrip() + "\n"
    answer = turn.answer
    assert answer is not None
    out += [f"## Q: {snippet(turn.text)}", "", snippet(answer.answer), ""]
    if answer.found:
        out += [f"Confidence {answer.confidence:.2f}. Sources:", ""]
        for c in answer.citations:
            out += [*_source(SourceRef.from_citation(c)), ""]
    else:
        out += [f"Not found in the articles (confidence {answer.confidence:.2f}).", ""]
        if answer.related:
            out += ["Closest passages:", ""]
            for ref in refs_for_hits(answer.related):
                out += [*_source(ref, passage_limit=400), ""]
    return "\n".join(out).rstrip() + "\n"


def conversation_markdown(turns: list[Turn], info: IndexInfo | None = None,
                          now: dt.datetime | None = None) -> str:
    """The whole conversation, with a heading saying when and over which index."""
    now = now or dt.datetime.now().astimezone()
    out = ["# newsqa conversation", "", f"Exported {now:%Y-%m-%d %H:%M}."]
    if info is not None:
        out[-1] += (f" Index `{info.path}`: {info.articles} articles, {info.passages} passages, "
                    f"model {info.model}.")
    out.append("")
    if not turns:
        out.append("No questions asked yet.\n")
    out += [turn_markdown(t) for t in turns]
    return "\n".join(out).rstrip() + "\n"


def export(turns: list[Turn], folder: Path, info: IndexInfo | None = None) -> Path:
    """Write the conversation to a new ``newsqa-chat-<time>.md`` in ``folder``; its path."""
    now = dt.datetime.now().astimezone()
    stem = f"newsqa-chat-{now:%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True, exist_ok=True)
    path, n = folder / f"{stem}.md", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.md"
    path.write_text(conversation_markdown(turns, info, now), encoding="utf-8")
    return path
