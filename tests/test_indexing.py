"""``qa.indexing.index_paths`` with the real model on the five sample articles."""

from __future__ import annotations

import os
import shutil
import sqlite3

import numpy as np
import pytest

from corpus import sample_path
from embeddings import IndexStore, load_encoder
from qa.errors import UsageError
from qa.indexing import index_paths
from qa.indexing.location import IndexNotFound, default_index_dir, open_index

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def encoder():
    return load_encoder()


@pytest.fixture(scope="module")
def built(tmp_path_factory, encoder):
    """The samples copied to a folder of their own and indexed once."""
    root = tmp_path_factory.mktemp("indexing")
    shutil.copytree(sample_path(), root / "articles")
    summary = index_paths([root / "articles"], root / "index", encoder=encoder)
    return root, summary


def test_first_run_embeds_everything_and_answers(built, encoder):
    root, summary = built
    assert (summary.added, summary.updated, summary.removed, summary.unchanged) == (5, 0, 0, 0)
    with IndexStore.open(root / "index") as store:
        m = store.manifest
        assert (m.articles, m.passages, m.dim) == (5, summary.passages, 384)
        assert m.model == "sentence-transformers/all-MiniLM-L6-v2"
        assert m.weights_sha256 == encoder.weights_sha256
        passages = list(store.iter_passages())
        assert max(encoder.count_tokens([p.text for p in passages])) <= encoder.max_tokens
        query = encoder.encode_query("How many Turkish soldiers were killed in Idlib?")
        scores, vids = store.search(query, 3)
        top = store.passages(vids[0])
        assert scores[0, 0] > 0.4
        assert any("soldier" in p.text.lower() or "troops" in p.text.lower() for p in top)


def test_second_run_embeds_nothing(built, tmp_path):
    root, _ = built
    shutil.copytree(root / "index", tmp_path / "index")
    fresh = load_encoder()  # a model that is never loaded proves nothing was embedded
    again = index_paths([root / "articles"], tmp_path / "index", encoder=fresh)
    assert (again.added, again.updated, again.unchanged, again.passages) == (0, 0, 5, 0)
    for f in (root / "articles").iterdir():  # new mtimes: files are re-read, hashes still match
        os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    again = index_paths([root / "articles"], tmp_path / "index", encoder=fresh)
    assert (again.added, again.updated, again.unchanged, again.passages) == (0, 0, 5, 0)
    assert not fresh.loaded


def test_qa_index_lets_go_of_the_encoder_before_bm25(built, tmp_path):
    """``release_encoder`` (as ``qa index`` runs): the model's runtime is let go once the
    passages are in, and the vectors stored are those of a loaded model; a later call loads it
    again and gives the same vectors."""
    root, _ = built
    encoder = load_encoder()
    summary = index_paths([root / "articles"], tmp_path / "index", encoder=encoder,
                          release_encoder=True)
    assert summary.added == 5 and not encoder.loaded
    with IndexStore.open(tmp_path / "index") as store, IndexStore.open(root / "index") as ref:
        mine = {p.id: p.vid for p in store.iter_passages()}
        theirs = {p.id: p.vid for p in ref.iter_passages()}
        assert mine.keys() == theirs.keys()
        ids = sorted(mine)
        a = store.vectors([mine[i] for i in ids])
        b = ref.vectors([theirs[i] for i in ids])
        assert np.min(np.sum(a * b, axis=1)) > 0.99
    assert encoder.encode(["Turkish soldiers in Idlib"]).shape == (1, 384) and encoder.loaded


def test_changed_file_is_reembedded_and_pruning(tmp_path, encoder):
    articles, index = tmp_path / "articles", tmp_path / "index"
    shutil.copytree(sample_path(), articles)
    first = index_paths([articles], index, encoder=encoder)
    assert first.added == 5
    files = sorted(articles.iterdir())
    with IndexStore.open(index) as before:
        old_vids = {p.vid for p in before.iter_passages()}
    text = files[0].read_text(encoding="utf-8")
    files[0].write_text(text + "\n\nThe zebra orchestra played a concert in Helsinki on "
                        "Tuesday evening.\n", encoding="utf-8")
    files[1].unlink()
    s = index_paths([articles], index, encoder=encoder)
    assert (s.added, s.updated, s.removed, s.unchanged) == (0, 1, 0, 3)
    assert s.passages > 0
    s = index_paths([articles], index, encoder=encoder, prune=True)
    assert (s.added, s.updated, s.removed, s.unchanged, s.passages) == (0, 0, 1, 4, 0)
    with IndexStore.open(index) as store:
        assert store.manifest.articles == 4
        vids = {p.vid for p in store.iter_passages()}
        assert store.faiss_ntotal == len(vids)
        _, hit = store.search(encoder.encode_query("zebra orchestra concert in Helsinki"), 1)
        top = store.passages(hit[0])[0]
        assert "zebra orchestra" in top.text and top.vid not in old_vids
    conn = sqlite3.connect(index / "store.sqlite")
    assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 4
    conn.close()


