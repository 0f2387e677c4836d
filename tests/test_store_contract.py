"""The passage-store contract, run with the same assertions against both implementations: the
folder store (SQLite + faiss) and Qdrant (``qdrant:PATH``, qdrant-client's local mode): add,
update, prune, files, filters, search results, copy groups, one writer, crash and resume, and
the model mismatch. Real model, real stores."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from corpus import chunk_article, indexed_text
from corpus.models import Article
from embeddings import (
    IndexStore,
    IndexStoreError,
    PassageStore,
    StoreLookup,
    WriteBatch,
    load_encoder,
)
from embeddings.qdrant import create_store, open_store
from qa.engine.lexical import LexicalIndex
from qa.engine.retrieval import Retriever
from qa.indexing.stores import analyzer

ROOT = Path(__file__).resolve().parents[1]
KINDS = ["folder", "qdrant"]

TEXTS = {
    "sport": ("Arsenal agree record transfer fee for striker",
              "Arsenal have agreed a record transfer fee of 90 million pounds for the Norwegian "
              "striker, the club said on Tuesday.\n\nThe striker scored 41 goals last season "
              "and will sign a five-year contract after a medical.\n\nThe manager said the "
              "signing completes the squad for the title race."),
    "climate": ("Glaciers in the Alps lost a tenth of their ice",
                "Swiss glaciers lost ten percent of their remaining ice volume in two years, "
                "scientists reported.\n\nThe melt was driven by a hot summer and a winter with "
                "little snow, the glacier monitoring network said.\n\nResearchers warned that "
                "most Alpine glaciers could vanish by the end of the century."),
    "economy": ("Central bank holds interest rates at 5.25 percent",
                "The central bank kept its main interest rate at 5.25 percent on Thursday, "
                "citing stubborn inflation in services.\n\nThe governor said rate cuts were not "
                "yet on the table while wage growth stayed high.\n\nMarkets had expected the "
                "decision and the pound barely moved."),
    "wire": ("Earthquake shakes coastal towns",
             "A magnitude 6.1 earthquake shook coastal towns early on Sunday, damaging roads "
             "and a harbour wall.\n\nNo deaths were reported, the civil protection agency "
             "said, but hundreds of residents spent the night outdoors."),
}
META = {  # source, site, published, folder
    "sport": ("BBC Sport", None, dt.date(2024, 1, 10), "root/sport"),
    "climate": ("Reuters", "reuters.com", dt.date(2024, 2, 20), "root/world"),
    "economy": (None, "BBC.co.uk", dt.date(2024, 3, 5), "root/world"),
    "wire": ("AP", None, None, "other"),
}


def article(key: str, text: str | None = None, path: str | None = None) -> Article:
    title, body = TEXTS[key]
    body = text or body
    source, site, published, folder = META[key]
    return Article(id=f"id-{key}", title=title, text=body, source=source, site=site,
                   published=published, url=f"https://example.org/{key}",
                   path=path or f"/data/{folder}/{key}.txt",
                   content_hash=hashlib.sha256(body.encode()).hexdigest())


@pytest.fixture(scope="module")
def encoder():
    return load_encoder()


def embedded(encoder, a: Article):
    """Passages, vectors and sentence vectors as ``qa index`` makes them (context header)."""
    passages = chunk_article(a, max_tokens=40, count_tokens=encoder.count_tokens)
    prefix = indexed_text("", a.title, a.source, a.published)
    texts = [prefix + p.text for p in passages]
    spans = [[(s.start - p.start + len(prefix), s.end - p.start + len(prefix))
              for s in p.sentences] for p in passages]
    vectors, sentences = encoder.encode_passages(texts, spans)
    return passages, vectors, sentences


def url(where: Path) -> str:
    return f"qdrant:{where / 'qdrant'}"


def create(kind: str, where: Path, encoder, *, model: str | None = None,
           dim: int | None = None) -> PassageStore:
    model, dim = model or encoder.name, dim or encoder.dim
    sha = encoder.weights_sha256 if model == encoder.name else "other-weights"
    if kind == "folder":
        return IndexStore.create(where / "folder", model=model, dim=dim, weights_sha256=sha)
    return create_store(url(where), model=model, dim=dim, weights_sha256=sha,
                        analyzer=analyzer())


def reopen(kind: str, where: Path, *, writable: bool = False) -> PassageStore:
    if kind == "folder":
        return IndexStore.open(where / "folder", writable=writable)
    return open_store(url(where), writable=writable, analyzer=analyzer())


def add(store: PassageStore, encoder, *articles: Article, sentences: bool = True) -> None:
    with store.batch() as batch:
        for a in articles:
            passages, vectors, sv = embedded(encoder, a)
            batch.upsert(a, passages, vectors, sv if sentences else None)


def passage_ids(store: PassageStore, vids) -> list[str]:
    return [p.id for p in store.passages([int(v) for v in vids if v >= 0])]


@pytest.fixture(params=KINDS)
def kind(request) -> str:
    return request.param


@pytest.fixture
def filled(kind, tmp_path, encoder):
    store = create(kind, tmp_path, encoder)
    add(store, encoder, *(article(k) for k in TEXTS))
    yield store
    store.close()


def test_add_then_read_everything_back(kind, tmp_path, encoder):
    with create(kind, tmp_path, encoder) as store:
        assert isinstance(store, PassageStore)
        gen = store.generation
        a = article("sport")
        passages, vectors, sentences = embedded(encoder, a)
        with store.batch() as batch:
            assert isinstance(batch, WriteBatch)
            batch.upsert(a, passages, vectors, sentences)
            vids = list(batch.added_vids)
        assert isinstance(store.lookup(), StoreLookup)
        assert store.generation == gen + 1
        assert store.counts() == (1, len(passages)) and len(passages) > 1
        assert store.manifest.articles == 1 and store.manifest.passages == len(passages)
        read = store.passages(vids[::-1])
        assert [p.id for p in read] == [p.id for p in passages][::-1]
        assert all(a.text[p.start:p.end] == p.text and p.title == a.title
                   and p.source == "BBC Sport" and p.published == a.published for p in read)
        assert read[-1].sentences == passages[0].sentences
        got = store.vectors(vids)
        assert got.shape == vectors.shape and np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
        assert np.min(np.sum(got * vectors, axis=1)) > 0.999  # int8 codes, as stored
        sv = store.sentence_vectors(vids)
        assert [len(sv[v]) for v in vids] == [len(p.sentences) for p in passages]
        assert store.passages_without_sentence_vectors() == []
        assert store.article(a.id) == a and store.article("nope") is None
        assert sorted(p.vid for p in store.iter_passages()) == sorted(vids)
        with pytest.raises(IndexStoreError, match="no passage with vid"):
            store.vectors([max(vids) + 12345])
    with reopen(kind, tmp_path) as again:  # it persists
        assert again.counts() == (1, len(passages)) and again.generation == gen + 1
        lookup = again.lookup()
        assert lookup.article_meta(a.id)[:2] == (a.content_hash, a.path)
        lookup.close()


def test_sentence_vectors_given_later(kind, tmp_path, encoder):
    with create(kind, tmp_path, encoder) as store:
        a = article("climate")
        add(store, encoder, a, sentences=False)
        todo = store.passages_without_sentence_vectors()
        assert len(todo) == store.counts()[1] and store.sentence_vectors(todo) == {}
        passages = store.passages(todo)
        _, _, sv = embedded(encoder, a)
        with store.batch() as batch:
            batch.set_sentence_vectors(todo, passages, sv)
        assert store.passages_without_sentence_vectors() == []
        assert sorted(store.sentence_vectors(todo)) == sorted(todo)


def test_update_replaces_the_old_version(kind, tmp_path, encoder):
    with create(kind, tmp_path, encoder) as store:
        add(store, encoder, article("sport"), article("climate"))
        old = [p.vid for p in store.iter_passages() if p.article_id == "id-sport"]
        changed = article("sport", text="Chelsea signed a goalkeeper from Brighton on a "
                          "loan deal, the club confirmed.")
        add(store, encoder, changed)
        assert store.passages(old) == []
        with pytest.raises(IndexStoreError):
            store.vectors(old)
        assert store.article("id-sport").text == changed.text
        assert store.counts()[0] == 2
        lexical = LexicalIndex.for_store(store)
        found, _ = lexical.search("goalkeeper Brighton loan", 5)
        assert {p.article_id for p in store.passages(found)} == {"id-sport"}
        assert len(lexical.search("Norwegian medical", 5)[0]) == 0
        moved = changed.model_copy(update={"path": "/data/moved/sport.txt", "site": "bbc.com"})
        with store.batch() as batch:
            batch.update_metadata(moved)
        assert store.article("id-sport").path == "/data/moved/sport.txt"
        assert {p.path for p in store.iter_passages() if p.article_id == "id-sport"} == {
            "/data/moved/sport.txt"}
        assert set(passage_ids(store, store.vids_matching(source="BBC.COM"))) == {
            p.id for p in store.iter_passages() if p.article_id == "id-sport"}


def test_remove_and_file_records(kind, filled):
    store = filled
    with store.batch() as batch:
        for key in TEXTS:
            folder = META[key][3]
            batch.touch_file(f"/data/{folder}/{key}.txt", 100, 7, "recipe")
    lookup = store.lookup()
    assert lookup.file_stamps()["/data/root/sport/sport.txt"] == (100, 7, "recipe")
    assert lookup.count_articles("/data/root/world/climate.txt") == 1
    assert sorted(lookup.articles_under("/data/root")) == [
        ("id-climate", "/data/root/world/climate.txt"),
        ("id-economy", "/data/root/world/economy.txt"),
        ("id-sport", "/data/root/sport/sport.txt")]
    assert sorted(lookup.files_under("/data/root/world")) == [
        "/data/root/world/climate.txt", "/data/root/world/economy.txt"]
    assert lookup.articles_under("/data/roo") == []
    lookup.close()
    before = store.counts()
    gone = [p.vid for p in store.iter_passages() if p.article_id in ("id-sport", "id-wire")]
    with store.batch() as batch:  # as `qa index --prune` does
        assert batch.remove(["id-sport", "id-wire", "id-unknown"]) == 2
        batch.forget_files(["/data/root/sport/sport.txt"])
    assert store.counts() == (before[0] - 2, before[1] - len(gone))
    assert store.passages(gone) == [] and store.article("id-sport") is None
    lookup = store.lookup()
    assert "/data/root/sport/sport.txt" not in lookup.file_stamps()
    assert lookup.article_meta("id-wire") is None
    lookup.close()
    lookup = store.lookup()
    assert "/data/root/world/climate.txt" in lookup.file_stamps()
    lookup.close()
    with store.batch() as batch:  # a batch that only forgets a file is kept too
        batch.forget_files(["/data/root/world/climate.txt"])
    lookup = store.lookup()
    assert "/data/root/world/climate.txt" not in lookup.file_stamps()
    lookup.close()
    lexical = LexicalIndex.for_store(store)
    assert len(lexical.search("earthquake harbour", 5)[0]) == 0
    assert lexical.n_docs == store.counts()[1]


def test_filters_by_source_and_dates(kind, filled):
    store = filled

    def articles_of(vids) -> set[str]:
        return {p.article_id for p in store.passages(vids)}

    assert articles_of(store.vids_matching(source="bbc sport")) == {"id-sport"}
    assert articles_of(store.vids_matching(source="bbc.co.uk")) == {"id-economy"}  # the site
    assert articles_of(store.vids_matching(source="REUTERS.COM")) == {"id-climate"}
    assert articles_of(store.vids_matching(published_from=dt.date(2024, 2, 20))) == {
        "id-climate", "id-economy"}
    assert articles_of(store.vids_matching(published_to=dt.date(2024, 2, 20))) == {
        "id-sport", "id-climate"}
    assert articles_of(store.vids_matching(source="reuters",
                                           published_to=dt.date(2024, 1, 31))) == set()
    assert len(store.vids_matching(source="nobody")) == 0
    assert articles_of(store.vids_matching(published_from=dt.date(2024, 2, 20), undated=True)
                       ) == {"id-climate", "id-economy", "id-wire"}  # "wire" has no date
    assert articles_of(store.vids_matching(source="ap", published_to=dt.date(2024, 1, 31),
                                           undated=True)) == {"id-wire"}
    assert articles_of(store.vids_matching(source="reuters", published_to=dt.date(2024, 1, 31),
                                           undated=True)) == set()
    undated = store.vids_matching(published_to=dt.date(2020, 1, 1), undated=True)
    wire = store.vids_matching(source="ap")
    assert set(undated.tolist()) == set(wire.tolist())  # an undated article, nothing else
    q = store.vectors([undated[0]])
    assert set(store.search(q, 50, allowed=undated)[1][0]) - {-1} == set(wire.tolist())
    allowed = store.vids_matching(published_from=dt.date(2024, 2, 1))
    q = store.vectors([allowed[0]])  # a passage's own vector, as a query
    scores, vids = store.search(q, 50, allowed=allowed)
    assert set(vids[0][vids[0] >= 0]) == set(allowed.tolist())
    assert vids[0][0] == allowed[0] and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    two = np.array(allowed[:2].tolist(), dtype=np.int64)  # a plain list of vids filters too
    assert set(store.search(q, 5, allowed=two)[1][0]) - {-1} == set(two.tolist())
    none = store.vids_matching(source="nobody")
    assert (store.search(q, 3, allowed=none)[1] == -1).all()
    lexical = LexicalIndex.for_store(store)
    found, _ = lexical.search("bank interest rates glaciers striker", 10,
                              allowed=store.vids_matching(source="reuters"))
    assert articles_of(found) == {"id-climate"}


@pytest.mark.parametrize(("query", "expected"), [
    ("Which striker did Arsenal buy?", "id-sport"),
    ("How much ice did Swiss glaciers lose?", "id-climate"),
    ("Did the central bank cut interest rates?", "id-economy"),
    ("Was anyone killed in the earthquake?", "id-wire"),
])
def test_search_results(kind, filled, encoder, query, expected):
    store = filled
    qvec = encoder.encode_query(query)
    scores, vids = store.search(qvec.reshape(1, -1), 3)
    assert store.passages(vids[0][:1])[0].article_id == expected
    assert list(scores[0]) == sorted(scores[0], reverse=True)
    lexical = LexicalIndex.for_store(store)
    retriever = Retriever(store, lexical)
    top = retriever.retrieve(query, qvec, 3)
    assert top[0].passage.article_id == expected and top[0].bm25 > 0
    assert lexical.scores_for([top[0].vid], [])[0] == 0


def test_both_stores_score_alike(tmp_path, encoder):
    """Same articles in both: every passage's cosine and BM25 for a query agree, and so do the
    retrieved passages."""
    stores = {k: create(k, tmp_path, encoder) for k in KINDS}
    try:
        for store in stores.values():
            add(store, encoder, *(article(k) for k in TEXTS))
        for query in ("Arsenal striker transfer fee", "glaciers ice melt summer",
                      "interest rate inflation wages", "earthquake coastal harbour"):
            qvec = encoder.encode_query(query)
            seen = {}
            for k, store in stores.items():
                lexical = LexicalIndex.for_store(store)
                by_id = {p.id: p.vid for p in store.iter_passages()}
                ids = sorted(by_id)
                vids = [by_id[i] for i in ids]
                from qa.engine.terms import terms

                bm25 = lexical.scores_for(vids, terms(query))
                cos = store.vectors(vids) @ qvec
                top = [c.passage.id for c in Retriever(store, lexical).retrieve(query, qvec, 5)]
                seen[k] = (bm25, cos, top, [lexical.idf(t) for t in terms(query)])
            assert np.allclose(seen["folder"][0], seen["qdrant"][0], rtol=1e-4, atol=1e-5)
            assert np.allclose(seen["folder"][1], seen["qdrant"][1], atol=1e-5)
            assert seen["folder"][2] == seen["qdrant"][2]
            assert np.allclose(seen["folder"][3], seen["qdrant"][3])
    finally:
        for store in stores.values():
            store.close()


def test_copy_groups(kind, filled):
    store = filled
    assert store.copy_groups(["id-sport", "id-wire", "nope"]) == {
        "id-sport": "id-sport", "id-wire": "id-wire"}
    assert store.info()["copy_groups"] == 4
    with store.batch() as batch:
        batch.set_copy_group("id-climate", "id-sport")
        batch.set_copy_group("id-economy", "id-sport")
        batch.set_copy_group("id-sport", "id-sport")
    assert store.copy_groups(["id-climate"]) == {"id-climate": "id-sport"}
    assert store.group_members(["id-sport", "id-wire", "nope"]) == {
        "id-sport": ["id-sport", "id-climate", "id-economy"], "id-wire": ["id-wire"]}
    assert store.info()["copy_groups"] == 2
    store.remove(["id-sport"])  # the others take the oldest remaining member as the label
    assert store.copy_groups(["id-climate", "id-economy"]) == {
        "id-climate": "id-climate", "id-economy": "id-climate"}
    assert store.info()["copy_groups"] == 2


def test_one_writer_at_a_time(kind, tmp_path, encoder):
    with create(kind, tmp_path, encoder):
        with pytest.raises(IndexStoreError, match="wait"):
            reopen(kind, tmp_path, writable=True)
        with reopen(kind, tmp_path) as reader:  # readers are welcome
            assert reader.counts() == (0, 0)
    reopen(kind, tmp_path, writable=True).close()  # released on close


def test_a_model_mismatch_is_refused_naming_both(kind, tmp_path, encoder):
    from qa.indexing import index_paths

    create(kind, tmp_path, encoder, model="other-model", dim=8).close()
    where = str(tmp_path / "folder") if kind == "folder" else url(tmp_path)
    seeds = ROOT.parent / "shared" / "seeds"
    with pytest.raises(IndexStoreError) as err:
        index_paths([seeds], where, encoder=encoder)
    message = str(err.value)
    assert "other-model (8-dim" in message and f"{encoder.name} ({encoder.dim}-dim" in message
    with reopen(kind, tmp_path) as store:
        assert store.counts() == (0, 0)


CRASH = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from pathlib import Path

    from embeddings import load_encoder
    from tests.test_store_contract import article, embedded, reopen

    encoder = load_encoder()
    store = reopen({kind!r}, Path({where!r}), writable=True)
    with store.batch() as batch:
        for key in ("economy", "wire"):
            passages, vectors, sv = embedded(encoder, article(key))
            batch.upsert(article(key), passages, vectors, sv)
        print("in batch", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
""")


