"""Schema migrations: an index built before them opens and is brought up to date; a failed step
changes nothing; a read-only open of an index needing an unreadable step says what to run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from corpus import chunk_article
from corpus.models import Article
from embeddings import IndexStore, IndexStoreError, migrations
from embeddings import database as db
from embeddings.migrations import Migration

DIM = 4

# The schema as the code before migrations created it (`executescript(SCHEMA)` on every open).
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, source TEXT, site TEXT,
    published TEXT, url TEXT, path TEXT, content_hash TEXT NOT NULL,
    generation INTEGER NOT NULL, indexed_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS articles_path ON articles(path);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE TABLE IF NOT EXISTS passages (
    vid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
    sentences TEXT NOT NULL, generation INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS passages_article ON passages(article_id);
CREATE INDEX IF NOT EXISTS passages_generation ON passages(generation);
CREATE TABLE IF NOT EXISTS vectors (
    vid INTEGER PRIMARY KEY REFERENCES passages(vid) ON DELETE CASCADE, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS removed (vid INTEGER PRIMARY KEY, generation INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS removed_generation ON removed(generation);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, recipe TEXT);
"""
TEXT = "The first sentence. The second one."
VECTORS = np.eye(2, DIM, dtype=np.float32)


@pytest.fixture
def old_index(tmp_path) -> Path:
    """An index folder as the code before migrations left it (no faiss.index: derived)."""
    path = tmp_path / "old"
    path.mkdir()
    conn = sqlite3.connect(path / "store.sqlite")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(OLD_SCHEMA)
    when = "2026-01-01T00:00:00+00:00"
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [
        ("format_version", "1"), ("model", "old-model"), ("dim", str(DIM)),
        ("weights_sha256", "cd"), ("index_type", "IDMap2,Flat"), ("generation", "1"),
        ("created", when), ("updated", when)])
    conn.execute("INSERT INTO articles VALUES ('a1', 'Title', ?, 'Wire', NULL, '2026-01-01', "
                 "NULL, '/news/a.json', 'h', 1, ?)", (TEXT, when))
    for i, (start, end) in enumerate([(0, 19), (20, 35)]):
        conn.execute('INSERT INTO passages(id, article_id, idx, start, "end", text, sentences, '
                     "generation) VALUES (?, 'a1', ?, ?, ?, ?, ?, 1)",
                     (f"a1:{i}", i, start, end, TEXT[start:end], json.dumps([[start, end]])))
        conn.execute("INSERT INTO vectors VALUES (?, ?)", (i + 1, VECTORS[i].tobytes()))
    conn.commit()
    conn.close()
    (path / "manifest.json").write_text("{}")  # the old code never read it back
    return path


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path / "store.sqlite")
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def answers(store: IndexStore) -> None:
    scores, vids = store.search(VECTORS[1:], 1)
    assert vids[0, 0] == 2 and scores[0, 0] == pytest.approx(1.0)
    assert [p.text for p in store.passages([1, 2])] == ["The first sentence.", "The second one."]
    assert store.article("a1").path == "/news/a.json"
    assert store.manifest.model == "old-model" and store.manifest.passages >= 2


def test_an_old_index_reads_without_migrating_and_migrates_for_writing(old_index):
    with IndexStore.open(old_index) as store:
        answers(store)
    assert user_version(old_index) == 0  # a read-only open changes nothing
    with IndexStore.open(old_index, writable=True) as store:
        answers(store)
        extra = Article(id="a2", title="T2", text="Another text.", content_hash="h2")
        store.upsert(extra, chunk_article(extra), np.eye(1, DIM, 2, dtype=np.float32))
    assert user_version(old_index) == migrations.SCHEMA_VERSION >= 1
    with IndexStore.open(old_index) as store:
        answers(store)
        assert (store.manifest.articles, store.manifest.passages) == (2, 3)


def test_a_new_index_is_created_at_the_current_version(tmp_path):
    IndexStore.create(tmp_path / "new", model="m", dim=DIM, weights_sha256="x").close()
    assert user_version(tmp_path / "new") == migrations.SCHEMA_VERSION