def test_open_index_builds_samples_on_first_use(tmp_path, monkeypatch, built):
    """Only the default location (no --index, no $QA_INDEX) is seeded with the samples."""
    monkeypatch.delenv("QA_INDEX", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_index_dir() == tmp_path / "data" / "newsqa" / "index"
    said = []
    store = open_index(announce=said.append)
    assert store.manifest.articles == 5 and store.writable is False
    store.close()
    assert "building one from the 5 bundled sample articles" in said[0]
    said.clear()
    open_index(announce=said.append).close()
    assert said == []


def test_a_named_location_without_an_index_is_an_error_not_samples(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    for where in (tmp_path / "typo", tmp_path / "empty"):
        with pytest.raises(IndexNotFound, match=f"no index at {where} \\(named by --index\\)"):
            open_index(where, announce=pytest.fail)
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "env-typo"))
    assert default_index_dir() == tmp_path / "env-typo"
    with pytest.raises(IndexNotFound, match="named by \\$QA_INDEX"):
        open_index(announce=pytest.fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]  # nothing was created
    assert not any((tmp_path / "empty").iterdir())
    assert issubclass(IndexNotFound, UsageError)  # the CLI exits 2


def test_sentences_and_bm25_are_ready_before_the_first_question(built, encoder):
    """Indexing stores the vectors of every sentence answers are picked from (taken from the
    passage's own forward pass) and saves the BM25 index, so a question never waits for them."""
    from qa.engine.lexical import FOLDER, FORMAT, LexicalIndex

    root, _ = built
    assert not (root / "index" / "sentences.sqlite").exists()
    with IndexStore.open(root / "index") as store:
        passages = list(store.iter_passages())
        stored = store.sentence_vectors([p.vid for p in passages])
        assert all(stored[p.vid].shape == (len(p.sentences), 384) for p in passages)
        assert store.passages_without_sentence_vectors() == []
        norms = np.linalg.norm(np.concatenate(list(stored.values())), axis=1)
        assert np.allclose(norms, 1.0, atol=1e-4)
        p = max(passages, key=lambda p: len(p.sentences))
        alone = encoder.encode([p.text[s.start - p.start:s.end - p.start] for s in p.sentences])
        assert (stored[p.vid] * alone).sum(axis=1).min() > 0.5  # same sentences, in context
        key = {"format": FORMAT, "generation": int(store.manifest.generation)}
        assert LexicalIndex._load(root / "index" / FOLDER, key) is not None


def test_passages_are_embedded_after_their_context_header(built, encoder):
    """Each passage is embedded with its article's headline, outlet and date in front; its
    late-chunked sentence vectors pool the sentence's own word pieces (offsets shifted past the
    header), while the stored text and the citations stay the article's."""
    from corpus import context_prefix
    from qa.indexing.file_reader import Work

    root, _ = built
    with IndexStore.open(root / "index") as store:
        passages = list(store.iter_passages())
        p = max(passages, key=lambda p: len(p.sentences))
        article = store.article(p.article_id)
        assert article is not None and article.text[p.start:p.end] == p.text
        prefix = context_prefix(p.title, p.source, p.published)
        assert prefix and p.title.rstrip(".") in prefix
        work = Work(article, [p])
        (text,), (spans,) = work.texts(), work.spans()
        assert text == prefix + p.text
        assert [text[a:b] for a, b in spans] == \
            [article.text[s.start:s.end] for s in p.sentences]
        assert min(a for a, _ in spans) >= len(prefix)
        vectors, late = encoder.encode_passages([text], [spans])
        assert float(vectors[0] @ store.vectors([p.vid])[0]) > 0.99
        stored = store.sentence_vectors([p.vid])[p.vid]  # 4-bit codes: cosine ~0.99
        same = (stored * late[0]).sum(axis=1)
        assert same.min() > 0.97
        # pooled over the header's word pieces instead, the vectors would differ
        _, unshifted = encoder.encode_passages([text], [[(a - len(prefix), b - len(prefix))
                                                         for a, b in spans]])
        assert ((stored * unshifted[0]).sum(axis=1) < same).all()