def test_killed_in_a_batch_then_resumed(kind, tmp_path, encoder):
    """A writer killed (SIGKILL) inside a batch: the next writer finds each article whole or
    absent, redoes the batch, and ends where a clean build ends, BM25 statistics included."""
    with create(kind, tmp_path, encoder) as store:
        add(store, encoder, article("sport"), article("climate"))
        add(store, encoder, article("economy", text="An older version of the economy story "
                                    "about interest rates."))
    code = CRASH.format(root=str(ROOT), kind=kind, where=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == -9 and "in batch" in done.stdout, done.stderr
    with reopen(kind, tmp_path, writable=True) as store:
        for key in ("economy", "wire"):
            a = store.article(f"id-{key}")
            mine = [p for p in store.iter_passages() if p.article_id == f"id-{key}"]
            if a is not None:  # whole: its text's passages, all of them
                assert mine and all(a.text[p.start:p.end] == p.text for p in mine)
                assert len(mine) == len(embedded(encoder, a)[0])
            else:
                assert mine == []
        add(store, encoder, article("economy"), article("wire"))  # the run again
    clean = tmp_path / "clean"
    clean.mkdir()
    with create(kind, clean, encoder) as fresh, reopen(kind, tmp_path) as resumed:
        add(fresh, encoder, *(article(k) for k in ("sport", "climate", "economy", "wire")))
        assert resumed.counts() == fresh.counts()
        ids = sorted(p.id for p in fresh.iter_passages())
        assert sorted(p.id for p in resumed.iter_passages()) == ids
        from qa.engine.terms import terms

        query = terms("interest rates earthquake striker glaciers older version")
        scored = []
        for s in (fresh, resumed):
            lexical = LexicalIndex.for_store(s)
            by_id = {p.id: p.vid for p in s.iter_passages()}
            scored.append(lexical.scores_for([by_id[i] for i in ids], query))
            assert lexical.n_docs == len(ids)
        assert np.allclose(scored[0], scored[1], rtol=1e-4)