def test_a_newer_schema_is_refused(old_index):
    conn = sqlite3.connect(old_index / "store.sqlite")
    conn.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 1}")
    conn.close()
    for writable in (False, True):
        with pytest.raises(IndexStoreError, match="newer version.*upgrade"):
            IndexStore.open(old_index, writable=writable)


def test_an_unreadable_step_asks_for_qa_index_and_applies_on_write(old_index, monkeypatch):
    step = Migration(len(migrations.MIGRATIONS) + 1, "a column reads need",
                     "ALTER TABLE articles ADD COLUMN lang TEXT;", readable=False)
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, step))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", step.version)
    with pytest.raises(IndexStoreError, match=r"older version.*run `qa index --index") as caught:
        IndexStore.open(old_index)
    assert "\n" not in str(caught.value)
    with IndexStore.open(old_index, writable=True) as store:
        answers(store)
    assert user_version(old_index) == step.version
    with IndexStore.open(old_index) as store:  # now readable
        answers(store)


def test_a_failing_step_rolls_back_every_step(old_index, monkeypatch):
    n = len(migrations.MIGRATIONS)
    good = Migration(n + 1, "a table", "CREATE TABLE extra (x INTEGER);")
    bad = Migration(n + 2, "broken", "ALTER TABLE nowhere ADD COLUMN y TEXT;")
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, good, bad))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", bad.version)
    with pytest.raises(IndexStoreError, match="cannot upgrade.*no such table: nowhere.*left as"):
        IndexStore.open(old_index, writable=True)
    assert user_version(old_index) == 0
    conn = sqlite3.connect(old_index / "store.sqlite")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert "extra" not in tables and "articles" in tables
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:n])
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", n)
    with IndexStore.open(old_index, writable=True) as store:  # the lock was released
        answers(store)


def test_format_1_is_migrated_to_format_2_in_place(old_index):
    """Step 2: the float32 vectors become int8 with a scale, passage texts that repeat their
    article's span are read from the article, the obsolete sentences.sqlite goes; the passages
    then lack sentence vectors until the next `qa index` adds them."""
    (old_index / "sentences.sqlite").write_bytes(b"old cache")
    with IndexStore.open(old_index) as store:  # read-only: format 1 as it is
        assert store.passages_without_sentence_vectors() == [1, 2]
        assert store.sentence_vectors([1, 2]) == {}
    with IndexStore.open(old_index, writable=True) as store:
        answers(store)
        assert store.manifest.format_version == 2
        assert store.passages_without_sentence_vectors() == [1, 2]
        with store.batch() as b:
            b.set_sentence_vectors([1], store.passages([1]), [VECTORS[:1]])
        assert np.allclose(store.sentence_vectors([1, 2])[1], VECTORS[:1])
        assert store.passages_without_sentence_vectors() == [2]
    assert not (old_index / "sentences.sqlite").exists()
    conn = sqlite3.connect(old_index / "store.sqlite")
    assert {len(b) for (b,) in conn.execute("SELECT vector FROM vectors")} == {DIM + 4}
    assert {t for (t,) in conn.execute("SELECT text FROM passages")} == {""}
    conn.close()


def test_a_migration_killed_midway_leaves_format_1(old_index, monkeypatch):
    """The vectors are converted inside the migration's one transaction: a failure after
    the conversion (standing in for a kill) leaves every float32 vector as it was."""
    n = len(migrations.MIGRATIONS)
    bad = Migration(n + 1, "broken", "ALTER TABLE nowhere ADD COLUMN y TEXT;")
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, bad))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", bad.version)
    with pytest.raises(IndexStoreError, match="cannot upgrade"):
        IndexStore.open(old_index, writable=True)
    conn = sqlite3.connect(old_index / "store.sqlite")
    assert {len(b) for (b,) in conn.execute("SELECT vector FROM vectors")} == {4 * DIM}
    assert conn.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone() == ("1",)
    conn.close()
    with IndexStore.open(old_index) as store:
        answers(store)


