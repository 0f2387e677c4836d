"""Hybrid retrieval on the sample index with the real model: BM25 finds the rare words,
duplicates collapse, filters hold, the BM25 index is saved beside the index and reused."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from qa.engine.lexical import FOLDER, FORMAT, LexicalIndex
from qa.engine.question import Question
from qa.engine.retrieval import Retriever
from qa.engine.terms import terms

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("query, needle", [
    ("Turkish observation posts", "observation posts"),
    ("Zakharova", "Zakharova"),
    ("resolution 2254", "2254"),
    ("M5 highway", "M5"),
])
def test_the_top_hit_holds_the_words_asked_for(qa_assistant, query, needle):
    hits = qa_assistant.search(query, k=5)
    assert hits and needle in hits[0].text


def test_paraphrase_is_found_by_the_dense_side(qa_assistant):
    # none of "people", "forced", "homes" is asked for: only the meaning matches
    hits = qa_assistant.search("How many residents had to flee?", k=5)
    assert any("fled" in h.text or "displaced" in h.text or "leave their homes" in h.text
               for h in hits[:3])


def test_hits_carry_their_passage_and_article(qa_assistant):
    for h in qa_assistant.search("NATO solidarity with Turkey", k=5):
        article = qa_assistant.article(h.article_id)
        assert article.text[h.start:h.end] == h.text
        assert h.title == article.title and h.source == article.source


def test_no_two_hits_repeat_the_same_text(qa_assistant):
    hits = qa_assistant.search("Turkish soldiers killed in Idlib air strike", k=10)
    assert len({h.passage_id for h in hits}) == len(hits)
    for i, a in enumerate(hits):
        for b in hits[i + 1:]:
            if a.article_id == b.article_id:
                overlap = min(a.end, b.end) - max(a.start, b.start)
                assert overlap < 0.5 * min(a.end - a.start, b.end - b.start)
            assert a.text != b.text


def test_scores_are_the_exact_fused_and_reranked_scores(qa_assistant):
    from qa.engine.retrieval import RERANK_WEIGHTS

    r = qa_assistant.retriever
    query = "observation posts in Idlib"
    qvec = qa_assistant.encoder.encode_query(query)
    cands = r.retrieve(query, qvec, 5)
    vecs = qa_assistant.store.vectors([c.vid for c in cands])
    for c, v in zip(cands, vecs):
        assert c.dense == pytest.approx(float(v @ qvec), abs=1e-5)
        p = c.passage
        stored = qa_assistant.store.sentence_vectors([p.vid])[p.vid]  # late-chunked, indexed
        assert stored.shape == (len(p.sentences), len(qvec))
        assert c.sentence == pytest.approx(max(float(x @ qvec) for x in stored), abs=1e-5)
        parts = (c.dense, c.lexical, c.sentence, c.coverage)
        expected = sum(w * x for w, x in zip(RERANK_WEIGHTS, parts)) / sum(RERANK_WEIGHTS)
        assert c.score == pytest.approx(expected, abs=1e-6)
    assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    assert cands[0].coverage == 1.0  # one sentence holds all of "observation posts Idlib"


def test_a_sentence_holding_the_kind_asked_for_adds_its_bonus(qa_assistant):
    from qa.engine.retrieval import ANSWER_COVERAGE, ANSWER_WEIGHT
    from qa.engine.short_answer import best_span_score

    r = qa_assistant.retriever
    query = "How many Turkish soldiers were killed in Idlib?"
    qvec = qa_assistant.encoder.encode_query(query)
    q_terms = Question.parse(query).terms
    span_score = best_span_score(Question.parse(query))
    k = r.rerank  # every passage re-ranked: the best coverage is among them
    plain = {c.vid: c for c in r.retrieve(query, qvec, k, terms_for_rerank=q_terms)}
    cands = r.retrieve(query, qvec, k, terms_for_rerank=q_terms, span_score=span_score)
    idf = {t: qa_assistant.lexical.idf(t) for t in set(q_terms)}
    got, best = [], 0.0
    for c in cands:
        p = c.passage
        sentences = [p.text[s.start - p.start:s.end - p.start] for s in p.sentences]
        covered = [sum(w for t, w in idf.items() if t in set(terms(s))) / sum(idf.values())
                   for s in sentences]
        best = max(best, *covered)
        got.append((c, [ANSWER_WEIGHT * cov * span_score(s) for cov, s in zip(covered, sentences)],
                    covered))
    for c, bonuses, covered in got:
        read = [b for b, cov in zip(bonuses, covered) if cov >= ANSWER_COVERAGE * best]
        assert c.answer == pytest.approx(max(read, default=0.0), abs=1e-6)
        if c.vid in plain:
            assert c.score == pytest.approx(plain[c.vid].score + c.answer, abs=1e-6)
    assert any(c.answer < max(b) for c, b, _ in got)  # a sentence of low coverage is not read
    assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    assert any(c.answer > 0 for c in cands if "33 Turkish soldiers were killed" in c.passage.text)
    assert all(c.answer == 0 for c in plain.values())


def test_bm25_alone_and_dense_alone(qa_assistant):
    store, lexical = qa_assistant.store, qa_assistant.lexical
    qvec = qa_assistant.encoder.encode_query("Zakharova")
    bm25 = Retriever(store, lexical, dense_weight=0.0).retrieve("Zakharova", qvec, 3)
    assert "Zakharova" in bm25[0].passage.text
    dense = Retriever(store, lexical, dense_weight=1.0).retrieve("Zakharova", qvec, 3)
    assert all(c.score == pytest.approx(c.dense) for c in dense)


def test_source_filter(qa_assistant):
    hits = qa_assistant.search("calls for de-escalation", k=5, source="TASS")
    assert hits and all(h.source == "TASS" for h in hits)
    assert qa_assistant.search("calls for de-escalation", k=5, source="No Such Outlet") == []


def test_date_filter(qa_assistant):
    day = dt.date(2020, 2, 28)
    hits = qa_assistant.search("Idlib", k=5, published_from=day, published_to=day)
    assert hits and all(h.published == day for h in hits)
    assert qa_assistant.search("Idlib", k=5, published_to=dt.date(1999, 1, 1)) == []


def test_bm25_index_is_saved_and_reused(qa_assistant, monkeypatch):
    store = qa_assistant.store
    folder = store.path / FOLDER
    assert (folder / "key.json").exists()

    def no_build(*a, **k):
        raise AssertionError("rebuilt although the saved index matches the generation")

    monkeypatch.setattr(LexicalIndex, "build", no_build)
    loaded = LexicalIndex.for_store(store)
    assert np.array_equal(loaded.vids, qa_assistant.lexical.vids)
    q = "observation posts"
    assert np.allclose(loaded.search(q, 5)[1], qa_assistant.lexical.search(q, 5)[1])


@pytest.mark.parametrize("saved_by", ["this index", "another index"])
def test_a_stale_bm25_index_is_brought_up_to_date_or_rebuilt(qa_index, tmp_path, monkeypatch,
                                                             saved_by):
    """Saved at an earlier generation of the same index: updated (only new passages are read);
    saved by another index (one made again, or before indexes said when they were made):
    built anew. Either way it is saved for the current generation."""
    import json
    import shutil

    from embeddings.store import IndexStore

    copy = tmp_path / "index"
    shutil.copytree(qa_index, copy)
    key = copy / FOLDER / "key.json"
    saved = json.loads(key.read_text())
    saved["generation"] -= 1
    if saved_by == "another index":
        saved["created"] = "2001-01-01T00:00:00+00:00"
    key.write_text(json.dumps(saved))
    built = []
    real = LexicalIndex.build.__func__

    def counting(cls, items, **kw):
        built.append(1)
        return real(cls, items, **kw)

    monkeypatch.setattr(LexicalIndex, "build", classmethod(counting))
    with IndexStore.open(copy) as store:
        index = LexicalIndex.for_store(store)
        assert bool(built) == (saved_by == "another index")
        assert index.n_docs == store.manifest.passages
        assert json.loads(key.read_text())["generation"] == store.manifest.generation


@pytest.mark.parametrize(("name", "damage"), [
    ("key.json", b"[]"),
    ("key.json", b"{not json"),
    ("df.json", b"[1, 2]"),
    ("vids.npy", b"\x93NUMPY garbage"),
    ("params.index.json", b"[]"),
    ("vocab.index.json", b"\x00\x01"),
    ("data.csc.index.npy", b""),
])
def test_a_damaged_bm25_file_is_rebuilt(qa_index, tmp_path, name, damage, caplog):
    import shutil

    from embeddings.store import IndexStore

    copy = tmp_path / "index"
    shutil.copytree(qa_index, copy)
    with IndexStore.open(copy) as store:
        want_vids, want_scores = LexicalIndex.for_store(store).search("observation posts", 3)
    assert len(want_vids) >= 2 and all(want_scores > 0)
    (copy / FOLDER / name).write_bytes(damage)
    with IndexStore.open(copy) as store:
        index = LexicalIndex.for_store(store)
        assert index.n_docs == store.manifest.passages
        vids, scores = index.search("observation posts", 3)
        assert vids.tolist() == want_vids.tolist()  # rebuilt, it finds what the intact one did
        assert np.allclose(scores, want_scores)
    with IndexStore.open(copy) as store:  # saved again, whole
        assert LexicalIndex._load(copy / FOLDER, {"format": FORMAT,
                                                  "generation": store.manifest.generation})


def test_recency_bonus_by_age():
    from qa.engine.retrieval import RECENCY_DAYS, RECENCY_WEIGHT, recency

    day = dt.date(2023, 3, 10)
    assert recency(day, day) == RECENCY_WEIGHT
    assert recency(day + dt.timedelta(days=1), day) == RECENCY_WEIGHT  # dated the day after
    assert recency(day + dt.timedelta(days=2), day) == 0.0              # after the question
    week = day - dt.timedelta(days=int(RECENCY_DAYS))
    assert recency(week, day) == pytest.approx(RECENCY_WEIGHT / np.e)
    assert recency(day - dt.timedelta(days=60), day) < 0.001
    assert recency(None, day) == 0.0


def test_a_question_about_recent_days_prefers_their_reports(qa_assistant):
    from qa.engine.retrieval import RECENCY_WEIGHT, recency

    r = qa_assistant.retriever
    query = "Idlib Turkish soldiers"
    qvec = qa_assistant.encoder.encode_query(query)
    plain = r.retrieve(query, qvec, 8)
    day = dt.date(2020, 2, 28)  # the AFP article's date; the others are undated
    recent = r.retrieve(query, qvec, 8, recent_to=day + dt.timedelta(days=2))
    base = {c.vid: c.score for c in plain}
    for c in recent:
        assert c.recency == recency(c.passage.published, day + dt.timedelta(days=2))
        assert (c.recency > 0) == (c.passage.published == day)
        if c.vid in base:
            assert c.score == pytest.approx(base[c.vid] + c.recency, abs=1e-6)
    assert [c.score for c in recent] == sorted((c.score for c in recent), reverse=True)
    rank = {c.vid: i for i, c in enumerate(plain)}
    moved = [c for c in recent if c.passage.published == day and c.vid in rank]
    assert moved and all(i <= rank[c.vid] for i, c in enumerate(recent) if c in moved)
    assert any(i < rank[c.vid] for i, c in enumerate(recent) if c in moved)
    # a date the article was not yet published by: no bonus
    before = r.retrieve(query, qvec, 8, recent_to=day - dt.timedelta(days=3))
    assert all(c.recency == 0 for c in before)
    assert [c.vid for c in before] == [c.vid for c in plain]
    assert RECENCY_WEIGHT > 0


def test_ask_reads_recent_days_against_today(qa_assistant):
    question = "How many Turkish soldiers were killed in Idlib this week?"
    plan = qa_assistant.plan(question, today=dt.date(2020, 2, 29))
    assert plan.recent_to == dt.date(2020, 2, 29)
    answer = qa_assistant.ask(question, today=dt.date(2020, 2, 29))
    assert answer.found and "33" in answer.answer
    assert qa_assistant.plan("How many soldiers were killed in Idlib?").recent_to is None
