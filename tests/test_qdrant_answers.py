"""On ``qdrant:PATH`` the bundled sample articles give the same answers as the folder store:
every question of the sample eval set (tests/data/sample_questions.jsonl) and of the answer
tests, with the same citations, and the same search hits. Real model, both stores built by
``qa index``'s own pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

QUESTIONS = [json.loads(line)["question"] for line in
             (Path(__file__).parent / "data" / "sample_questions.jsonl").read_text().splitlines()
             if line.strip()]
ANSWER_TESTS = [
    "Who won the 2018 football world cup?",
    "How many Russian soldiers were killed in Idlib?",
    "How many Turkish soldiers were killed in Idlib?",
    "Who is the NATO secretary general?",
]


@pytest.fixture(scope="module")
def qdrant_assistant(tmp_path_factory, qa_assistant):
    from corpus import sample_path
    from qa.assistant import Assistant
    from qa.indexing import index_paths

    url = f"qdrant:{tmp_path_factory.mktemp('qdrant-samples')}"
    index_paths([sample_path()], url, encoder=qa_assistant.encoder)
    with Assistant.open(store=url) as assistant:
        yield assistant


def cited(answer) -> list[tuple]:
    return [(c.article_id, c.start, c.end, c.role) for c in answer.citations]


@pytest.mark.parametrize("question", QUESTIONS + ANSWER_TESTS)
def test_same_answer_and_citations(qa_assistant, qdrant_assistant, question):
    folder, qdrant = qa_assistant.ask(question), qdrant_assistant.ask(question)
    assert qdrant.found == folder.found
    assert qdrant.answer == folder.answer
    assert cited(qdrant) == cited(folder)
    assert qdrant.confidence == pytest.approx(folder.confidence, abs=2e-3)


@pytest.mark.parametrize("query", ["Idlib ceasefire talks", "NATO meeting", "refugees Turkey"])
def test_same_search_hits(qa_assistant, qdrant_assistant, query):
    folder, qdrant = qa_assistant.search(query, 5), qdrant_assistant.search(query, 5)
    assert [h.passage_id for h in qdrant] == [h.passage_id for h in folder]
    assert [h.score for h in qdrant] == pytest.approx([h.score for h in folder], abs=2e-3)


def test_same_answers_with_filters(qa_assistant, qdrant_assistant):
    import datetime as dt

    for kwargs in ({"source": "tass"}, {"published_from": dt.date(2020, 2, 28)},
                   {"source": "nobody"}):
        folder = qa_assistant.ask("How many soldiers were killed?", **kwargs)
        qdrant = qdrant_assistant.ask("How many soldiers were killed?", **kwargs)
        assert (qdrant.found, qdrant.answer, cited(qdrant)) == (
            folder.found, folder.answer, cited(folder)), kwargs


def test_info_names_the_collection(qdrant_assistant, qa_assistant):
    info = qdrant_assistant.info()
    assert info.path.startswith("qdrant:") and info.index_type == "qdrant-local,Flat"
    folder = qa_assistant.info()
    assert (info.articles, info.passages, info.sources, info.earliest, info.latest) == (
        folder.articles, folder.passages, folder.sources, folder.earliest, folder.latest)
    raw = qdrant_assistant.store.info()
    assert raw["collection"] == "newsqa" and raw["shards"] == 1
    assert raw["points"] > info.articles + info.passages
