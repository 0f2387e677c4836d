"""The streamed BM25 build gives bm25s's own matrix (the same scores for every query), with
the same document frequencies, and survives a save and load."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import indexed_text
from qa.engine.lexical import K1, B, LexicalIndex, _bm25s
from qa.engine.terms import terms

WORDS = ["bank", "rates", "inflation", "Kyiv", "talks", "the", "ceasefire", "won", "vote",
         "storm", "quake", "7.8", "minister", "resigned", "élection", "Zürich"]
texts = st.lists(st.sampled_from(WORDS), max_size=30).map(" ".join)


def bm25s_build(items: list[tuple[int, str]]) -> tuple[object, dict[str, int]]:
    """What LexicalIndex.build did before: bm25s.index over the token lists."""
    docs = [terms(text) for _, text in items]
    df: dict[str, int] = {}
    for doc in docs:
        for t in set(doc):
            df[t] = df.get(t, 0) + 1
    bm25 = _bm25s().BM25(k1=K1, b=B)
    bm25.index([d or [""] for d in docs], show_progress=False)
    return bm25, df


@settings(max_examples=60, deadline=None)
@given(st.lists(texts, min_size=1, max_size=25), st.lists(texts, min_size=1, max_size=5))
def test_the_streamed_build_scores_as_bm25s_does(corpus, queries):
    items = [(100 + 3 * i, text) for i, text in enumerate(corpus)]
    index = LexicalIndex.build(items)
    reference, df = bm25s_build(items)
    assert index.df == df and index.n_docs == len(items)
    assert index.vids.tolist() == [vid for vid, _ in items]
    for query in queries + [" ".join(WORDS)]:
        ids = reference.get_tokens_ids(terms(query))
        want = (np.asarray(reference.get_scores(ids), np.float32) if ids
                else np.zeros(len(items), np.float32))
        np.testing.assert_allclose(index.scores(terms(query)), want, rtol=1e-6, atol=1e-7)


def test_a_built_index_saves_and_loads(tmp_path):
    items = [(1, "the bank raised rates"), (2, ""), (3, "talks on a ceasefire in Kyiv"),
             (4, "the bank held rates as inflation fell")]
    index = LexicalIndex.build(items)
    index._save(tmp_path / "bm25", {"format": 1, "generation": 1})
    loaded = LexicalIndex._load(tmp_path / "bm25", {"format": 1, "generation": 1})
    assert loaded is not None and loaded.df == index.df
    for query in ("bank rates", "Kyiv", "nothing here"):
        assert index.search(query, 3)[0].tolist() == loaded.search(query, 3)[0].tolist()
    assert index.search("bank rates", 3)[0].tolist()[:2] == [1, 4]


def test_an_empty_corpus_builds():
    index = LexicalIndex.build([])
    assert index.n_docs == 0 and index.search("bank", 5)[0].size == 0


class Passages:
    """What LexicalIndex._updated asks of a store: the vids, and passages by vid."""

    def __init__(self, texts: dict[int, str]) -> None:
        self.texts = texts

    def vids_matching(self) -> np.ndarray:
        return np.array(sorted(self.texts), dtype=np.int64)

    def passages(self, vids):
        return [SimpleNamespace(vid=v, text=self.texts[v], title="", source=None, published=None)
                for v in vids]


@settings(max_examples=60, deadline=None)
@given(st.lists(texts, min_size=1, max_size=20), st.lists(texts, max_size=10),
       st.data())
def test_an_index_brought_up_to_date_scores_as_one_built_anew(before, added, data):
    """Passages removed and added since an index was saved: updating it gives what building
    it again from all of today's passages gives (the same weights, frequencies and order)."""
    items = {10 + i: indexed_text(t, "", None, None) for i, t in enumerate(before)}
    saved = LexicalIndex.build(sorted(items.items()))
    gone = data.draw(st.sets(st.sampled_from(sorted(items))))
    now = {v: t for v, t in items.items() if v not in gone}
    now.update({1000 + i: indexed_text(t, "", None, None) for i, t in enumerate(added)})
    if not now:
        return
    updated = saved._updated(Passages(now))
    anew = LexicalIndex.build(sorted(now.items()))
    assert updated is not None
    assert updated.df == anew.df and updated.vids.tolist() == anew.vids.tolist()
    assert updated.lengths.tolist() == anew.lengths.tolist()
    for query in WORDS + [" ".join(WORDS)]:
        np.testing.assert_allclose(updated.scores(terms(query)), anew.scores(terms(query)),
                                   rtol=1e-6, atol=1e-7)


def test_updates_chain_through_saves(tmp_path):
    """Saved, loaded and updated twice: still the index built anew."""
    now = {1: "the bank raised rates", 2: "talks on a ceasefire in Kyiv", 3: ""}
    index = LexicalIndex.build(sorted(now.items()))
    for step, change in enumerate([{4: "the storm hit Zürich", 1: None},
                                   {5: "rates rose as the bank said", 3: None}]):
        index._save(tmp_path / "bm25", {"format": 1, "generation": step})
        index = LexicalIndex._load(tmp_path / "bm25", {"format": 1, "generation": step})
        for vid, text in change.items():
            if text is None:
                del now[vid]
            else:
                now[vid] = text
        index = index._updated(Passages(now))
    anew = LexicalIndex.build(sorted(now.items()))
    assert index.df == anew.df
    for query in ("bank rates", "storm", "Kyiv ceasefire"):
        np.testing.assert_allclose(index.scores(terms(query)), anew.scores(terms(query)),
                                   rtol=1e-6)


def test_an_index_saved_without_lengths_is_built_anew():
    index = LexicalIndex.build([(1, "the bank raised rates")])
    index.lengths = None  # as saved before passage lengths were
    assert index._updated(Passages({1: "the bank raised rates"})) is None


def test_a_damaged_lengths_file_means_built_anew(tmp_path, caplog):
    index = LexicalIndex.build([(1, "the bank raised rates"), (2, "a storm hit")])
    index._save(tmp_path / "bm25", {"format": 1, "generation": 1})
    (tmp_path / "bm25" / "lengths.npy").write_bytes(b"not numpy")
    assert LexicalIndex._load(tmp_path / "bm25", {"format": 1, "generation": 1}) is None
    assert "damaged" in caplog.text and "rebuilding" in caplog.text
    np.save(tmp_path / "bm25" / "lengths.npy", np.array([3], dtype=np.int32))  # one too few
    assert LexicalIndex._load(tmp_path / "bm25", {"format": 1, "generation": 1}) is None
