"""The index store: SQLite + faiss on disk. Vectors here are random unit vectors: these tests
are about storage, ids, consistency and recovery, not about what vectors mean."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time

import numpy as np
import pytest

from corpus import chunk_article, load_articles, sample_path
from corpus.models import Article
from embeddings import IndexStore, IndexStoreError
from embeddings import faiss_index as fx

DIM = 16


def unit(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def samples() -> list[tuple[Article, list]]:
    return [(a, chunk_article(a)) for a in load_articles(sample_path())]


@pytest.fixture
def store(tmp_path, samples):
    s = IndexStore.create(tmp_path / "idx", model="test-model", dim=DIM, weights_sha256="ab")
    for i, (article, passages) in enumerate(samples):
        s.upsert(article, passages, unit(len(passages), i))
    yield s
    s.close()


def consistent(path) -> tuple[int, int]:
    """Every passage has a vector and every vector a passage; returns the counts."""
    conn = sqlite3.connect(path / "store.sqlite")
    orphans = conn.execute("SELECT count(*) FROM passages p LEFT JOIN vectors v USING (vid) "
                           "WHERE v.vid IS NULL").fetchone()[0]
    strays = conn.execute("SELECT count(*) FROM vectors v LEFT JOIN passages p USING (vid) "
                          "WHERE p.vid IS NULL").fetchone()[0]
    counts = conn.execute("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM "
                          "passages)").fetchone()
    conn.close()
    assert (orphans, strays) == (0, 0)
    return counts


def test_roundtrip_search_and_records(store, samples):
    total = sum(len(p) for _, p in samples)
    m = store.manifest
    assert (m.articles, m.passages, m.dim, m.model, m.generation) == (5, total, DIM,
                                                                      "test-model", 5)
    assert m.index_type == fx.FLAT
    vids = np.array([p.vid for p in store.iter_passages()])
    assert len(vids) == total and (np.diff(vids) > 0).all()
    vectors = store.vectors(vids)
    scores, found = store.search(vectors[:3], 4)
    assert scores.shape == found.shape == (3, 4) and scores.dtype == np.float32
    assert list(found[:, 0]) == list(vids[:3])
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()
    got = store.passages([vids[2], -1, vids[0]])
    assert [p.vid for p in got] == [vids[2], vids[0]]
    article = store.article(got[0].article_id)
    assert article.text[got[0].start:got[0].end] == got[0].text
    assert got[0].title == article.title and got[0].sentences
    assert store.article("nope") is None
    assert sorted(a.id for a in store.articles()) == sorted(a.id for a, _ in samples)
    _, empty = store.search(vectors[:1], total + 5)
    assert (empty[0, total:] == -1).all() and set(empty[0, :total]) == set(vids)


def test_persisted_and_reopened(store, samples, tmp_path):
    vec = store.vectors([1])
    store.close()
    manifest = (tmp_path / "idx" / "manifest.json").read_text()
    assert '"generation": 5' in manifest and '"model": "test-model"' in manifest
    with IndexStore.open(tmp_path / "idx") as again:
        assert again.search(vec, 1)[1][0, 0] == 1
        assert not (tmp_path / "idx" / "faiss.index").exists()  # exact: SQLite is the one copy
        with pytest.raises(IndexStoreError, match="read-only"):
            again.remove(["x"])


def test_update_and_remove_replace_passages(store, samples):
    article, passages = samples[0]
    old = [p.vid for p in store.iter_passages() if p.article_id == article.id]
    changed = article.model_copy(update={"content_hash": "new"})
    new_vectors = unit(len(passages), 99)
    store.upsert(changed, passages, new_vectors)
    now = [p.vid for p in store.iter_passages() if p.article_id == article.id]
    assert len(now) == len(old) and not set(now) & set(old)
    _, found = store.search(store.vectors(old[:0] + now[:1]), 3)
    assert found[0, 0] == now[0] and not set(found[0]) & set(old)
    with store.batch() as b:  # twice in one transaction: only the second version stays
        b.upsert(changed, passages, unit(len(passages), 5))
        b.upsert(changed, passages, new_vectors)
    now = [p.vid for p in store.iter_passages() if p.article_id == article.id]
    assert store.faiss_ntotal == store.manifest.passages
    assert store.search(new_vectors[:1], 1)[1][0, 0] == now[0]
    assert store.remove([article.id, "unknown"]) == 1
    assert store.article(article.id) is None
    _, found = store.search(new_vectors[:1], 50)
    assert not set(found[0]) & set(now)
    assert consistent(store.path) == (4, sum(len(p) for _, p in samples[1:]))


def test_filters(store, samples):
    by_source = store.vids_matching(source="anadolu agency")
    expect = [p.vid for p in store.iter_passages()
              if (store.article(p.article_id).source or "").lower() == "anadolu agency"]
    assert sorted(by_source) == sorted(expect) and len(expect)
    scores, found = store.search(store.vectors([1]), 5, allowed=by_source)
    assert set(found[found >= 0]) <= set(by_source)
    day = dt.date(2020, 2, 28)
    assert len(store.vids_matching(published_from=day, published_to=day)) > 0
    assert len(store.vids_matching(published_from=day + dt.timedelta(days=1))) == 0
    assert (store.search(store.vectors([1]), 3, allowed=np.array([], np.int64))[1] == -1).all()
    info = store.info()
    assert info["articles"] == 5 and "Anadolu Agency" in info["sources"]
    assert info["earliest"] == day and info["size_bytes"] > 0


def test_reader_sees_writer_commits(store, samples, tmp_path):
    reader = IndexStore.open(store.path)
    article, passages = samples[1]
    store.remove([article.id])
    vec = unit(1, 7)
    extra = Article(id="extra", title="Extra", text="One more article about nothing at all.",
                    content_hash="h")
    store.upsert(extra, chunk_article(extra), vec)
    _, found = reader.search(vec, 1)
    assert reader.passages(found[0])[0].article_id == "extra"
    assert reader.manifest.articles == 5
    reader.close()


def test_one_writer_at_a_time(store):
    with pytest.raises(IndexStoreError, match="another process is writing.*--wait"):
        IndexStore.open(store.path, writable=True)
    reader = IndexStore.open(store.path)  # readers are not blocked
    assert reader.search(store.vectors([1]), 1)[1][0, 0] == 1
    reader.close()
    threading.Timer(0.5, store.close).start()  # --wait: the second writer gets its turn
    started = time.monotonic()
    with IndexStore.open(store.path, writable=True, wait=20) as second:
        assert second.writable and time.monotonic() - started >= 0.4


def test_missing_truncated_or_stale_faiss_file_heals(store, samples, caplog, monkeypatch):
    """An IVF index keeps ``faiss.index``; a stale, truncated or missing one heals from SQLite."""
    monkeypatch.setattr(fx, "choose_type", lambda n, current=None: current or fx.FLAT)
    path = store.path
    vec = store.vectors([2])
    store.rebuild_faiss("IVF4,SQ8")
    store.close()
    old = (path / "faiss.index").read_bytes()
    with IndexStore.open(path, writable=True) as s:  # three more commits after `old`
        article, passages = samples[0]
        s.upsert(article.model_copy(update={"content_hash": "x"}), passages, unit(len(passages), 5))
        s.remove([samples[1][0].id])
        new_vec = unit(1, 11)
        extra = Article(id="e", title="E", text="Extra text for the index test.", content_hash="e")
        s.upsert(extra, chunk_article(extra), new_vec)
        expected = s.search(vec, 10)
    (path / "faiss.index").write_bytes(old)  # stale: generation 5, the database is at 8
    with IndexStore.open(path) as s:
        assert [list(x[0]) for x in s.search(vec, 10)] == [list(x[0]) for x in expected]
        assert s.faiss_ntotal == s.manifest.passages
    (path / "faiss.index").write_bytes(old[: len(old) // 2])  # truncated
    with caplog.at_level(logging.WARNING), IndexStore.open(path) as s:
        assert (s.search(new_vec, 1)[1][0, 0]) == max(p.vid for p in s.iter_passages())
    assert "truncated" in caplog.text and "rebuilding" in caplog.text
    assert fx.read_header(path / "faiss.index")["generation"] == 8  # the reader saved it
    (path / "faiss.index").unlink()
    with IndexStore.open(path) as s:
        assert s.faiss_ntotal == consistent(path)[1] and s.index_type == "IVF4,SQ8"


def test_an_exact_index_keeps_no_faiss_file(store, caplog):
    """Below APPROX_FROM the vectors in SQLite are the one copy: the exact index is built from
    them on opening; a faiss.index an older version left (even a damaged one) is ignored by
    readers and removed by the next writer."""
    path = store.path
    vec = store.vectors([2])
    store.close()
    assert not (path / "faiss.index").exists()
    (path / "faiss.index").write_bytes(fx.MAGIC + b"\x00" * 40)
    with caplog.at_level(logging.WARNING), IndexStore.open(path) as s:
        assert s.search(vec, 1)[1][0, 0] == 2 and s.faiss_ntotal == s.manifest.passages
    assert "rebuilding" not in caplog.text and (path / "faiss.index").exists()
    with IndexStore.open(path, writable=True) as s:
        assert s.search(vec, 1)[1][0, 0] == 2
    assert not (path / "faiss.index").exists()


def test_not_an_index_and_model_mismatch(tmp_path, store):
    with pytest.raises(IndexStoreError, match="no index at"):
        IndexStore.open(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("hello")
    with pytest.raises(IndexStoreError, match="not an index"):
        IndexStore.open(tmp_path / "other")
    with pytest.raises(IndexStoreError, match="not empty and not an index"):
        IndexStore.create(tmp_path / "other", model="m", dim=DIM, weights_sha256="x")
    assert (tmp_path / "other" / "notes.txt").read_text() == "hello"
    with pytest.raises(IndexStoreError, match=r"test-model \(16-dim.*other-model \(384-dim"):
        store.check_model("other-model", 384)
    store.check_model("renamed/path", DIM, weights_sha256="ab")  # same weights: fine


def test_full_disk_is_one_clear_error_and_keeps_data(store, samples):
    before = consistent(store.path)
    pages = store._db.conn.execute("PRAGMA page_count").fetchone()[0]
    store._db.conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here on
    big = Article(id="big", title="Big", text="word " * 50_000, content_hash="b")
    passages = chunk_article(big)
    with pytest.raises(IndexStoreError, match="full.*free some space"):
        store.upsert(big, passages, unit(len(passages), 3))
    store.close()
    assert consistent(store.path) == before
    with IndexStore.open(store.path) as again:
        assert again.manifest.passages == before[1]


def test_approximate_index_reranks_exactly(tmp_path):
    assert fx.choose_type(1000) == fx.FLAT
    assert fx.choose_type(fx.APPROX_FROM).startswith("IVF")
    assert fx.choose_type(fx.APPROX_FROM - 1, "IVF512,SQ8") == "IVF512,SQ8"
    assert fx.choose_type(fx.APPROX_FROM // 2 - 1, "IVF512,SQ8") == fx.FLAT
    s = IndexStore.create(tmp_path / "ivf", model="m", dim=DIM, weights_sha256="x")
    vectors = unit(3000, 1)
    with s.batch() as b:
        for i in range(0, 3000, 10):
            a = Article(id=f"a{i}", title="t", text=". ".join(f"Sentence {j}" for j in range(10)),
                        content_hash=str(i))
            ps = chunk_article(a, max_tokens=16)[:1]
            b.upsert(a, ps, vectors[i:i + 1])
    s.rebuild_faiss("IVF16,SQ8")
    assert s.index_type == "IVF16,SQ8" and s.manifest.index_type == "IVF16,SQ8"
    vids = np.array([p.vid for p in s.iter_passages()])
    stored = s.vectors(vids)
    scores, found = s.search(stored[:20], 5)
    assert list(found[:, 0]) == list(vids[:20])  # exact re-ranking puts the vector itself first
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)
    _, only = s.search(stored[:1], 3, allowed=vids[100:110])
    assert set(only[0]) <= set(vids[100:110])
    s.close()  # too small for IVF: the store goes back to exact search
    with IndexStore.open(tmp_path / "ivf") as again:
        assert again.index_type == fx.FLAT and again.manifest.index_type == fx.FLAT
