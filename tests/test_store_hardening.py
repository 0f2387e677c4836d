"""Damaged index files (#14): every derived file is rebuilt, a damaged database is one clear
error with a way out, and what a rebuild needs can still be read from it."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import struct
from pathlib import Path

import numpy as np
import pytest

from corpus import chunk_article, load_articles, sample_path
from embeddings import IndexLayout, IndexStore, IndexStoreError, recover, recover_paths, set_aside
from embeddings import faiss_index as fx

DIM = 16
COPIES = 30  # of the five samples, under as many file paths: a store.sqlite of ~2 MB
RECIPE = {"fields": {"text": "body"}, "max_tokens": 200, "model": "test-model"}


def unit(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """An index of COPIES files of the samples, each recorded in `files` with its recipe."""
    path = tmp_path_factory.mktemp("hardening") / "idx"
    articles = list(load_articles(sample_path()))
    with IndexStore.create(path, model="test-model", dim=DIM, weights_sha256="ab") as store:
        for r in range(COPIES):
            with store.batch() as b:
                for i, a in enumerate(articles):
                    copy = a.model_copy(update={"id": f"{a.id}-{r}", "path": f"/news/f{r}.json"})
                    passages = chunk_article(copy)
                    b.upsert(copy, passages, unit(len(passages), r * 10 + i))
                b.touch_file(f"/news/f{r}.json", 100 + r, 10**18 + r, json.dumps(RECIPE))
    return path


@pytest.fixture
def index(built, tmp_path) -> Path:
    dest = tmp_path / "idx"
    shutil.copytree(built, dest, ignore=shutil.ignore_patterns(".write.lock"))
    return dest


def every_read(store: IndexStore) -> None:
    """Touch every page a question could: all passages, vectors, articles and a search."""
    vids = [p.vid for p in store.iter_passages()]
    store.passages(vids)
    store.vectors(vids)
    list(store.articles())
    store.search(unit(1, 0), 5)
    store.info()


# -- faiss.index: malformed headers are rebuilt like truncated files ------------------------------
# Only a trained (IVF) index keeps faiss.index (an exact one is built from SQLite on opening):
# these tests make the copied index IVF, and keep it so while they run.
@pytest.fixture
def ivf(index, monkeypatch) -> Path:
    monkeypatch.setattr(fx, "choose_type", lambda n, current=None: current or fx.FLAT)
    with IndexStore.open(index, writable=True) as store:
        store.rebuild_faiss("IVF4,SQ8")
    assert fx.read_header(IndexLayout(index).faiss)["index_type"] == "IVF4,SQ8"
    return index


@pytest.mark.parametrize("header", [
    b"[]", b'"text"', b"null", b"{}",
    json.dumps({"generation": "5", "index_type": fx.FLAT, "ntotal": 1, "payload_bytes": 1,
                "crc32": 1}).encode(),
    json.dumps({"generation": True, "index_type": fx.FLAT, "ntotal": 1, "payload_bytes": 1,
                "crc32": 1}).encode(),
    json.dumps({"generation": 1, "index_type": 7, "ntotal": 1, "payload_bytes": 1,
                "crc32": 1}).encode(),
])
def test_a_malformed_faiss_header_is_rebuilt(ivf, header, caplog):
    index = ivf
    faiss_file = IndexLayout(index).faiss
    faiss_file.write_bytes(fx.MAGIC + struct.pack("<I", len(header)) + header)
    with pytest.raises(fx.IndexFileError, match="malformed|unreadable"):
        fx.read_header(faiss_file)
    with caplog.at_level(logging.WARNING), IndexStore.open(index) as store:
        scores, vids = store.search(store.vectors([1]), 1)
        passages = store.manifest.passages
        assert vids[0, 0] == 1 and store.faiss_ntotal == passages
        store.info()
    assert "rebuilding" in caplog.text
    assert fx.load(faiss_file).index.ntotal == passages  # the reader saved it


def test_a_faiss_file_whose_count_disagrees_is_rebuilt(ivf):
    index = ivf
    faiss_file = IndexLayout(index).faiss
    data = faiss_file.read_bytes()
    (size,) = struct.unpack("<I", data[8:12])
    header = json.loads(data[12:12 + size])
    header["ntotal"] += 1
    new = json.dumps(header).encode()
    faiss_file.write_bytes(fx.MAGIC + struct.pack("<I", len(new)) + new + data[12 + size:])
    with pytest.raises(fx.IndexFileError, match="header says"):
        fx.load(faiss_file)
    with IndexStore.open(index) as store:
        assert store.faiss_ntotal == store.manifest.passages


def flat_index(n: int = 50) -> object:
    index = fx.new_index(fx.FLAT, DIM)
    fx.add(index, np.arange(n), unit(n, 3))
    return index


def test_faiss_file_is_streamed_and_reads_back(tmp_path):
    """``save`` streams the payload (a padded header, written last); ``load`` gives it back."""
    import faiss

    path = tmp_path / "faiss.index"
    index = flat_index()
    fx.save(index, fx.FLAT, 7, path)
    header = fx.read_header(path)
    payload = faiss.serialize_index(index).tobytes()
    assert path.read_bytes()[header["offset"]:] == payload
    assert header["payload_bytes"] == len(payload) and header["offset"] == 12 + fx.HEADER_ROOM
    loaded = fx.load(path)
    assert loaded.generation == 7 and loaded.index.ntotal == 50
    assert fx.search(loaded.index, fx.FLAT, unit(1, 3), 1)[1][0, 0] == 0


def test_a_faiss_file_in_the_unpadded_layout_still_reads(tmp_path):
    """Files written before the streamed save (header exactly as long as its JSON)."""
    import zlib

    import faiss

    payload = faiss.serialize_index(flat_index()).tobytes()
    header = json.dumps({"generation": 3, "index_type": fx.FLAT, "ntotal": 50,
                         "payload_bytes": len(payload), "crc32": zlib.crc32(payload)}).encode()
    path = tmp_path / "faiss.index"
    path.write_bytes(fx.MAGIC + struct.pack("<I", len(header)) + header + payload)
    assert fx.load(path).index.ntotal == 50


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:-10], "truncated"),
    (lambda data: data + b"extra", "bytes after its payload"),
    (lambda data: data[:-100] + bytes([data[-100] ^ 1]) + data[-99:], "checksum mismatch"),
])
def test_a_damaged_faiss_payload_is_refused_before_faiss_reads_it(tmp_path, damage, message):
    path = tmp_path / "faiss.index"
    fx.save(flat_index(), fx.FLAT, 1, path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(fx.IndexFileError, match=message):
        fx.load(path)


# -- store.sqlite damaged: one line naming the file and the way out ------------------------------
def overwrite_middle(database: Path) -> None:
    data = bytearray(database.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle:middle + 8 * 4096] = np.random.default_rng(1).bytes(8 * 4096)
    database.write_bytes(bytes(data))


def truncate(database: Path) -> None:
    data = database.read_bytes()
    database.write_bytes(data[:len(data) // 2])


def assert_one_line_naming_the_way_out(exc: IndexStoreError, index: Path) -> None:
    text = str(exc)
    assert "\n" not in text and str(IndexLayout(index).database) in text
    assert "qa index --rebuild" in text and "store.sqlite.damaged-" in text


def test_a_database_damaged_in_the_middle_is_one_clear_error(index):
    overwrite_middle(IndexLayout(index).database)
    with pytest.raises(IndexStoreError) as caught:
        with IndexStore.open(index) as store:
            every_read(store)
    assert_one_line_naming_the_way_out(caught.value, index)


def test_a_truncated_database_is_one_clear_error_on_open(index):
    truncate(IndexLayout(index).database)
    for writable in (False, True):
        with pytest.raises(IndexStoreError) as caught:
            IndexStore.open(index, writable=writable)
        assert_one_line_naming_the_way_out(caught.value, index)
    with pytest.raises(IndexStoreError, match="damaged"):  # the failed open let the lock go
        IndexStore.open(index, writable=True)


def test_qa_ask_on_a_damaged_database_says_how_to_rebuild(index, capsys):
    from qa.cli import main

    truncate(IndexLayout(index).database)
    code = main(["ask", "Who is the UN spokesman?", "--index", str(index)])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1
    assert "qa index --rebuild" in err and "store.sqlite" in err and "Traceback" not in err


@pytest.mark.parametrize("damage", [overwrite_middle, truncate])
def test_recover_lists_the_files_of_a_damaged_database(index, damage):
    damage(IndexLayout(index).database)
    before = IndexLayout(index).database.read_bytes()
    found = recover(index)
    assert [str(f.path) for f in found.files] == sorted(f"/news/f{r}.json" for r in range(COPIES))
    assert all(f.recipe == RECIPE for f in found.files)
    assert found.model == "test-model"
    assert recover_paths(index) == [f.path for f in found.files]
    assert IndexLayout(index).database.read_bytes() == before  # read from a copy


def test_recover_falls_back_to_article_paths(index):
    conn = sqlite3.connect(IndexLayout(index).database)
    conn.execute("DELETE FROM files WHERE path = '/news/f3.json'")
    conn.commit()
    conn.close()
    found = {str(f.path): f.recipe for f in recover(index).files}
    assert len(found) == COPIES and found["/news/f3.json"] is None


def test_set_aside_keeps_the_damaged_file_and_frees_the_folder(index):
    layout = IndexLayout(index)
    (layout.bm25).mkdir()
    (layout.bm25 / "params.json").write_text("{}")
    layout.sentences.write_bytes(b"cache")
    truncate(layout.database)
    damaged = layout.database.read_bytes()
    aside = set_aside(index)
    assert aside.parent == index and aside.name.startswith("store.sqlite.damaged-")
    assert aside.read_bytes() == damaged
    assert not layout.database.exists() and not layout.manifest.exists()
    assert not layout.faiss.exists() and not layout.bm25.exists()
    assert layout.sentences.read_bytes() == b"cache"  # keyed by model and text: still good
    with IndexStore.create(index, model="test-model", dim=DIM, weights_sha256="ab") as store:
        assert store.manifest.articles == 0
    assert aside.exists()


def test_set_aside_after_a_crash_pairs_the_database_with_its_wal(index):
    layout = IndexLayout(index)
    orphan = index / "store.sqlite.damaged-20260101T000000Z-wal"  # renamed before a crash
    orphan.write_bytes(b"wal")
    assert set_aside(index) == index / "store.sqlite.damaged-20260101T000000Z"
    assert not layout.database.exists()


def test_set_aside_waits_for_no_writer(index):
    with IndexStore.open(index, writable=True):
        with pytest.raises(IndexStoreError, match="another process is writing"):
            set_aside(index)
    assert IndexLayout(index).database.exists()


# -- manifest.json is derived: rebuilt when missing or garbage ---------------------------------
@pytest.mark.parametrize("writable", [False, True])
@pytest.mark.parametrize("content", [None, b"garbage", b'{"model": 3}'])
def test_a_missing_or_garbage_manifest_is_rewritten(index, writable, content):
    manifest = IndexLayout(index).manifest
    expected = json.loads(manifest.read_text())
    if content is None:
        manifest.unlink()
    else:
        manifest.write_bytes(content)
    with IndexStore.open(index, writable=writable) as store:
        assert store.manifest.articles == 5 * COPIES
        assert store.search(store.vectors([1]), 1)[1][0, 0] == 1
    assert json.loads(manifest.read_text()) == expected


def test_a_reader_leaves_the_manifest_to_a_running_writer(index):
    manifest = IndexLayout(index).manifest
    with IndexStore.open(index, writable=True):
        manifest.unlink()
        with IndexStore.open(index) as reader:  # cannot take the lock: reads all the same
            assert reader.manifest.passages > 0
        assert not manifest.exists()
    assert manifest.exists()  # the writer writes it on closing


def test_leftovers_do_not_stop_create_but_other_files_do(tmp_path):
    folder = tmp_path / "idx"
    folder.mkdir()
    (folder / ".write.lock").write_text("")
    (folder / "sentences.sqlite").write_bytes(b"")
    (folder / "store.sqlite.damaged-x").write_bytes(b"")
    IndexStore.create(folder, model="m", dim=DIM, weights_sha256="x").close()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(IndexStoreError, match="not empty and not an index"):
        IndexStore.create(other, model="m", dim=DIM, weights_sha256="x")
    assert os.listdir(other) == ["notes.txt"]