def test_schema_2_gets_copy_groups_each_article_its_own(old_index, monkeypatch):
    """Step 3 adds ``articles.copy_group`` (and its index) without touching vectors: every
    article is its own group, and ``ungrouped`` lists them all for the next `qa index`. A
    read-only open of schema 2 still reads (no column: every article its own group)."""
    with monkeypatch.context() as m:  # bring the old index to schema 2, as the last version did
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
        m.setattr(migrations, "SCHEMA_VERSION", 2)
        IndexStore.open(old_index, writable=True).close()
    assert user_version(old_index) == 2
    conn = sqlite3.connect(old_index / "store.sqlite")
    vectors = conn.execute("SELECT vid, vector FROM vectors ORDER BY vid").fetchall()
    conn.close()
    with IndexStore.open(old_index) as store:  # read-only: schema 2 as it is
        answers(store)
        assert store.copy_groups(["a1", "nope"]) == {"a1": "a1"}
        assert store.group_members(["a1"]) == {"a1": ["a1"]}
        assert store.info()["copy_groups"] == 1 and store.ungrouped() == {}
    assert user_version(old_index) == 2
    with IndexStore.open(old_index, writable=True) as store:
        answers(store)
        assert store.ungrouped() == {"a1": [1, 2]}
        extra = Article(id="a2", title="T2", text="Another text.", content_hash="h2")
        store.upsert(extra, chunk_article(extra), np.eye(1, DIM, 2, dtype=np.float32))
        with store.batch() as b:
            b.set_copy_group("a1", "a1")
            b.set_copy_group("a2", "a1")
        assert store.copy_groups(["a1", "a2"]) == {"a1": "a1", "a2": "a1"}
        assert store.info()["copy_groups"] == 1 and store.ungrouped() == {}
    assert user_version(old_index) == migrations.SCHEMA_VERSION >= 3
    conn = sqlite3.connect(old_index / "store.sqlite")
    assert conn.execute("SELECT vid, vector FROM vectors WHERE vid <= 2 ORDER BY vid"
                        ).fetchall() == vectors  # not re-embedded, not rewritten
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles_copy_group'"
                        ).fetchone() == (1,)
    conn.close()


def test_schema_3_sentence_vectors_become_4_bit(old_index, monkeypatch):
    """Step 4 re-encodes the int8 sentence vectors as 4-bit codes (half the bytes), without
    re-embedding; a read-only open of schema 3 reads the int8 ones as they are."""
    unit = VECTORS[:2] / np.linalg.norm(VECTORS[:2], axis=1, keepdims=True)
    with monkeypatch.context() as m:  # schema 3, as the last version wrote it: int8
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
        m.setattr(migrations, "SCHEMA_VERSION", 3)
        m.setattr(db, "sentence_blob", db.quantize)
        with IndexStore.open(old_index, writable=True) as store:
            with store.batch() as b:
                b.set_sentence_vectors([1], store.passages([1]), [unit[:1]])
    assert user_version(old_index) == 3
    conn = sqlite3.connect(old_index / "store.sqlite")
    assert [len(b) for (b,) in conn.execute("SELECT vectors FROM sentence_vectors")] == [DIM + 4]
    conn.close()
    with IndexStore.open(old_index) as store:  # read-only: int8 read as such
        assert np.allclose(store.sentence_vectors([1])[1], unit[:1], atol=0.02)
    with IndexStore.open(old_index, writable=True) as store:
        got = store.sentence_vectors([1])[1]
        assert float(got[0] @ unit[0]) > 0.98
    assert user_version(old_index) == migrations.SCHEMA_VERSION >= 4
    conn = sqlite3.connect(old_index / "store.sqlite")
    assert [len(b) for (b,) in conn.execute("SELECT vectors FROM sentence_vectors")] == [
        (DIM + 1) // 2 + 4]
    conn.close()
