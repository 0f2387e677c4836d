"""The Qdrant store beyond the shared contract (tests/test_store_contract.py): store URLs, the
commands with ``--store`` and ``$QA_STORE``, ``qa migrate``, a writer killed between a
passage's points and its article's, and a server that cannot be reached. Real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from corpus import sample_path
from embeddings import IndexStoreError
from embeddings.qdrant import Layout, open_store, parse

ROOT = Path(__file__).resolve().parents[1]


def qa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "qa", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=600, env={
                              **os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                              "QA_INDEX": "/nonexistent/use-a-flag", **(env or {})})
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_store_urls():
    local = parse("qdrant:~/qa-qdrant")
    assert local.local and local.path == Path("~/qa-qdrant").expanduser()
    assert local.collection == "newsqa" and str(local) == f"qdrant:{local.path}"
    assert parse("qdrant:/x#wire").collection == "wire"
    server = parse("https://q.example.org/archive?shards=6&replicas=2&on_disk=true"
                   "&quantization=int8")
    assert not server.local and server.endpoint == "https://q.example.org:6333"
    assert server.collection == "archive"
    assert server.layout == Layout(shards=6, replicas=2, on_disk=True, quantization="int8")
    for bad, said in [("qdrant:", "names no folder"), ("http://", "names no host"),
                      ("http://h:6333/a b", "collection name"), ("qdrant:/x?shards=0", "shards"),
                      ("qdrant:/x?quantization=pq", "int8 or none"),
                      ("qdrant:/x?colour=red", "unknown setting"), ("/a/folder", "not a store")]:
        with pytest.raises(IndexStoreError, match=said):
            parse(bad)


def test_api_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("QA_QDRANT_API_KEY", "s3cret")
    assert parse("http://localhost:6333").api_key == "s3cret"
    monkeypatch.delenv("QA_QDRANT_API_KEY")
    assert parse("http://localhost:6333").api_key is None


def test_an_unreachable_server_is_one_line():
    with pytest.raises(IndexStoreError, match="cannot reach http://127.0.0.1:9/newsqa"):
        open_store("http://127.0.0.1:9")


def test_a_missing_collection_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexStoreError, match="qa index ARTICLES --store"):
        open_store(f"qdrant:{tmp_path / 'empty'}")


@pytest.mark.slow
def test_commands_with_store_and_env(tmp_path):
    url = f"qdrant:{tmp_path / 'q'}"
    done = qa("index", sample_path(), "--store", url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 5
    again = qa("index", sample_path(), "--json", env={"QA_STORE": url})  # $QA_STORE
    assert json.loads(again.stdout)["unchanged"] == 5 and json.loads(again.stdout)["added"] == 0
    info = qa("info", "--store", url, "--json")
    raw = json.loads(info.stdout)
    assert raw["articles"] == 5 and raw["collection"] == "newsqa" and raw["shards"] == 1
    assert raw["store"] == url and raw["points"] > raw["passages"]
    text = qa("info", env={"QA_STORE": url}).stdout
    assert "collection" in text and "newsqa" in text and "shards" in text
    asked = qa("ask", "--store", url, "--json", "Who is the NATO secretary general?")
    assert "Stoltenberg" in json.loads(asked.stdout)["answer"]
    both = qa("ask", "--store", url, "--index", str(tmp_path), "hello")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    folder = qa("ask", "--store", str(tmp_path), "hello")
    assert folder.returncode == 2 and "is not a store URL" in folder.stderr
    missing = qa("ask", "--store", f"qdrant:{tmp_path / 'nothing'}", "hello")
    assert missing.returncode == 2 and "qa index ARTICLES --store" in missing.stderr


@pytest.mark.slow
def test_migrate_copies_without_embedding(tmp_path, qa_index, qa_assistant):
    url = f"qdrant:{tmp_path / 'm'}"
    done = qa("migrate", "--from", qa_index, "--to", url, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["articles"] == 5 and summary["files"] == 5
    assert summary["passages"] == qa_assistant.info().passages
    again = json.loads(qa("migrate", "--from", qa_index, "--to", url, "--json").stdout)
    assert again["articles"] == 0 and again["skipped"] == 5
    store = open_store(url)
    try:
        by_id = {p.id: p.vid for p in store.iter_passages()}
        folder = {p.id: p.vid for p in qa_assistant.store.iter_passages()}
        assert sorted(by_id) == sorted(folder)
        ids = sorted(by_id)
        a = store.vectors([by_id[i] for i in ids])
        b = qa_assistant.store.vectors([folder[i] for i in ids])
        assert abs(a - b).max() < 1e-6  # the very vectors, not re-embedded ones
        assert store.passages_without_sentence_vectors() == []
    finally:
        store.close()
    # `qa index` on the same folder then finds every file unchanged
    indexed = json.loads(qa("index", sample_path(), "--store", url, "--json").stdout)
    assert indexed["unchanged"] == 5 and indexed["passages"] == 0


CUT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from pathlib import Path

    from embeddings import load_encoder
    from embeddings.qdrant import schema, writer
    from tests.test_store_contract import add, article, reopen

    real = writer.QdrantBatch._upsert

    def upsert(self, points):  # killed after the passages of "wire", before its article
        if points and points[0].payload[schema.KIND] == schema.ARTICLE \\
                and points[0].payload["id"] == "id-wire":
            os.kill(os.getpid(), signal.SIGKILL)
        real(self, points)

    writer.QdrantBatch._upsert = upsert
    store = reopen("qdrant", Path({where!r}), writable=True)
    add(store, load_encoder(), article("economy"), article("wire"))
""")


@pytest.mark.slow
def test_killed_between_passages_and_article_is_repaired(tmp_path):
    """The next writer deletes the stray passages, keeps whole articles, recounts the term
    statistics, and takes over the dead writer's lock."""
    from embeddings import load_encoder
    from qa.engine.lexical import LexicalIndex
    from tests.test_store_contract import add, article, create, reopen

    encoder = load_encoder()
    with create("qdrant", tmp_path, encoder) as store:
        add(store, encoder, article("sport"))
    done = subprocess.run([sys.executable, "-c", CUT.format(root=str(ROOT),
                                                            where=str(tmp_path))],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr
    with reopen("qdrant", tmp_path) as reader:  # before repair: strays are visible
        assert reader.meta.read().get("pending") is not None
        assert any(p.article_id == "id-wire" for p in reader.iter_passages())
    with reopen("qdrant", tmp_path, writable=True) as store:
        assert store.meta.read().get("pending") is None
        assert store.article("id-wire") is None
        assert {p.article_id for p in store.iter_passages()} == {"id-sport", "id-economy"}
        lexical = LexicalIndex.for_store(store)
        assert lexical.n_docs == store.counts()[1]
        assert len(lexical.search("earthquake harbour", 5)[0]) == 0
        assert lexical.idf("earthquak") == lexical.idf("never-seen-term")
        add(store, encoder, article("wire"))
        assert store.counts()[0] == 3
