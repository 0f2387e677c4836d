"""The chat's pure helpers: paragraphs and offsets, text built from data, Markdown export."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from tui_fakes import CITATIONS, LONG, MARKUP, RELATED, FakeAssistant

from qa import Answer
from tui.article import locate, paragraph_spans
from tui.header import summary
from tui.refs import SourceRef, refs_for_hits
from tui.text import MARKER_STYLE, line, plain, safe, with_markers
from tui.transcript import Turn, conversation_markdown, export, turn_markdown


@given(st.text(alphabet=st.sampled_from("ab \n\t[]/"), max_size=80))
def test_paragraph_spans_are_ordered_non_blank_and_separated_by_blank_lines(text):
    spans = paragraph_spans(text)
    for a, b in spans:
        assert text[a:b].strip()
    for (_, b), (c, _) in zip(spans, spans[1:], strict=False):
        gap = text[b:c]
        assert b < c and not gap.strip() and gap.count("\n") >= 2
    covered = "".join(text[a:b] for a, b in spans)
    assert "".join(covered.split()) == "".join(text.split())  # nothing but blanks left out


def test_paragraph_spans_of_an_article():
    spans = paragraph_spans(MARKUP.text)
    assert [MARKUP.text[a:b] for a, b in spans] == MARKUP.text.split("\n\n")


def test_locate_uses_offsets_and_falls_back_to_finding_the_text():
    ref = SourceRef.from_citation(CITATIONS[0])
    assert locate(LONG, ref) == (CITATIONS[0].start, CITATIONS[0].end)
    moved = SourceRef(**{**ref.__dict__, "start": 3, "end": 3 + len(ref.text)})
    assert locate(LONG, moved) == (CITATIONS[0].start, CITATIONS[0].end)
    missing = SourceRef(**{**ref.__dict__, "text": "a sentence not in the article"})
    assert locate(LONG, missing) is None


@given(st.text(max_size=60))
def test_text_from_data_keeps_every_character_offset(text):
    assert len(safe(text)) == len(text)
    assert plain(text).plain == safe(text)
    assert line(text, (text, "bold")).plain == safe(text) * 2


def test_markers_are_styled_and_markup_stays_text():
    content = with_markers("It cost [bold]4.2m[/] [1] and more [12]. [x]")
    assert content.plain == "It cost [bold]4.2m[/] [1] and more [12]. [x]"
    assert [content.plain[s.start:s.end] for s in content.spans
            if s.style == MARKER_STYLE] == ["[1]", "[12]"]


def test_control_characters_cannot_reach_the_terminal():
    assert safe("a\x1b[31mred\x07\n\tb") == "a [31mred \n\tb"


def test_header_summary():
    info = FakeAssistant().info()
    assert summary(info) == ("3 articles · 42 passages · 3 outlets · 2024-03-05 – 2024-03-07 · "
                             "all-MiniLM-L6-v2")
    one = info.model_copy(update={"articles": 1, "sources": ["X"], "latest": info.earliest})
    assert summary(one).startswith("1 article · 42 passages · 1 outlet · 2024-03-05 · ")
    undated = info.model_copy(update={"earliest": None, "latest": None})
    assert "20" not in summary(undated).split("·")[3]


def test_answer_markdown_lists_numbered_sources_with_quotes_and_locations():
    answer = Answer(question="q", found=True, answer="It costs 4.2m. [1]", confidence=0.87,
                    citations=CITATIONS)
    text = turn_markdown(Turn("What does it cost?", answer=answer))
    assert text.splitlines()[:3] == ["## Q: What does it cost?", "", "It costs 4.2m. [1]"]
    for c in CITATIONS:
        assert f"> {c.quote}" in text
        assert f"<{c.path}> (characters {c.start}–{c.end})" in text
    assert "[3] (disagrees) **Regional roundup** — Wire Agency · 2024-03-07" in text


def test_refusal_and_search_markdown():
    refused = Answer(question="q", found=False, answer="The articles do not cover this.",
                     confidence=0.1, related=RELATED)
    text = turn_markdown(Turn("Weather?", answer=refused))
    assert "Not found in the articles (confidence 0.10)." in text
    assert "Closest passages:" in text and f"**{RELATED[0].title}**" in text
    search = turn_markdown(Turn("harbour", hits=RELATED))
    assert search.startswith("## Search: harbour") and "score 0.310" in search
    assert [r.n for r in refs_for_hits(RELATED)] == [1, 2]
    assert "No passages matched." in turn_markdown(Turn("nothing", hits=[]))


def test_export_writes_a_new_file_each_time(tmp_path):
    answer = Answer(question="q", found=True, answer="a [1]", confidence=0.9,
                    citations=CITATIONS[:1])
    turns = [Turn("q", answer=answer)]
    first = export(turns, tmp_path / "out", FakeAssistant().info())
    second = export(turns, tmp_path / "out")
    assert first != second and first.parent == second.parent == tmp_path / "out"
    text = first.read_text()
    assert text.startswith("# newsqa conversation") and "Index `/news/index`" in text
    when = dt.datetime(2024, 3, 8, 9, 30)
    assert "Exported 2024-03-08 09:30." in conversation_markdown([], None, when)
