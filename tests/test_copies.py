"""Copy groups with the real model and faiss: a story printed by several outlets (or under
another headline) is one group, another story stays apart, grouping is incremental, and a
removed first article leaves the others grouped."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from corpus import load_file, sample_path
from corpus.models import Article
from embeddings import IndexStore, load_encoder
from qa.indexing import index_paths
from qa.indexing.copies import StoryText, same_story

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def encoder():
    return load_encoder()


@pytest.fixture(scope="module")
def seeds() -> list[Article]:
    files = sorted(sample_path().glob("*.txt"))[:2]
    return [a for f in files for a in load_file(f)]


def record(article: Article, source: str, url: str, title: str | None = None) -> dict:
    return {"title": title or article.title, "source": source, "url": url,
            "published": "2020-02-28", "text": article.text}


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def group_rows(index: Path) -> dict[str, str | None]:
    """``{url: copy_group column}`` as stored (NULL: not compared)."""
    conn = sqlite3.connect(index / "store.sqlite")
    try:
        return dict(conn.execute("SELECT url, copy_group FROM articles"))
    finally:
        conn.close()


def groups_by_url(store: IndexStore) -> dict[str, str]:
    """``{url: url of the group's label article}``."""
    urls = {a.id: a.url for a in store.articles()}
    return {urls[a]: urls[g] for a, g in store.copy_groups(list(urls)).items()}


@pytest.fixture(scope="module")
def built(tmp_path_factory, seeds, encoder):
    """Seed 0 from two outlets and once more under another headline; seed 1 once."""
    root = tmp_path_factory.mktemp("copies")
    first, other = seeds
    write_jsonl(root / "news" / "day1.jsonl", [
        record(first, "Anadolu Agency", "https://aa.example/1"),
        record(other, "Anadolu Agency", "https://aa.example/2"),
        record(first, "Daily Sabah", "https://sabah.example/1"),
        record(first, "Wire Weekly", "https://ww.example/1",
               title="United Nations alarmed as Idlib fighting escalates"),
    ])
    index_paths([root / "news"], root / "index", encoder=encoder)
    return root


def test_copies_of_one_story_form_one_group_and_another_story_stays_apart(built):
    with IndexStore.open(built / "index") as store:
        groups = groups_by_url(store)
        assert groups == {"https://aa.example/1": "https://aa.example/1",
                          "https://sabah.example/1": "https://aa.example/1",
                          "https://ww.example/1": "https://aa.example/1",
                          "https://aa.example/2": "https://aa.example/2"}
        assert store.info()["copy_groups"] == 2
        label = store.copy_groups([a.id for a in store.articles()
                                   if a.url == "https://aa.example/1"])
        (group,) = label.values()
        members = store.group_members([group])[group]
        assert [store.article(m).source for m in members][0] == "Anadolu Agency"
        assert len(members) == 3
    assert None not in group_rows(built / "index").values()  # every article was compared


def test_one_more_copy_joins_incrementally_and_leaves_the_other_rows_alone(built, seeds,
                                                                           encoder):
    before = group_rows(built / "index")
    write_jsonl(built / "news" / "day2.jsonl",
                [record(seeds[0], "Hurriyet Daily News", "https://hdn.example/1")])
    summary = index_paths([built / "news"], built / "index", encoder=encoder)
    assert summary.added == 1 and summary.unchanged == 4
    after = group_rows(built / "index")
    assert {u: g for u, g in after.items() if u in before} == before
    with IndexStore.open(built / "index") as store:
        assert groups_by_url(store)["https://hdn.example/1"] == "https://aa.example/1"
        assert store.info()["copy_groups"] == 2


def test_removing_the_first_article_keeps_the_others_grouped(built):
    with IndexStore.open(built / "index", writable=True) as store:
        first = next(a.id for a in store.articles() if a.url == "https://aa.example/1")
        store.remove([first])
        groups = groups_by_url(store)
        assert groups == {"https://sabah.example/1": "https://sabah.example/1",
                          "https://ww.example/1": "https://sabah.example/1",
                          "https://hdn.example/1": "https://sabah.example/1",
                          "https://aa.example/2": "https://aa.example/2"}
        assert first not in set(store.copy_groups([a.id for a in store.articles()]).values())
        assert store.group_members([first]) == {}
        assert store.info()["copy_groups"] == 2


def test_an_index_built_without_groups_is_grouped_by_the_next_run(tmp_path, seeds, encoder):
    """As an index migrated from schema 2: every article not compared yet (NULL); the next
    `qa index` compares them although no file changed."""
    write_jsonl(tmp_path / "news" / "a.jsonl", [
        record(seeds[0], "Anadolu Agency", "https://aa.example/1"),
        record(seeds[1], "Anadolu Agency", "https://aa.example/2"),
        record(seeds[0], "Daily Sabah", "https://sabah.example/1")])
    index_paths([tmp_path / "news"], tmp_path / "index", encoder=encoder, copies=False)
    assert set(group_rows(tmp_path / "index").values()) == {None}
    with IndexStore.open(tmp_path / "index") as store:
        assert store.info()["copy_groups"] == 3  # each its own group meanwhile
    summary = index_paths([tmp_path / "news"], tmp_path / "index", encoder=encoder)
    assert summary.added == 0
    with IndexStore.open(tmp_path / "index") as store:
        assert groups_by_url(store)["https://sabah.example/1"] == "https://aa.example/1"
        assert store.info()["copy_groups"] == 2
    assert None not in group_rows(tmp_path / "index").values()


def test_same_story_needs_the_text_the_lede_and_a_headline_the_text_bears(seeds):
    first, other = seeds
    assert same_story(StoryText.of(first), StoryText.of(first)) == pytest.approx(1.0)
    assert same_story(StoryText.of(first), StoryText.of(other)) == 0.0
    # a page saved under an unrelated headline (a paywall, a registration form) is no story
    wall = first.model_copy(update={"title": "Quarterly gardening almanac returns"})
    assert same_story(StoryText.of(first), StoryText.of(wall)) == 0.0
    # the same lede with a different rest of the text is another article
    half = len(first.text) // 3
    spliced = first.model_copy(update={"text": first.text[:half] + other.text})
    assert same_story(StoryText.of(first), StoryText.of(spliced)) == 0.0