def test_missing_sentence_vectors_are_filled_by_the_next_run(built, tmp_path, encoder):
    """An index whose sentence vectors are partly missing (a format-1 index being filled in,
    killed midway) answers meanwhile (sentences embedded alone), and the next run fills them
    in without re-embedding the passages' vectors."""
    from qa.assistant import Assistant

    root, _ = built
    shutil.copytree(root / "index", tmp_path / "index")
    conn = sqlite3.connect(tmp_path / "index" / "store.sqlite")
    conn.execute("DELETE FROM sentence_vectors WHERE vid % 2 = 0")
    conn.commit()
    conn.close()
    with Assistant(IndexStore.open(tmp_path / "index"), encoder=encoder) as a:
        assert a.ask("How many Turkish soldiers were killed in Idlib?").found
    again = index_paths([root / "articles"], tmp_path / "index", encoder=encoder)
    assert (again.added, again.updated, again.passages) == (0, 0, 0)
    with IndexStore.open(tmp_path / "index") as store:
        assert store.passages_without_sentence_vectors() == []


def test_format_1_index_opens_and_is_migrated_in_place(built, tmp_path, encoder):
    """An index written by the previous version (float32 vectors, no sentence vectors, passage
    texts stored, schema version 1) answers read-only as it is, and is migrated in place (one
    transaction) when opened for writing; that run adds the sentence vectors."""
    from embeddings import database as edb
    from embeddings.models import FORMAT_VERSION
    from qa.assistant import Assistant

    root, _ = built
    shutil.copytree(root / "index", tmp_path / "index")
    conn = sqlite3.connect(tmp_path / "index" / "store.sqlite")
    rows = conn.execute("SELECT vid, vector FROM vectors").fetchall()
    conn.executemany("UPDATE vectors SET vector = ? WHERE vid = ?",
                     [(edb.from_blobs([b], 384)[0].astype("<f4").tobytes(), v) for v, b in rows])
    conn.execute("UPDATE passages SET text = (SELECT substr(a.text, passages.start + 1, "
                 "passages.\"end\" - passages.start) FROM articles a "
                 "WHERE a.id = passages.article_id)")
    conn.execute("DROP TABLE sentence_vectors")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'format_version'")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    (tmp_path / "index" / "sentences.sqlite").write_bytes(b"")
    with Assistant(IndexStore.open(tmp_path / "index"), encoder=encoder) as a:
        assert a.ask("How many Turkish soldiers were killed in Idlib?").found
    again = index_paths([root / "articles"], tmp_path / "index", encoder=encoder)
    assert again.passages == 0
    assert not (tmp_path / "index" / "sentences.sqlite").exists()
    with IndexStore.open(tmp_path / "index") as store:
        assert store.manifest.format_version == FORMAT_VERSION
        assert store.passages_without_sentence_vectors() == []
        conn = sqlite3.connect(tmp_path / "index" / "store.sqlite")
        assert {len(b) for (b,) in conn.execute("SELECT vector FROM vectors")} == {384 + 4}
        assert {t for (t,) in conn.execute("SELECT text FROM passages")} == {""}
        conn.close()


@pytest.mark.parametrize("chunk", [256, 1])  # in one encoding chunk, or in later ones
def test_a_passage_repeated_across_articles_is_encoded_once(tmp_path, encoder, monkeypatch,
                                                            chunk):
    """Wire copies: the same text under another outlet's name is stored twice, encoded once."""
    import qa.indexing.run

    monkeypatch.setattr(qa.indexing.run, "ENCODE_CHUNK", chunk)
    src = next(iter(sorted(sample_path().iterdir())))
    (tmp_path / "articles").mkdir()
    text = src.read_text(encoding="utf-8")
    (tmp_path / "articles" / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "articles" / "b.txt").write_text("Copied: " + text.split("\n", 1)[0] + "\n"
                                                 + text.split("\n", 1)[1], encoding="utf-8")
    encoded: list[str] = []
    runtime = encoder._load()
    real = runtime.embed_tokens

    def counting(texts):
        encoded.extend(texts)
        return real(texts)

    runtime.embed_tokens = counting
    try:
        summary = index_paths([tmp_path / "articles"], tmp_path / "index", encoder=encoder)
    finally:
        del runtime.embed_tokens
    assert summary.added == 2
    assert len(set(encoded)) == len(encoded) < summary.passages
    with IndexStore.open(tmp_path / "index") as store:
        by_text: dict[str, list[int]] = {}
        for p in store.iter_passages():
            by_text.setdefault(p.text, []).append(p.vid)
        twins = [v for v in by_text.values() if len(v) == 2]
        assert twins
        a, b = store.vectors(twins[0])
        assert float(a @ b) > 0.999
        assert store.passages_without_sentence_vectors() == []
